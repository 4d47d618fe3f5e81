/**
 * npm run soak [-- --minutes 10 --warmup-minutes M --sample-seconds 5 --json ...]  (--help lists all)
 *
 * Runs the service in-process for a while, as deployed: two real-time cameras (an RTSP
 * stream from the project's gst-rtsp-server test camera and a looped file), one WebSocket
 * client that reads everything and one that reads a message a second (real TCP
 * backpressure). Samples memory, file descriptors, event-loop lag, frame counters,
 * reconnects and ffmpeg processes, fits RSS growth after a warm-up, and prints a table.
 * It judges nothing: the exit status is non-zero only when the run itself broke.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Counter } from 'prom-client';
import { startApp, type App } from '../../src/app.js';
import { configSchema, PACKAGE_ROOT, parseConfig } from '../../src/config/index.js';

const SERVER_DEFAULTS = configSchema.parse({}).server;
import { rtspServerUnavailable, startRtspServer, type RtspServer } from '../../test/helpers/rtspServer.js';
import { FastClient, SlowClient } from './clients.js';
import { LEVEL_NAMES, LogSink } from './logSink.js';
import { countByComm, descendants, linearFit, memory, openFds, type ChildProcessInfo } from './processStats.js';

const SHARED = join(PACKAGE_ROOT, '../shared');
const USAGE = `npm run soak -- [options]
  --minutes N              run length, fractions allowed (default 10)
  --warmup-minutes N       samples before this are left out of the RSS fit
                           (default: 20 % of the run, at least min(1 min, half the run))
  --sample-seconds N       sampling interval (default 5)
  --progress-seconds N     progress line interval (default 30)
  --slow-interval-ms N     the slow client reads one message per this many ms (default 1000)
  --rtsp-clip PATH         H.264 mp4 the RTSP camera serves (default urban_intersection_cctv.mp4)
  --file-clip PATH         clip of the file camera, looped (default urban_road_topdown_opencv4nodejs.mp4)
  --rtsp-restart           serve the RTSP clip as it is, so the stream ends at every clip end and
                           the camera reconnects (soaks the reconnect path); by default the clip is
                           remuxed (no re-encoding) into a loop long enough for the whole run
                           (a file in $TMPDIR, about 6 MB per minute of run, removed at the end)
  --model PATH             ONNX model (default ../shared/models/yolov8n-seg-320.onnx)
  --threads N              onnxruntime intra-op threads (default: cores)
  --max-buffered-kib N     server's maxBufferedBytes per client, KiB (default ${SERVER_DEFAULTS.maxBufferedBytes / 1024})
  --slow-client-timeout-s N  server's slowClientTimeoutMs, s (default ${SERVER_DEFAULTS.slowClientTimeoutMs / 1000})
  --log PATH               append the service's log (JSON lines) to PATH
  --log-level LEVEL        service log level (default info)
  --csv PATH               write every sample to PATH
  --json                   also print a one-line JSON summary at the end`;

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      'warmup-minutes': { type: 'string' },
      'sample-seconds': { type: 'string', default: '5' },
      'progress-seconds': { type: 'string', default: '30' },
      'slow-interval-ms': { type: 'string', default: '1000' },
      'rtsp-clip': { type: 'string', default: join(SHARED, 'data/videos/urban_intersection_cctv.mp4') },
      // Not urban_street_overhead_cvTrafficCam.mp4: ffmpeg cannot seek it to the start
      // ('Seek to start failed.'), so -stream_loop ends it after one pass.
      'file-clip': { type: 'string', default: join(SHARED, 'data/videos/urban_road_topdown_opencv4nodejs.mp4') },
      'rtsp-restart': { type: 'boolean', default: false },
      model: { type: 'string', default: join(SHARED, 'models/yolov8n-seg-320.onnx') },
      threads: { type: 'string', default: String(availableParallelism()) },
      'max-buffered-kib': { type: 'string' },
      'slow-client-timeout-s': { type: 'string' },
      log: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      csv: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
}
try {
  parsed = parse();
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const args = parsed.values;
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

function num(name: string, value: string | undefined, min: number, int = false): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isFinite(v) || v < min || (int && !Number.isInteger(v))) {
    console.error(`--${name} must be ${int ? 'an integer' : 'a number'} >= ${min}, got '${value}'\n\n${USAGE}`);
    process.exit(2);
  }
  return v;
}
const RUN_S = num('minutes', args.minutes, 0.05)! * 60;
const WARMUP_MIN = num('warmup-minutes', args['warmup-minutes'], 0);
const WARMUP_S = Math.min(RUN_S, WARMUP_MIN !== undefined ? WARMUP_MIN * 60 : Math.max(0.2 * RUN_S, Math.min(60, 0.5 * RUN_S)));
const SAMPLE_S = num('sample-seconds', args['sample-seconds'], 0.2)!;
const PROGRESS_S = num('progress-seconds', args['progress-seconds'], 0)!;
const SLOW_INTERVAL_MS = num('slow-interval-ms', args['slow-interval-ms'], 1)!;
const THREADS = num('threads', args.threads, 1, true)!;
const MAX_BUFFERED_KIB = num('max-buffered-kib', args['max-buffered-kib'], 1, true);
const SLOW_TIMEOUT_S = num('slow-client-timeout-s', args['slow-client-timeout-s'], 0.001);
const CAMERAS = ['rtsp', 'file'] as const;

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const signed = (x: number, digits = 1): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(digits)}` : 'n/a');
const ms = (ns: number): number => ns / 1e6;
const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

interface Sample {
  /** s since the clients connected. */
  t: number;
  rssMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  fds: number;
  /** Event-loop delay over this sample's interval, ms. */
  lagP99Ms: number;
  lagMaxMs: number;
  /** CPU of this process over the interval, % of one core. */
  cpuPct: number;
  cameras: Record<string, { in: number; processed: number; dropped: number; restarts: number; state: string }>;
  fastMessages: number;
  slowMessages: number;
  wsClients: number;
  wsSkipped: number;
  children: Record<string, number>;
}

interface TimelineEvent {
  /** Date.now(). */
  at: number;
  who: string;
  what: string;
}

/** Processes below this one, less tsx's own esbuild service (not part of the service). */
function serviceChildren(): ChildProcessInfo[] {
  return descendants().filter((p) => p.comm !== 'esbuild');
}

const kib = (bytes: number): string => (bytes >= 1024 * 1024 ? `${f1(bytes / 1024 / 1024)} MiB` : `${f1(bytes / 1024)} KiB`);

async function byCamera(c: Counter<'camera'>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const v of (await c.get()).values) out.set(String(v.labels.camera), v.value);
  return out;
}

async function single(c: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, label?: [string, string]): Promise<number> {
  const values = (await c.get()).values;
  return values.filter((v) => !label || v.labels[label[0]] === label[1]).reduce((n, v) => n + v.value, 0);
}

function clipSeconds(path: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  const s = Number(out.trim());
  if (!(s > 0)) throw new Error(`ffprobe found no duration in ${path}: '${out.trim()}'`);
  return s;
}

// ---------------------------------------------------------------------------------------
// Set-up. Anything failing here means the run broke: clean up and exit 1.

const ortVersion = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const tmp = mkdtempSync(join(tmpdir(), 'segstream-soak-'));
const sink = new LogSink(args.log);
const log = pino({ level: args['log-level'], base: { service: 'segstream' } }, sink);
let rtsp: RtspServer | undefined;
let app: App | undefined;
const fastClient: { c?: FastClient } = {};
const slowClient: { c?: SlowClient } = {};
const timeline: TimelineEvent[] = [];
const TIMELINE_MAX = 500;
let t0 = performance.now();
const clock = (): number => (performance.now() - t0) / 1000;
const wallToT = (at: number): number => (at - (Date.now() - (performance.now() - t0))) / 1000;
function event(who: string, what: string, at = Date.now()): void {
  if (timeline.length < TIMELINE_MAX) timeline.push({ at, who, what });
}

async function broke(what: string, err: unknown): Promise<never> {
  console.error(`soak: ${what}: ${err instanceof Error ? err.message : String(err)}`);
  await fastClient.c?.stop();
  await slowClient.c?.stop();
  await app?.close();
  await rtsp?.stop();
  rmSync(tmp, { recursive: true, force: true });
  for (const e of sink.counts(40).slice(0, 10)) console.error(`  log: ${e.example}`);
  process.exit(1);
}

const unavailable = rtspServerUnavailable();
if (unavailable) await broke('the RTSP test camera cannot run here', unavailable);

let rtspFile = args['rtsp-clip'];
let loops = 1;
try {
  if (!args['rtsp-restart']) {
    // Remux (no re-encoding) the clip into one long enough for the run plus start-up and
    // shutdown, so the RTSP stream does not end: a reconnect then means something broke.
    loops = Math.ceil((RUN_S + 120) / clipSeconds(args['rtsp-clip']));
    rtspFile = join(tmp, `rtsp-x${loops}.mp4`);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-stream_loop', String(loops - 1), '-i', args['rtsp-clip'], '-an', '-c', 'copy', '-movflags', '+faststart', rtspFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  rtsp = await startRtspServer({ file: rtspFile, mount: '/soak' });
} catch (err) {
  await broke('could not start the RTSP test camera', err);
}

const rtspWhat = args['rtsp-restart'] ? `${basename(args['rtsp-clip'])}, ends at each clip end` : `${basename(args['rtsp-clip'])} x${loops} remuxed`;
console.log(
  `segstream soak: ${f2(RUN_S / 60)} min (warm-up ${f2(WARMUP_S / 60)} min), a sample every ${SAMPLE_S} s; ` +
    `cameras rtsp=${rtsp!.url} (gst-rtsp-server, ${rtspWhat}) and file=${basename(args['file-clip'])} (looped, real time); ` +
    `clients: one reading everything, one reading a message every ${SLOW_INTERVAL_MS} ms; ` +
    `${basename(args.model)}, ${THREADS} onnxruntime threads, ${availableParallelism()} cores (${cpu}), onnxruntime-node ${ortVersion}, Node ${process.versions.node}, ` +
    `MALLOC_MMAP_THRESHOLD_=${process.env['MALLOC_MMAP_THRESHOLD_'] ?? 'unset'}`,
);

const before = { ...memory(), fds: openFds() };
try {
  const config = parseConfig({
    cameras: [
      { id: 'rtsp', url: rtsp!.url },
      { id: 'file', url: args['file-clip'] },
    ],
    inference: { model: args.model, threads: THREADS },
    server: {
      host: '127.0.0.1',
      port: 0,
      ...(MAX_BUFFERED_KIB !== undefined ? { maxBufferedBytes: MAX_BUFFERED_KIB * 1024 } : {}),
      ...(SLOW_TIMEOUT_S !== undefined ? { slowClientTimeoutMs: Math.max(1, Math.round(SLOW_TIMEOUT_S * 1000)) } : {}),
    },
    ingest: { realtime: true, loop: true },
  });
  app = await startApp(config, { log });
} catch (err) {
  await broke('the app failed to start', err);
}
const theApp = app!;
for (const cam of theApp.cameras.list()) {
  cam.status$.subscribe((st) => {
    if ((st.state !== 'streaming' && st.state !== 'connecting') || st.restarts > 0) event(`camera ${st.camera}`, `${st.state}${st.error ? ` ${st.error.code}: ${st.error.message}` : ''} (restarts ${st.restarts})`);
  });
}
try {
  fastClient.c = new FastClient(`ws://127.0.0.1:${theApp.address.port}/ws`);
  slowClient.c = new SlowClient(theApp.address.port, SLOW_INTERVAL_MS);
  await fastClient.c.start();
  await slowClient.c.start();
} catch (err) {
  await broke('a WebSocket client could not connect', err);
}
const fast = fastClient.c!;
const slow = slowClient.c!;

// ---------------------------------------------------------------------------------------
// The run: a sample every SAMPLE_S, a progress line every PROGRESS_S, until RUN_S or Ctrl-C.

t0 = performance.now();
const lagAll = monitorEventLoopDelay({ resolution: 10 });
const lagInterval = monitorEventLoopDelay({ resolution: 10 });
let lagSteady: IntervalHistogram | undefined;
lagAll.enable();
lagInterval.enable();
let cpuMark = { usage: process.cpuUsage(), at: performance.now() };
let interrupted = false;
let wake: (() => void) | undefined;
process.once('SIGINT', () => {
  interrupted = true;
  console.log('soak: interrupted, finishing up (Ctrl-C again to quit at once)');
  process.once('SIGINT', () => process.exit(130));
  wake?.();
});

// The server disconnects a slow client on its own; the metric tells when, and the slow
// reader then drains what the kernel still holds for it to see the end from its side.
let serverDrops = 0;
const dropPoll = setInterval(() => {
  void single(theApp.metrics.clientErrors, ['code', 'E_CLIENT_SLOW']).then((n) => {
    while (serverDrops < n) {
      serverDrops++;
      event('server', `disconnected a client that stopped reading (E_CLIENT_SLOW #${serverDrops})`);
      slow.serverDropped(Date.now());
    }
  });
}, 500);
const fastClosesSeen = { n: 0 };
const slowClosesSeen = { n: 0 };
function clientEvents(): void {
  for (; fastClosesSeen.n < fast.closes.length; fastClosesSeen.n++) {
    const c = fast.closes[fastClosesSeen.n]!;
    event('fast client', `closed ${c.code}${c.reason ? ` ${c.reason}` : ''}${c.byClient ? ' (by the soak)' : ', reconnecting'}`, c.at);
  }
  for (; slowClosesSeen.n < slow.closes.length; slowClosesSeen.n++) {
    const c = slow.closes[slowClosesSeen.n]!;
    const how = c.how === 'close-frame' ? `close frame ${c.code ?? '(no code)'}${c.reason ? ` ${c.reason}` : ''}` : c.how === 'eof' ? 'stream ended without a close frame (a ws client reports 1006)' : `socket error ${c.error ?? ''}`;
    const drained = c.drained > 0 ? ` (${c.drained} of them drained at full speed after the server reported the drop)` : '';
    event('slow client', `${how}; ${c.messages} messages read${drained}${c.byClient ? '; closed by the soak' : '; reconnecting'}`, c.at);
  }
}

const samples: Sample[] = [];
if (args.csv) writeFileSync(args.csv, '');
async function takeSample(): Promise<Sample> {
  const t = clock();
  const now = performance.now();
  const usage = process.cpuUsage(cpuMark.usage);
  const cpuPct = ((usage.user + usage.system) / 1000 / Math.max(1, now - cpuMark.at)) * 100;
  cpuMark = { usage: process.cpuUsage(), at: now };
  const [fin, processed, dropped, restarts] = await Promise.all([theApp.metrics.framesIn, theApp.metrics.framesProcessed, theApp.metrics.framesDropped, theApp.metrics.sourceRestarts].map(byCamera));
  const cameras: Sample['cameras'] = {};
  const states = new Map(theApp.cameras.list().map((cam) => [cam.id, cam.status.state]));
  for (const c of CAMERAS) cameras[c] = { in: fin!.get(c) ?? 0, processed: processed!.get(c) ?? 0, dropped: dropped!.get(c) ?? 0, restarts: restarts!.get(c) ?? 0, state: states.get(c) ?? '?' };
  const s: Sample = {
    t,
    ...memory(),
    fds: openFds(),
    lagP99Ms: lagInterval.count > 0 ? ms(lagInterval.percentile(99)) : NaN,
    lagMaxMs: lagInterval.count > 0 ? ms(lagInterval.max) : NaN,
    cpuPct,
    cameras,
    fastMessages: fast.messages,
    slowMessages: slow.messages,
    wsClients: await single(theApp.metrics.wsClients),
    wsSkipped: await single(theApp.metrics.wsSkipped),
    children: countByComm(serviceChildren()),
  };
  lagInterval.reset();
  if (args.csv) {
    const row = [f1(s.t), f2(s.rssMiB), f2(s.heapUsedMiB), f2(s.externalMiB), s.fds, f2(s.lagP99Ms), f2(s.lagMaxMs), f1(s.cpuPct), ...CAMERAS.flatMap((c) => [cameras[c]!.in, cameras[c]!.processed, cameras[c]!.dropped, cameras[c]!.restarts]), s.fastMessages, s.slowMessages, s.wsClients, s.wsSkipped, s.children['ffmpeg'] ?? 0, s.children['ffprobe'] ?? 0, s.children['python3'] ?? 0, Object.keys(s.children).filter((k) => k.endsWith('(zombie)')).reduce((n, k) => n + s.children[k]!, 0)];
    if (samples.length === 0) {
      appendFileSync(args.csv, ['t_s', 'rss_mib', 'heap_used_mib', 'external_mib', 'fds', 'lag_p99_ms', 'lag_max_ms', 'cpu_pct', ...CAMERAS.flatMap((c) => [`${c}_in`, `${c}_processed`, `${c}_dropped`, `${c}_restarts`]), 'fast_messages', 'slow_messages', 'ws_clients', 'ws_skipped', 'ffmpeg', 'ffprobe', 'python3', 'zombies'].join(',') + '\n');
    }
    appendFileSync(args.csv, row.join(',') + '\n');
  }
  return s;
}

function progress(s: Sample): void {
  const cams = CAMERAS.map((c) => `${c} ${s.cameras[c]!.processed}/${s.cameras[c]!.dropped}`).join(' ');
  const restarts = CAMERAS.reduce((n, c) => n + s.cameras[c]!.restarts, 0);
  const kids = Object.entries(s.children).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  console.log(
    `[${f1(s.t).padStart(7)} s] rss ${f1(s.rssMiB)} MiB, heap ${f1(s.heapUsedMiB)} MiB | fds ${s.fds} | lag p99 ${f1(s.lagP99Ms)} ms | ` +
      `processed/dropped ${cams} | source restarts ${restarts} | ws msgs fast ${s.fastMessages}, slow ${s.slowMessages} (connections ${slow.connections}), skipped ${s.wsSkipped} | ` +
      `children: ${kids} | cpu ${Math.round(s.cpuPct)} %`,
  );
}

let nextProgress = 0;
for (let i = 0; ; i++) {
  const s = await takeSample();
  samples.push(s);
  clientEvents();
  if (!lagSteady && s.t >= WARMUP_S) {
    lagSteady = monitorEventLoopDelay({ resolution: 10 });
    lagSteady.enable();
  }
  const last = interrupted || s.t >= RUN_S - 0.05;
  // Timers fire on the loop's ms clock: a sample due at 5 s may read 4.999 s.
  if (PROGRESS_S > 0 && (s.t >= nextProgress - 0.1 || last)) {
    progress(s);
    while (nextProgress <= s.t + 0.1) nextProgress += PROGRESS_S;
  }
  if (last) break;
  const due = Math.min((i + 1) * SAMPLE_S, RUN_S);
  await new Promise<void>((resolve) => {
    const t = setTimeout(done, Math.max(0, (due - clock()) * 1000));
    function done(): void {
      clearTimeout(t);
      resolve();
    }
    wake = done;
  });
}
const runS = clock();

// ---------------------------------------------------------------------------------------
// Shutdown: clients, app, RTSP camera; then check that no child process is left.

clearInterval(dropPoll);
lagAll.disable();
lagInterval.disable();
lagSteady?.disable();
await fast.stop();
await slow.stop();
clientEvents();
const closeT0 = performance.now();
const appClosed = await Promise.race([theApp.close().then(() => true), sleep(30_000).then(() => false)]);
const closeMs = performance.now() - closeT0;
if (!appClosed) event('soak', 'app.close() did not finish within 30 s');
await rtsp!.stop();
let left: ChildProcessInfo[] = serviceChildren();
for (let i = 0; i < 50 && left.length > 0; i++) {
  await sleep(100);
  left = serviceChildren();
}
rmSync(tmp, { recursive: true, force: true });
const after = { ...memory(), fds: openFds() };
await sink.close();

// ---------------------------------------------------------------------------------------
// Report.

const first = samples[0]!;
const end = samples[samples.length - 1]!;
const steady = samples.filter((s) => s.t >= WARMUP_S);
const fitOf = (ys: (s: Sample) => number) => linearFit(steady.map((s) => s.t / 3600), steady.map(ys));
const rssFit = fitOf((s) => s.rssMiB);
const heapFit = fitOf((s) => s.heapUsedMiB);
const fdFit = fitOf((s) => s.fds);
const meanRss = steady.reduce((n, s) => n + s.rssMiB, 0) / Math.max(1, steady.length);
const range = (xs: number[]): string => (xs.length ? `${f1(Math.min(...xs))} - ${f1(Math.max(...xs))}` : 'n/a');
const intRange = (xs: number[]): string => (xs.length ? `${Math.min(...xs)} - ${Math.max(...xs)}` : 'n/a');
const childRange = (comm: string): string => intRange(samples.map((s) => s.children[comm] ?? 0));
const zombies = Math.max(0, ...samples.map((s) => Object.entries(s.children).filter(([k]) => k.endsWith('(zombie)')).reduce((n, [, v]) => n + v, 0)));
const atWarmup = steady[0] ?? end;
const steadyS = end.t - atWarmup.t;
const totalProcessed = CAMERAS.reduce((n, c) => n + end.cameras[c]!.processed, 0);
const slowReconnects = Math.max(0, slow.connections - 1);
const fastReconnects = Math.max(0, fast.connections - 1);
const growth = (fit: ReturnType<typeof linearFit>, unit: string): string =>
  fit ? `${signed(fit.slope)} ${unit}/h (+-${f1(fit.slopeStdErr)}, ${fit.n} samples)` : `n/a (${steady.length} sample(s) after warm-up)`;
const typesOf = (m: Map<string, number>): string => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

console.log('');
console.log('| measure | value |');
console.log('|---|---|');
console.log(`| run | ${f2(runS / 60)} min${interrupted ? ' (interrupted)' : ''}, warm-up ${f2(WARMUP_S / 60)} min; ${samples.length} samples, ${steady.length} after warm-up |`);
for (const c of CAMERAS) {
  const e = end.cameras[c]!;
  const rate = steadyS > 0 ? (e.processed - atWarmup.cameras[c]!.processed) / steadyS : NaN;
  console.log(`| camera ${c}: frames in / processed / dropped | ${e.in} / ${e.processed} / ${e.dropped} (${f1(rate)} fps processed after warm-up); state at the end: ${e.state} |`);
}
console.log(`| source reconnects (sourceRestarts metric; 'reconnecting' status messages seen) | ${CAMERAS.map((c) => `${c} ${end.cameras[c]!.restarts}`).join(', ')} (${CAMERAS.map((c) => `${c} ${fast.reconnecting.get(c) ?? 0}`).join(', ')}) |`);
console.log(`| fast client: messages received | ${fast.messages} (${typesOf(fast.types)}); frames ${CAMERAS.map((c) => `${c} ${fast.frames.get(c) ?? 0}`).join(', ')}; ${kib(fast.bytes)} |`);
console.log(`| fast client: connections (reconnects) | ${fast.connections} (${fastReconnects}) |`);
console.log(`| fast client: latency capture -> received, p50 / p99 | ${fast.latencyMs.count ? `${fast.latencyMs.percentile(50)} / ${fast.latencyMs.percentile(99)} ms` : 'n/a'} |`);
console.log(`| slow client: messages read | ${slow.messages} (${typesOf(slow.types)}); ${kib(slow.bytes)}; oldest frame read ${f1(slow.maxFrameAgeMs / 1000)} s after capture |`);
console.log(`| slow client: disconnected by the server (E_CLIENT_SLOW) / connections (reconnects) | ${slow.serverDrops.length} / ${slow.connections} (${slowReconnects})${slow.drainsWithoutEnd ? `; ${slow.drainsWithoutEnd} server drop(s) did not end this client's connection` : ''} |`);
console.log(`| server: messages skipped for full client buffers | ${end.wsSkipped} |`);
console.log(`| RSS before start / at start / end / after close | ${f1(before.rssMiB)} / ${f1(first.rssMiB)} / ${f1(end.rssMiB)} / ${f1(after.rssMiB)} MiB |`);
console.log(`| RSS after warm-up: mean, min - max | ${f1(meanRss)}, ${range(steady.map((s) => s.rssMiB))} MiB |`);
console.log(`| **RSS growth after warm-up (least squares)** | **${growth(rssFit, 'MiB')}${rssFit ? `, ${signed((rssFit.slope / meanRss) * 100, 2)} % of mean RSS per h` : ''}** |`);
console.log(`| heapUsed at start / end; growth after warm-up | ${f1(first.heapUsedMiB)} / ${f1(end.heapUsedMiB)} MiB; ${growth(heapFit, 'MiB')} |`);
console.log(`| open fds before start / at start / end / after close (min - max during run) | ${before.fds} / ${first.fds} / ${end.fds} / ${after.fds} (${intRange(samples.map((s) => s.fds))}); growth ${growth(fdFit, 'fds')} |`);
console.log(`| child processes alive during run, min - max | ffmpeg ${childRange('ffmpeg')}, ffprobe ${childRange('ffprobe')}, python3 ${childRange('python3')}, zombies max ${zombies} |`);
console.log(`| child processes left after close | ${left.length ? left.map((p) => `${p.comm} ${p.pid} (${p.state})`).join(', ') : 'none'} |`);
console.log(`| event-loop lag p50 / p99 / max, whole run | ${f1(ms(lagAll.percentile(50)))} / ${f1(ms(lagAll.percentile(99)))} / ${f1(ms(lagAll.max))} ms |`);
// The first sample has no interval (NaN): the worst is picked among the others.
const worstLag = samples.filter((s) => Number.isFinite(s.lagMaxMs)).reduce<Sample | undefined>((w, s) => (!w || s.lagMaxMs > w.lagMaxMs ? s : w), undefined);
const worstLagText = worstLag ? `max ${f1(worstLag.lagMaxMs)} ms in the sample ending at ${f1(worstLag.t)} s` : 'n/a';
console.log(`| event-loop lag p99 after warm-up; worst sample's p99; worst sample's max | ${lagSteady && lagSteady.count > 0 ? f1(ms(lagSteady.percentile(99))) : 'n/a'} ms; ${f1(Math.max(...samples.map((s) => s.lagP99Ms).filter(Number.isFinite)))} ms; ${worstLagText} |`);
console.log(`| CPU of this process, mean over samples | ${Math.round(samples.slice(1).reduce((n, s) => n + s.cpuPct, 0) / Math.max(1, samples.length - 1))} % of one core |`);
console.log(`| app.close() | ${appClosed ? `${Math.round(closeMs)} ms` : 'did not finish within 30 s'} |`);
const logLevels = [...sink.byLevel].sort((a, b) => a[0] - b[0]).map(([l, n]) => `${LEVEL_NAMES[l] ?? l} ${n}`).join(', ');
console.log(`| service log entries (level ${args['log-level']} and above) | ${logLevels || 'none'}${args.log ? ` (in ${args.log})` : ''} |`);

const warnings = sink.counts(40);
if (warnings.length > 0) {
  console.log('');
  console.log('| service warnings and errors | count | first at |');
  console.log('|---|---|---|');
  for (const w of warnings.slice(0, 20)) {
    const what = `${LEVEL_NAMES[w.level] ?? w.level}: ${w.msg}${w.code ? ` [${w.code}]` : ''}${w.camera ? ` (camera ${w.camera})` : ''}`;
    console.log(`| ${what} | ${w.count} | ${f1(wallToT(w.first))} s |`);
  }
  if (warnings.length > 20) console.log(`| ... ${warnings.length - 20} more kinds | | |`);
}
if (timeline.length > 0) {
  console.log('');
  console.log('| t (s) | who | what |');
  console.log('|---|---|---|');
  const shown = [...timeline].sort((a, b) => a.at - b.at);
  for (const e of shown.slice(0, 40)) console.log(`| ${f1(wallToT(e.at))} | ${e.who} | ${e.what.replace(/\|/g, '/')} |`);
  if (shown.length > 40) console.log(`| ... | | ${shown.length - 40} more events |`);
}

const exitCode = totalProcessed === 0 ? 1 : 0;
if (exitCode !== 0) console.error('soak: no frame was processed at all: the run broke');
for (const c of CAMERAS) if (end.cameras[c]!.processed === 0) console.error(`soak: camera ${c} had no frame processed`);

if (args.json) {
  console.log(
    JSON.stringify({
      runMinutes: runS / 60,
      warmupMinutes: WARMUP_S / 60,
      interrupted,
      samples: samples.length,
      samplesAfterWarmup: steady.length,
      cameras: Object.fromEntries(CAMERAS.map((c) => [c, { ...end.cameras[c]!, statusReconnecting: fast.reconnecting.get(c) ?? 0 }])),
      fastClient: { messages: fast.messages, types: Object.fromEntries(fast.types), connections: fast.connections, closes: fast.closes, latencyP50Ms: fast.latencyMs.count ? fast.latencyMs.percentile(50) : null, latencyP99Ms: fast.latencyMs.count ? fast.latencyMs.percentile(99) : null },
      slowClient: { messages: slow.messages, types: Object.fromEntries(slow.types), connections: slow.connections, serverDrops: slow.serverDrops.map(wallToT), closes: slow.closes.map((c) => ({ ...c, t: wallToT(c.at) })), maxFrameAgeMs: slow.maxFrameAgeMs },
      wsSkipped: end.wsSkipped,
      rssMiB: { before: before.rssMiB, start: first.rssMiB, end: end.rssMiB, afterClose: after.rssMiB, meanAfterWarmup: meanRss, growthPerHour: rssFit?.slope ?? null, growthPerHourStdErr: rssFit?.slopeStdErr ?? null, growthPctPerHour: rssFit ? (rssFit.slope / meanRss) * 100 : null },
      heapUsedMiB: { start: first.heapUsedMiB, end: end.heapUsedMiB, growthPerHour: heapFit?.slope ?? null },
      fds: { before: before.fds, start: first.fds, end: end.fds, afterClose: after.fds, min: Math.min(...samples.map((s) => s.fds)), max: Math.max(...samples.map((s) => s.fds)) },
      eventLoopLagMs: { p50: ms(lagAll.percentile(50)), p99: ms(lagAll.percentile(99)), max: ms(lagAll.max), p99AfterWarmup: lagSteady && lagSteady.count > 0 ? ms(lagSteady.percentile(99)) : null },
      children: { ffmpegMax: Math.max(...samples.map((s) => s.children['ffmpeg'] ?? 0)), zombiesMax: zombies, leftAfterClose: left },
      appCloseMs: appClosed ? closeMs : null,
      log: { byLevel: Object.fromEntries([...sink.byLevel].map(([l, n]) => [LEVEL_NAMES[l] ?? String(l), n])), warnings: warnings.map(({ example: _e, ...w }) => w) },
      timeline: timeline.map(({ at, ...e }) => ({ t: wallToT(at), ...e })),
      exitCode,
    }),
  );
}
process.exit(exitCode);
