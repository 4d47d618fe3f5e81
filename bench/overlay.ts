/**
 * npm run bench:overlay [-- --seconds 10 --clip path --model path]
 *
 * The WHEP video's costs, each against a baseline measured in the same run:
 * - the display output in ffmpeg (scale + I420 conversion + fd 3 pipe), ms per frame, at
 *   640x480 and 1280x720, against the same ffmpeg without it;
 * - overlay drawing per frame (p50/p95) at both sizes, on the main thread (the pure
 *   function) and through the overlay worker (what the service does);
 * - the whole service with one camera in real time: CPU (service process and its ffmpeg)
 *   and capture -> WebRTC send latency with WHEP off (baseline), on with 0, 1 and 4 viewers
 *   (the viewers decode in a child process of their own).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { firstValueFrom, take, toArray } from 'rxjs';
import { startApp, type VideoFrameSent } from '../src/app.js';
import { PACKAGE_ROOT, parseConfig } from '../src/config/index.js';
import { Detections, type DisplayFrame } from '../src/core/index.js';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec } from '../src/ingest/index.js';
import { drawScene, OverlayDrawer, sceneOf, type OverlayScene } from '../src/overlay/index.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    frames: { type: 'string', default: '300' },
    clip: { type: 'string', default: join(PACKAGE_ROOT, '../shared/data/videos/urban_intersection_cctv.mp4') },
    model: { type: 'string', default: join(PACKAGE_ROOT, '../shared/models/yolov8n-seg-320.onnx') },
  },
});
const SECONDS = Number(args.seconds);
const FRAMES = Number(args.frames);
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const TICK_MS = 1000 / 100; // Linux clock ticks (USER_HZ) in /proc stat, ms

const dir = mkdtempSync(join(tmpdir(), 'segstream-bench-overlay-'));
const clip720 = join(dir, 'clip720.mp4');
execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', args.clip, '-t', '12', '-vf', 'scale=1280:720', '-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip720]);

/** ffmpeg decode (+ display output) of FRAMES frames read as fast as possible, ms per frame; the display frames too. */
async function decode(url: string, displayMaxWidth: number): Promise<{ msPerFrame: number; displays: DisplayFrame[] }> {
  const src = new CameraSource(parseSourceSpec(url, 0), { ...DEFAULT_SOURCE_OPTIONS, realtime: false, modelWidth: 320, modelHeight: 320, displayMaxWidth });
  const displays: DisplayFrame[] = [];
  src.display$.subscribe((d) => displays.length < 30 && displays.push(d));
  const done = firstValueFrom(src.frames$.pipe(take(FRAMES), toArray()));
  const t0 = performance.now();
  src.start();
  const frames = await done;
  const ms = (performance.now() - t0) / frames.length;
  await src.stop();
  return { msPerFrame: ms, displays };
}

/** A scene like a busy road: 12 objects, masks filling ~60% of their boxes, 2 of them targets. */
function syntheticScene(w: number, h: number): OverlayScene {
  const n = 12;
  const boxes = new Float32Array(n * 4);
  const masks = [];
  for (let i = 0; i < n; i++) {
    const bw = Math.round(w * 0.12);
    const bh = Math.round(h * 0.12);
    const x = Math.round(((i % 4) + 0.5) * (w / 4.5));
    const y = Math.round((Math.floor(i / 4) + 0.5) * (h / 3.5));
    boxes.set([x, y, x + bw, y + bh], i * 4);
    const data = new Uint8Array(bw * bh);
    for (let yy = 0; yy < bh; yy++) for (let xx = 0; xx < bw; xx++) data[yy * bw + xx] = (xx - bw / 2) ** 2 / (bw / 2) ** 2 + (yy - bh / 2) ** 2 / (bh / 2) ** 2 < 0.78 ? 1 : 0;
    masks.push({ x, y, width: bw, height: bh, data });
  }
  const dets = new Detections({ boxes, scores: new Float32Array(n).fill(0.8), classIds: Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 2)), trackIds: Int32Array.from({ length: n }, (_, i) => i + 1), masks });
  return sceneOf(dets, ['person', 'bicycle', 'car'], new Map([[1, 1], [6, 2]]), w, h);
}

async function drawCosts(displays: DisplayFrame[], drawer: OverlayDrawer): Promise<{ main: number[]; worker: number[]; workerRoundTrip: number[] }> {
  const d0 = displays[0]!;
  const scene = syntheticScene(d0.srcWidth, d0.srcHeight);
  const main: number[] = [];
  const worker: number[] = [];
  const workerRoundTrip: number[] = [];
  for (let i = 0; i < 200; i++) {
    const d = displays[i % displays.length]!;
    const img = { width: d.width, height: d.height, data: new Uint8Array(d.data) };
    const t0 = performance.now();
    drawScene(img, scene);
    if (i >= 20) main.push(performance.now() - t0);
  }
  for (let i = 0; i < 200; i++) {
    const d = displays[i % displays.length]!;
    const t0 = performance.now();
    const { drawMs } = await drawer.draw({ ...d, data: new Uint8Array(d.data) }, scene);
    if (i >= 20) {
      workerRoundTrip.push(performance.now() - t0);
      worker.push(drawMs);
    }
  }
  return { main, worker, workerRoundTrip };
}

/** CPU time of a process so far (/proc/<pid>/stat utime + stime), ms. */
function procCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

interface ServiceRun {
  label: string;
  cpuService: number;
  cpuFfmpeg: number;
  processedFps: number;
  video: VideoFrameSent[];
  published: number[];
  viewerFrames: number[];
}

async function service(label: string, whep: boolean, viewers: number): Promise<ServiceRun> {
  const config = parseConfig({
    cameras: [{ id: 'cam', url: args.clip, loop: true }],
    inference: { model: args.model },
    server: { host: '127.0.0.1', port: 0, whep },
    ingest: { realtime: true },
  });
  const app = await startApp(config);
  const cam = app.cameras.require('cam');
  await new Promise((r) => setTimeout(r, 2000));
  let child: ReturnType<typeof spawn> | undefined;
  let result: Promise<number[]> = Promise.resolve([]);
  if (viewers > 0) {
    child = spawn(process.execPath, ['--import', 'tsx', join(PACKAGE_ROOT, 'bench/whepViewers.ts'), String(app.address.port), 'cam', String(viewers), String(SECONDS + 3)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const ready = new Promise<void>((resolve) => {
      result = new Promise((done) => {
        lines.on('line', (l) => {
          const m = JSON.parse(l) as { ready?: boolean; statuses?: number[]; frames?: number[] };
          if (m.ready) resolve();
          if (m.frames) done(m.frames);
        });
      });
    });
    await ready;
    // The encoders settle in.
    await new Promise((r) => setTimeout(r, 2000));
  }
  const video: VideoFrameSent[] = [];
  const sub = app.video$.subscribe((v) => video.push(v));
  const published: number[] = [];
  const sub2 = app.published$.subscribe((p) => published.push(p.latencyMs));
  const pid = cam.source!.ffmpegPid!;
  const c0 = process.cpuUsage();
  const f0 = procCpuMs(pid);
  const p0 = cam.framesProcessed;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuFfmpeg = (procCpuMs(pid) - f0) / wall;
  const processedFps = ((cam.framesProcessed - p0) * 1000) / wall;
  sub.unsubscribe();
  sub2.unsubscribe();
  const viewerFrames = await result;
  await app.close();
  return { label, cpuService: (c.user + c.system) / 1000 / wall, cpuFfmpeg, processedFps, video, published, viewerFrames };
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`segstream overlay bench: ${availableParallelism()} cores (${cpu}), ${SECONDS} s per service run, ${args.clip.split('/').pop()} (640x480) and a 1280x720 copy`);
const drawer = new OverlayDrawer();
const rows: string[] = [];
const drawRows: string[] = [];
for (const [name, url, maxW] of [
  ['640x480', args.clip, 1280],
  ['1280x720', clip720, 1280],
] as const) {
  const base = await decode(url, 0);
  const withDisplay = await decode(url, maxW);
  const base2 = await decode(url, 0);
  const b = (base.msPerFrame + base2.msPerFrame) / 2;
  rows.push(`| ${name} | ${f2(b)} | ${f2(withDisplay.msPerFrame)} | ${f2(withDisplay.msPerFrame - b)} | ${f2(withDisplay.msPerFrame / b)} |`);
  const costs = await drawCosts(withDisplay.displays, drawer);
  drawRows.push(`| ${name} | ${f2(pct(costs.main, 50))} / ${f2(pct(costs.main, 95))} | ${f2(pct(costs.worker, 50))} / ${f2(pct(costs.worker, 95))} | ${f2(pct(costs.workerRoundTrip, 50))} / ${f2(pct(costs.workerRoundTrip, 95))} |`);
}
await drawer.close();

// Shared machines drift: the four set-ups alternate, `rounds` times; figures are medians.
const SETUPS = [
  ['WHEP off (baseline)', false, 0],
  ['WHEP on, 0 viewers', true, 0],
  ['WHEP on, 1 viewer', true, 1],
  ['WHEP on, 4 viewers', true, 4],
] as const;
const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const byRound: ServiceRun[][] = SETUPS.map(() => []);
for (let r = 0; r < Number(args.rounds); r++) {
  for (const [i, [label, whep, n]] of SETUPS.entries()) byRound[i]!.push(await service(label, whep, n));
}
const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const med = (xs: number[]): number => pct(xs, 50);
const runs: ServiceRun[] = byRound.map((rs) => ({
  label: rs[0]!.label,
  cpuService: med(rs.map((x) => x.cpuService)),
  cpuFfmpeg: med(rs.map((x) => x.cpuFfmpeg)),
  processedFps: med(rs.map((x) => x.processedFps)),
  video: rs.flatMap((x) => x.video),
  published: rs.flatMap((x) => x.published),
  viewerFrames: rs.flatMap((x) => x.viewerFrames),
}));
rmSync(dir, { recursive: true, force: true });

console.log('');
console.log('| display output in ffmpeg (decode -> scale -> I420 -> fd 3), ms per frame | without | with | cost | ratio |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log('');
console.log('| overlay drawing, 12 objects with masks, ms p50 / p95 | main thread (drawScene) | overlay worker (drawing) | overlay worker (round trip, transfer both ways) |');
console.log('|---|---|---|---|');
for (const r of drawRows) console.log(r);
console.log('');
const base = runs[0]!;
console.log(`| one camera, 640x480 at 30 fps, real time (medians of ${args.rounds} rounds; load average ${load0} before, ${load1} after) | service CPU (cores) | ratio | service CPU per segmented frame (ms) | ffmpeg CPU (cores) | ratio | frames segmented /s | capture -> WebSocket publish p50 / p95 ms | capture -> WebRTC send p50 / p95 ms | frames each viewer decoded |`);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of runs) {
  const lat = r.video.map((v) => v.latencyMs);
  console.log(`| ${r.label} | ${f2(r.cpuService)} | ${f2(r.cpuService / base.cpuService)} | ${f1((r.cpuService * 1000) / r.processedFps)} | ${f2(r.cpuFfmpeg)} | ${f2(r.cpuFfmpeg / base.cpuFfmpeg)} | ${f1(r.processedFps)} | ${f1(pct(r.published, 50))} / ${f1(pct(r.published, 95))} | ${lat.length ? `${f1(pct(lat, 50))} / ${f1(pct(lat, 95))}` : '-'} | ${r.viewerFrames.join(', ') || '-'} |`);
}
process.exit(0);
