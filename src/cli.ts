#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { startApp, type App } from './app.js';
import { segmentCommand } from './segmentCommand.js';
import { startStatusTable } from './statusTable.js';
import {
  CameraStateStore,
  DEFAULT_MODEL_PATHS,
  DEFAULT_SOURCE,
  defaultModelPath,
  mergeConfig,
  parseConfig,
  readCameraState,
  readConfigFile,
  resolveCameras,
  statePathFor,
  configSchema,
  type Config,
} from './config/index.js';
import { createLogger, INFERENCE_DEVICES, isSegstreamError, SegstreamError, type Logger } from './core/index.js';
import { parseSourceSpec } from './ingest/index.js';
import { defaultEventsDbPath } from './events/index.js';
import { ClusterNode, NatsBroker, readNkeySeed, startGateway } from './cluster/index.js';
import { hostname } from 'node:os';
import { readModelFile } from './pipeline/index.js';
import { DEFAULT_MOT_FPS, motCommand } from './tracking/index.js';

const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`'${v}' is not a number`);
  return n;
};
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/**
 * The built-in demo's zone: its whole picture (640x480), so the dashboard shows road events out
 * of the box: a vehicle stopped 10 s, a person present 2 s.
 */
const DEMO_ZONES = [
  {
    name: 'road',
    polygon: [[0, 0], [640, 0], [640, 480], [0, 480]],
    rules: [
      { kind: 'stopped', classes: ['car', 'truck', 'bus', 'motorcycle'], seconds: 10 },
      { kind: 'presence', classes: ['person'], seconds: 2 },
    ],
  },
];

/** The defaults every flag shows in --help: the schema's own. */
const DEFAULTS: Config = configSchema.parse({});

/** `run` options that set one numeric configuration field each: flag, field path, help. */
const NUMERIC_OPTIONS: readonly [flag: string, path: string, help: string][] = [
  ['-p, --port <n>', 'server.port', 'HTTP/WebSocket port (0 = any free port)'],
  ['--workers <n>', 'inference.workers', 'inference worker threads, each its own onnxruntime session (0: one per core up to 4 on the CPU, 1 on a GPU)'],
  ['--threads <n>', 'inference.threads', 'onnxruntime intra-op threads per worker (0: the cores divided among the workers)'],
  ['--batch <n>', 'inference.batch', 'largest inference batch across cameras (clipped to a static-batch model)'],
  ['--batch-wait <ms>', 'inference.batchWaitMs', 'a free worker waits up to this long for other cameras\' frames to fill its batch, ms'],
  ['--conf <x>', 'inference.confidence', 'confidence threshold'],
  ['--iou <x>', 'inference.iou', 'NMS IoU threshold'],
  ['--max-det <n>', 'inference.maxDetections', 'most objects per frame'],
  ['--inference-max-width <px>', 'ingest.inferenceMaxWidth', 'sources wider than this are scaled down (area) before the letterbox, px'],
  ['--track-high <x>', 'tracking.highScore', 'tracker: detections at or above this score match first and may start tracks'],
  ['--track-new <x>', 'tracking.newScore', 'tracker: least score to start a new track (>= --track-high)'],
  ['--track-max-age <s>', 'tracking.maxAge', 'tracker: seconds (media time) a lost track is kept for re-identification'],
  ['--target-memory <s>', 'tracking.targetMemory', 'seconds a prompted target is kept while its object is unseen, to be re-acquired; then target.ended'],
  ['--network-timeout <s>', 'ingest.networkTimeoutS', 'socket/read timeout for network sources, s'],
  ['--stall-timeout <s>', 'ingest.stallTimeoutS', 'restart a source that sends nothing for this long (connecting included), s'],
  ['--reconnect-min <ms>', 'ingest.reconnectMinMs', 'wait before reconnecting a failed source, ms (doubles once it has been down for --fast-retry-window)'],
  ['--reconnect-max <ms>', 'ingest.reconnectMaxMs', 'longest wait between reconnects, ms'],
  ['--fast-retry-window <ms>', 'ingest.fastRetryWindowMs', 'a source down for less than this is retried every --reconnect-min ms before the wait doubles, ms'],
  ['--max-message-bytes <n>', 'server.maxMessageBytes', 'largest client message accepted, bytes'],
  ['--max-buffered-bytes <n>', 'server.maxBufferedBytes', 'a client with more unsent than this misses frame messages, bytes'],
  ['--slow-client-timeout <ms>', 'server.slowClientTimeoutMs', 'a client missing frames this long is disconnected (1008), ms'],
  ['--slow-client-close-grace <ms>', 'server.slowClientCloseGraceMs', 'a disconnected slow client may still read its queued messages and the 1008 close this long, ms'],
  ['--max-clients <n>', 'server.maxClients', 'most open WebSocket connections; more are refused with HTTP 503 E_TOO_MANY_CLIENTS'],
];

/** Broker options of `node` and `gateway`: option key -> configuration field. */
const BROKER_FLAGS: readonly [key: string, path: string][] = [
  ['broker', 'broker.url'],
  ['brokerUser', 'broker.user'],
  ['brokerPassword', 'broker.password'],
  ['brokerToken', 'broker.token'],
  ['brokerNkey', 'broker.nkeySeedFile'],
  ['brokerPrefix', 'broker.prefix'],
  ['leaseTtl', 'broker.leaseTtlS'],
  ['name', 'broker.name'],
  ['capacity', 'broker.capacity'],
  ['requestTimeout', 'broker.requestTimeoutMs'],
];

/** The broker options every cluster command takes; credentials also from the environment, never logged. */
function brokerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--broker <url>', 'the NATS broker with JetStream, nats://host:4222 (comma-separated for several servers)').env('SEGSTREAM_BROKER'))
    .addOption(new Option('--broker-user <user>', 'broker user name (with --broker-password)').env('SEGSTREAM_BROKER_USER'))
    .addOption(new Option('--broker-password <password>', 'broker password').env('SEGSTREAM_BROKER_PASSWORD'))
    .addOption(new Option('--broker-token <token>', 'broker token').env('SEGSTREAM_BROKER_TOKEN'))
    .addOption(new Option('--broker-nkey <file>', 'file holding an NKey seed (SU...) to authenticate with').env('SEGSTREAM_BROKER_NKEY'))
    .option('--broker-prefix <name>', 'subjects, buckets and the event stream are named from it (one broker, several clusters)', DEFAULTS.broker.prefix)
    .option('--lease-ttl <s>', "a dead node's cameras move after this long, s (the first node or gateway to create the lease bucket sets it)", num, DEFAULTS.broker.leaseTtlS);
}

/** Connects to the configured broker (E_CONFIG without --broker). */
async function connectBroker(config: Config, name: string, log: Logger): Promise<NatsBroker> {
  const b = config.broker;
  if (b.url === undefined) throw new SegstreamError('E_CONFIG', 'invalid configuration: broker.url: a cluster command needs --broker nats://host:4222 (or SEGSTREAM_BROKER)', { expected: 'nats://host:port' });
  return NatsBroker.connect({
    url: b.url,
    name,
    log,
    ...(b.user !== undefined ? { user: b.user } : {}),
    ...(b.password !== undefined ? { password: b.password } : {}),
    ...(b.token !== undefined ? { token: b.token } : {}),
    ...(b.nkeySeedFile !== undefined ? { nkeySeed: readNkeySeed(b.nkeySeedFile) } : {}),
  });
}

/** SIGINT / SIGTERM end the process through `close`; a second signal within a second is the same Ctrl-C. */
function onShutdown(log: Logger, close: () => Promise<void>): void {
  let since: number | undefined;
  const stop = (signal: string): void => {
    if (since !== undefined) {
      if (Date.now() - since < 1000) return;
      log.warn({ signal }, 'shutdown did not finish: exiting now');
      process.exit(1);
    }
    since = Date.now();
    log.info({ signal }, 'shutting down');
    void close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => stop(s));
}

/**
 * `--device <list>`, for every command that runs the model: its value is checked by
 * parseDeviceList (through parseConfig for `run`: E_CONFIG naming inference.device).
 */
function deviceOption(): Option {
  return new Option(
    '--device <list>',
    `inference devices in order of preference, comma-separated, of ${INFERENCE_DEVICES.join(', ')}: the first that works runs; cuda,cpu falls back to the CPU when CUDA cannot be used (logged, shown in hello and /metrics); CUDA and TensorRT need onnxruntime-node's CUDA build (README, GPU)`,
  ).default(DEFAULTS.inference.device);
}

/** '--max-det <n>' -> 'maxDet', as commander names the option. */
function camel(flag: string): string {
  const long = flag.split(/[ ,]+/).find((p) => p.startsWith('--'))!.slice(2).replace(/^no-/, '');
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys.at(-1)!] = value;
}

/**
 * The configuration `segstream run` starts with: the file (if any), then every flag given on
 * the command line over it; with neither a file nor a --source, the built-in demo clip, looped.
 * Throws E_CONFIG / E_SOURCE_REFUSED naming the field, before anything starts.
 */
function runConfig(run: Command, opts: Record<string, unknown>, mode: 'run' | 'node' = 'run'): Config {
  const given = (key: string): boolean => run.getOptionValueSource(key) === 'cli' || run.getOptionValueSource(key) === 'env';
  const over: Record<string, unknown> = {};
  for (const [flag, path] of NUMERIC_OPTIONS) if (given(camel(flag))) setPath(over, path, opts[camel(flag)]);
  const flags: [key: string, path: string, value: (v: unknown) => unknown][] = [
    ['model', 'inference.model', (v) => v],
    ['host', 'server.host', (v) => v],
    ['fast', 'ingest.realtime', () => false],
    ['loop', 'ingest.loop', () => true],
    ['motionGate', 'ingest.motionGate.enabled', () => true],
    ['mediaRoot', 'ingest.mediaRoots', (v) => v],
    ['tlsVerify', 'ingest.tlsVerify', (v) => v !== false],
    ['tlsCaFile', 'ingest.tlsCaFile', (v) => v],
    ['agnosticNms', 'inference.agnosticNms', () => true],
    ['tracking', 'tracking.enabled', (v) => v !== false],
    ['trackCameraMotion', 'tracking.cameraMotion', () => true],
    ['device', 'inference.device', (v) => v],
    ['token', 'server.token', (v) => v],
    ['allowOrigin', 'server.allowOrigins', (v) => v],
    ['allowHost', 'server.allowHosts', (v) => v],
    ['tlsCert', 'server.tlsCert', (v) => v],
    ['tlsKey', 'server.tlsKey', (v) => v],
    ['eventsDb', 'events.db', (v) => v],
  ];
  for (const [key, path, value] of flags) if (given(key)) setPath(over, path, value(opts[key]));
  const clipParts = [opts['clipImage'], opts['clipText'], opts['clipMerges']];
  if (clipParts.some((p) => p !== undefined) && clipParts.some((p) => p === undefined)) {
    throw new SegstreamError('E_CONFIG', '--clip-image, --clip-text and --clip-merges go together', { expected: 'all three', actual: clipParts.filter(Boolean).length });
  }
  if (opts['clipImage'] !== undefined) {
    setPath(over, 'inference.clip', { image: opts['clipImage'], text: opts['clipText'], merges: opts['clipMerges'], ...(opts['clipVocab'] === undefined ? {} : { vocab: opts['clipVocab'] }) });
  }
  if (given('webhook')) setPath(over, 'events.webhook.url', opts['webhook']);
  const sources = opts['source'] as string[] | undefined;
  if (sources) over['cameras'] = sources.map((s, i) => {
    const { id, url } = parseSourceSpec(s, i);
    return { id, url };
  });
  const file = opts['config'] as string | undefined;
  const base = file === undefined ? {} : readConfigFile(file);
  const raw = mergeConfig(base, over) as Record<string, unknown>;
  // The secret (flag or SEGSTREAM_WEBHOOK_SECRET) signs a webhook's requests; without a webhook it has nothing to sign.
  if (given('webhookSecret') && getPath(raw, 'events.webhook.url') !== undefined) setPath(raw, 'events.webhook.secret', opts['webhookSecret']);
  for (const [key, path] of BROKER_FLAGS) if (given(key)) setPath(raw, path, opts[key]);
  if (mode === 'node') {
    // A node's cameras come from the cluster's pool; its history is the broker's stream.
    raw['cameras'] = [];
    if (!given('port') && getPath(raw, 'server.port') === undefined) setPath(raw, 'server.port', 0);
    const cfg = withModel(parseConfig(raw));
    return cfg;
  }
  if (file === undefined && !sources) raw['cameras'] = [{ id: 'cam0', url: DEFAULT_SOURCE, ...(given('loop') ? {} : { loop: true }), zones: DEMO_ZONES }];
  const cfg = withModel(parseConfig(raw));
  // The history outlives the run: under the user's data directory unless one is named.
  return cfg.events.db === undefined ? { ...cfg, events: { ...cfg.events, db: defaultEventsDbPath() } } : cfg;
}

/** The configuration with its model path filled in (the first default that exists) when it names none. */
function withModel(config: Config): Config {
  return config.inference.model === undefined ? { ...config, inference: { ...config.inference, model: defaultModelPath() } } : config;
}

function statePath(opts: Record<string, unknown>): string | undefined {
  const explicit = opts['stateFile'] as string | undefined;
  if (explicit !== undefined) return explicit;
  const file = opts['config'] as string | undefined;
  return file === undefined ? undefined : statePathFor(file);
}

function reportFatal(log: Logger, err: unknown): void {
  if (isSegstreamError(err)) {
    log.fatal({ code: err.code, expected: err.expected, actual: err.actual }, err.message);
    process.stderr.write(`segstream: ${err.code}: ${err.message}\n`);
  } else {
    log.fatal({ err }, 'start-up failed');
    process.stderr.write(`segstream: ${(err as Error).message}\n`);
  }
  process.exitCode = 2;
  log.flush();
}

/** The options of every command that runs the pipeline (`run`, `node`): sources' rules, model, inference, server. */
function pipelineOptions(cmd: Command): Command {
  cmd
    .option('-m, --model <path>', `YOLOv8/YOLO11-seg or FastSAM ONNX export (default: first of ${DEFAULT_MODEL_PATHS.join(', ')})`)
    .option('--host <addr>', 'address to listen on', DEFAULTS.server.host)
    .addOption(new Option('--token <secret>', 'access token every endpoint but /healthz, /readyz and the dashboard files (/, /assets/) requires (Authorization: Bearer <secret>, or ?token=<secret>)').env('SEGSTREAM_TOKEN'))
    .addOption(new Option('--allow-origin <origin>', "browser origin allowed besides the server's own (https://wall.example.org), repeatable; other origins get 403").argParser(collect))
    .addOption(new Option('--allow-host <name>', 'without --token: a host name the server answers to besides IP addresses and localhost (against DNS rebinding), repeatable').argParser(collect))
    .option('--tls-cert <pem>', 'certificate (chain) to serve HTTPS and WSS on the same port (with --tls-key)')
    .option('--tls-key <pem>', 'private key for --tls-cert')
    .option('--fast', 'read files as fast as possible instead of at their own frame rate')
    .option('--loop', 'restart files when they end (on by default for the built-in demo clip)')
    .option('--motion-gate', "every camera's default: skip inference while its picture does not change (frames published with the last result's objects, flagged gated; ingest.motionGate, cameras[].motionGate)")
    .addOption(new Option('--media-root <dir>', 'local file sources must lie in this directory (after resolving links); repeatable; default: any file').argParser(collect))
    .option('--no-tls-verify', 'do not verify the certificates of https:// and rtmps:// sources (verified against the system CA store by default); also allows rtsps://, which ffmpeg cannot verify')
    .option('--tls-ca-file <path>', 'PEM CA certificates to verify TLS sources against instead of the system store')
    .option('--agnostic-nms', 'class-agnostic NMS, as FastSAM everything mode')
    .option('--no-tracking', 'do not follow objects across frames (no ids, no prompts)')
    .option('--track-camera-motion', 'tracker: compensate camera shake and pans (moving cameras, dashcams)')
    .addOption(deviceOption())
    .option('--events-db <path>', `the road event history, SQLite (events.db; default ${defaultEventsDbPath().replace(process.env['HOME'] ?? '\u0000', '~')})`)
    .option('--webhook <url>', 'POST every road event message (start, update, end) as JSON to this http(s) URL (events.webhook.url); retried with backoff, never blocks the pipeline')
    .addOption(new Option('--webhook-secret <secret>', 'sign webhook requests: x-segstream-signature: sha256=HMAC(secret, timestamp.body) (docs/webhook.md)').env('SEGSTREAM_WEBHOOK_SECRET'))
    .option('--clip-image <path>', 'CLIP image encoder (ONNX) for text prompts')
    .option('--clip-text <path>', 'CLIP text encoder (ONNX) for text prompts')
    .option('--clip-merges <path>', 'CLIP BPE merges file (bpe_simple_vocab_16e6.txt[.gz])')
    .option('--clip-vocab <path>', 'optional Hugging Face vocab.json matching the merges')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace, silent', process.env['SEGSTREAM_LOG_LEVEL'] ?? 'info');
  // Numeric options: flag -> config field; the defaults shown are the schema's.
  for (const [flag, path, help] of NUMERIC_OPTIONS) cmd.option(flag, help, num, getPath(DEFAULTS, path) as number);
  return cmd;
}

export function buildCli(): Command {
  const program = new Command('segstream')
    .description('Real-time video instance segmentation (YOLOv8-seg / FastSAM) streamed as COCO RLE masks over WebSocket.')
    .showHelpAfterError();

  const run = program
    .command('run')
    .description('Segment live sources and serve results: the dashboard at GET /, GET /healthz, /readyz, /metrics, /api/cameras (GET, POST, PATCH, DELETE), WebSocket /ws (docs/protocol.md).')
    .option('-c, --config <file>', 'configuration file, YAML or JSON (docs/config.md); flags given here override it; SIGHUP reloads it')
    .option('--state-file <path>', 'where cameras changed through /api/cameras are kept (default: <config>.state.json beside --config; without either, for this run only)')
    .addOption(
      new Option(
        '-s, --source <[id=]url>',
        'camera source, repeatable (replaces the file\'s cameras): a file path, rtsp://, rtmp://, http(s):// (HLS, MJPEG, files) or /dev/videoN; optional id= prefix names the camera (default cam0, cam1, ...)',
      ).argParser(collect),
    );
  pipelineOptions(run);
  run.action(async (opts: Record<string, unknown>) => {
    const log = createLogger(String(opts['logLevel']));
    let app: App | undefined;
    // SIGHUP: read the file and the state file again (flags still override them) and apply
    // the cameras' difference; an invalid file changes nothing. Without --config it ends the
    // service, as a hangup does. One reload at a time; none while starting or stopping.
    let reloading = Promise.resolve();
    let stoppingSince: number | undefined;
    process.on('SIGHUP', () => {
      if (opts['config'] === undefined) return shutdown('SIGHUP');
      if (stoppingSince !== undefined) return;
      const running = app;
      if (!running) return void log.warn('SIGHUP while starting: not reloaded; send it again once the service listens');
      reloading = reloading.then(async () => {
        try {
          await running.reload(runConfig(run, opts));
        } catch (err) {
          const e = isSegstreamError(err) ? err : undefined;
          log.error({ code: e?.code, err: e ? e.message : err }, 'reload refused: the configuration or its state file is invalid; nothing changed');
        }
      });
    });
    try {
      const config = runConfig(run, opts);
      const path = statePath(opts);
      const state = new CameraStateStore(path, path === undefined ? undefined : readCameraState(path));
      app = await startApp(config, { log, state });
    } catch (err) {
      reportFatal(log, err);
      return;
    }
    const started = app;
    const stopTable = startStatusTable(started);
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);

    // A second signal within a second of the first is the same Ctrl-C twice (bin/segstream.js
    // forwards what the terminal also sends to its process group): cleanup goes on. A later
    // one means the operator insists: exit now.
    function shutdown(signal: string): void {
      if (!app) process.exit(129); // a hangup while starting, as without a handler
      if (stoppingSince !== undefined) {
        if (Date.now() - stoppingSince < 1000) return void log.info({ signal }, 'already shutting down');
        log.warn({ signal }, 'shutdown did not finish: exiting now');
        process.exit(1);
      }
      stoppingSince = Date.now();
      stopTable();
      log.info({ signal }, 'shutting down');
      void app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
    }
  });

  const node = program
    .command('node')
    .description('Run as an inference node of a cluster: claim cameras from the pool the gateway keeps in the broker (up to --capacity, spread evenly over the live nodes), run them as `run` does, and publish their frames, status and events to the broker. Its own HTTP server (metrics, health, WHEP answered for the gateway) listens on --port, default any free port.')
    .option('-c, --config <file>', 'configuration file (docs/config.md): its server, inference, tracking, ingest, events and broker sections; its cameras are ignored (the pool has them)')
    .option('--name <node>', 'this node\'s name, unique in the cluster (default: the host name)')
    .option('--capacity <n>', 'most cameras this node runs (default ingest.maxCameras)', num);
  brokerOptions(node);
  pipelineOptions(node);
  node.action(async (opts: Record<string, unknown>) => {
    const log = createLogger(String(opts['logLevel']));
    let app: App | undefined;
    let broker: NatsBroker | undefined;
    let member: ClusterNode | undefined;
    try {
      const config = runConfig(node, opts, 'node');
      const name = config.broker.name ?? hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
      const capacity = config.broker.capacity ?? config.ingest.maxCameras;
      if (capacity > config.ingest.maxCameras) throw new SegstreamError('E_CONFIG', 'invalid configuration: broker.capacity: more than ingest.maxCameras', { expected: `<= ${config.ingest.maxCameras}`, actual: capacity });
      app = await startApp(config, { log });
      broker = await connectBroker(config, name, log);
      const metrics = app.metrics;
      broker.connection$.subscribe((up) => metrics.brokerConnected.set(up ? 1 : 0));
      member = await ClusterNode.start({
        app,
        broker,
        name,
        capacity,
        prefix: config.broker.prefix,
        leaseTtlMs: config.broker.leaseTtlS * 1000,
        log,
        counters: { publishDropped: (kind) => metrics.brokerDropped.inc({ kind }), fenced: () => metrics.framesFenced.inc({ where: 'node' }), leases: (n) => metrics.leasesHeld.set(n) },
      });
    } catch (err) {
      await member?.close().catch(() => undefined);
      await broker?.close().catch(() => undefined);
      await app?.close().catch(() => undefined);
      reportFatal(log, err);
      return;
    }
    const [a, b, m] = [app, broker, member];
    onShutdown(log, async () => {
      await m.close();
      await b.close();
      await a.close();
    });
  });

  const gateway = program
    .command('gateway')
    .description('Serve a cluster: the dashboard, WebSocket /ws, /api/cameras (the pool), /api/nodes, /events and WHEP for every camera of every node, through the broker.')
    .option('-c, --config <file>', 'configuration file (docs/config.md): its server, events and broker sections')
    .option('-p, --port <n>', 'HTTP/WebSocket port (0 = any free port)', num, DEFAULTS.server.port)
    .option('--host <addr>', 'address to listen on', DEFAULTS.server.host)
    .addOption(new Option('--token <secret>', 'access token every endpoint but /healthz, /readyz and the dashboard files requires').env('SEGSTREAM_TOKEN'))
    .addOption(new Option('--allow-origin <origin>', "browser origin allowed besides the server's own, repeatable").argParser(collect))
    .addOption(new Option('--allow-host <name>', 'without --token: a host name the server answers to besides IP addresses and localhost, repeatable').argParser(collect))
    .option('--tls-cert <pem>', 'certificate (chain) to serve HTTPS and WSS (with --tls-key)')
    .option('--tls-key <pem>', 'private key for --tls-cert')
    .option('--events-db <path>', 'keep the event history (read from the broker\'s stream) in this SQLite file too; default in memory, filled from the stream at start')
    .option('--request-timeout <ms>', 'wait this long for the node that runs a camera to answer, ms', num, DEFAULTS.broker.requestTimeoutMs)
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace, silent', process.env['SEGSTREAM_LOG_LEVEL'] ?? 'info');
  brokerOptions(gateway);
  gateway.action(async (opts: Record<string, unknown>) => {
    const log = createLogger(String(opts['logLevel']));
    const given = (key: string): boolean => gateway.getOptionValueSource(key) === 'cli' || gateway.getOptionValueSource(key) === 'env';
    let broker: NatsBroker | undefined;
    try {
      const file = opts['config'] as string | undefined;
      const raw = mergeConfig(file === undefined ? {} : readConfigFile(file), {}) as Record<string, unknown>;
      const flags: [string, string][] = [
        ['port', 'server.port'],
        ['host', 'server.host'],
        ['token', 'server.token'],
        ['allowOrigin', 'server.allowOrigins'],
        ['allowHost', 'server.allowHosts'],
        ['tlsCert', 'server.tlsCert'],
        ['tlsKey', 'server.tlsKey'],
        ['eventsDb', 'events.db'],
        ...BROKER_FLAGS,
      ];
      for (const [key, path] of flags) if (given(key)) setPath(raw, path, opts[key]);
      raw['cameras'] = [];
      const config = parseConfig(raw);
      broker = await connectBroker(config, 'gateway', log);
      const gw = await startGateway(config, broker, log);
      const b = broker;
      broker.connection$.subscribe((up) => gw.metrics.brokerConnected.set(up ? 1 : 0));
      onShutdown(log, async () => {
        await gw.close();
        await b.close();
      });
    } catch (err) {
      await broker?.close().catch(() => undefined);
      reportFatal(log, err);
    }
  });

  program
    .command('check-config')
    .description('Validate a configuration file (and its state file) as `segstream run --config` would, without starting anything; exit 0 when valid, 2 naming the field when not.')
    .argument('<file>', 'configuration file, YAML or JSON')
    .option('--state-file <path>', 'state file to check with it (default: <file>.state.json beside it)')
    .option('--no-model', 'do not check the model file')
    .action(async (file: string, opts: { stateFile?: string; model: boolean }) => {
      try {
        const config = withModel(parseConfig(readConfigFile(file)));
        const path = opts.stateFile ?? statePathFor(file);
        const cameras = resolveCameras(config, readCameraState(path), path);
        if (opts.model) await readModelFile(config.inference.model!);
        process.stdout.write(
          `${file}: valid: ${cameras.length} camera(s)${cameras.length ? ` (${cameras.map((c) => c.id).join(', ')})` : ''}, model ${config.inference.model}${opts.model ? '' : ' (not checked)'}\n`,
        );
      } catch (err) {
        process.stderr.write(`segstream: ${isSegstreamError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`);
        process.exitCode = 2;
      }
    });

  program
    .command('segment')
    .description('Segment still images offline through the live path (letterbox, inference, masks) and write COCO results (JSON array of image_id, category_id, bbox [x,y,w,h], score, segmentation RLE), as pycocotools\' loadRes reads them.')
    .argument('<inputs...>', 'image files and folders of images (.jpg .png .webp .bmp .tif)')
    .requiredOption('--out <file>', 'results file to write (JSON)')
    .option('--model <path>', 'ONNX model (default: the built-in default model)')
    .option('--conf <x>', `least score kept (default ${DEFAULTS.inference.confidence})`, num)
    .option('--iou <x>', `NMS IoU threshold (default ${DEFAULTS.inference.iou})`, num)
    .option('--max-det <n>', `most detections per image (default ${DEFAULTS.inference.maxDetections})`, num)
    .option('--agnostic-nms', 'class-agnostic NMS')
    .option('--batch <n>', `images per inference run (default ${DEFAULTS.inference.batch})`, num)
    .option('--workers <n>', 'inference worker threads (0: one per core up to 4 on the CPU, 1 on a GPU)', num)
    .option('--threads <n>', 'onnxruntime intra-op threads per worker (0: the cores divided among the workers)', num)
    .addOption(deviceOption())
    .action(async (inputs: string[], opts: { out: string; model?: string; conf?: number; iou?: number; maxDet?: number; agnosticNms?: boolean; batch?: number; workers?: number; threads?: number; device: string }) => {
      const log = createLogger(process.env['SEGSTREAM_LOG_LEVEL'] ?? 'warn');
      try {
        const inference: Record<string, unknown> = {};
        const set = (key: string, v: unknown): void => {
          if (v !== undefined) inference[key] = v;
        };
        set('model', opts.model);
        set('confidence', opts.conf);
        set('iou', opts.iou);
        set('maxDetections', opts.maxDet);
        set('agnosticNms', opts.agnosticNms);
        set('batch', opts.batch);
        set('workers', opts.workers);
        set('threads', opts.threads);
        set('device', opts.device);
        const config = withModel(parseConfig({ inference }));
        const summary = await segmentCommand({ inputs, out: opts.out, inference: config.inference, log });
        for (const f of summary.failed) process.stderr.write(`segstream: ${f.code}: ${f.message}\n`);
        process.stdout.write(`${opts.out}: ${summary.detections} detections in ${summary.images} images (${summary.seconds.toFixed(1)} s)${summary.failed.length ? `; ${summary.failed.length} unreadable` : ''}\n`);
        if (summary.failed.length > 0) process.exitCode = 1;
      } catch (err) {
        process.stderr.write(`segstream: ${isSegstreamError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`);
        process.exitCode = 2;
      }
    });

  program
    .command('mot')
    .description('Track MOTChallenge detections offline (frame,id,x,y,w,h,score,...) and write MOTChallenge results, like SORT\'s reference script.')
    .requiredOption('--det <path>', 'detections file (det/det.txt)')
    .requiredOption('--out <path>', 'result file to write')
    .option('--include-predicted', 'also write boxes of briefly lost tracks (Kalman predictions)', false)
    .option('--fps <rate>', `the sequence's frame rate (seqinfo.ini frameRate; MOT files carry no timestamps), default ${DEFAULT_MOT_FPS}`, num)
    .option('--camera-motion', 'compensate camera motion (moving-camera sequences)')
    .action(async (opts: { det: string; out: string; includePredicted: boolean; fps?: number; cameraMotion?: boolean }) => {
      try {
        const { cameraMotion, ...rest } = opts;
        await motCommand({ ...rest, ...(cameraMotion ? { cameraMotion: true } : {}) });
      } catch (err) {
        process.stderr.write(`segstream: ${isSegstreamError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`);
        process.exitCode = 2;
      }
    });

  return program;
}

await buildCli().parseAsync(process.argv);
