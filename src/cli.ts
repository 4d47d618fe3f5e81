#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { startApp } from './app.js';
import { startStatusTable } from './statusTable.js';
import { CONFIG_DEFAULTS, DEFAULT_MODEL_PATHS, DEFAULT_SOURCE, defaultModelPath, parseConfig, type AppConfig } from './config.js';
import { createLogger, isSegstreamError, SegstreamError } from './core/index.js';
import { DEFAULT_MOT_FPS, motCommand } from './tracking/index.js';

const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`'${v}' is not a number`);
  return n;
};
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

type NumericKey = { [K in keyof AppConfig]-?: AppConfig[K] extends number ? K : never }[keyof AppConfig];

/** `run` options that set one numeric config field each. */
const NUMERIC_OPTIONS: readonly [flag: string, key: NumericKey, help: string][] = [
  ['-p, --port <n>', 'port', 'HTTP/WebSocket port (0 = any free port)'],
  ['--workers <n>', 'workers', 'inference worker threads (each its own onnxruntime session)'],
  ['--threads <n>', 'threads', 'onnxruntime intra-op threads per worker (the default is the number of CPU cores)'],
  ['--batch <n>', 'maxBatch', 'largest inference batch across cameras (clipped to a static-batch model)'],
  ['--conf <x>', 'confidence', 'confidence threshold'],
  ['--iou <x>', 'iou', 'NMS IoU threshold'],
  ['--max-det <n>', 'maxDetections', 'most objects per frame'],
  ['--track-high <x>', 'trackHighScore', 'tracker: detections at or above this score match first and may start tracks'],
  ['--track-new <x>', 'trackNewScore', 'tracker: least score to start a new track (>= --track-high)'],
  ['--track-max-age <s>', 'trackMaxAge', 'tracker: seconds (media time) a lost track is kept for re-identification'],
  ['--target-memory <s>', 'targetMemory', 'seconds a prompted target is kept while its object is unseen, to be re-acquired; then target.ended'],
  ['--network-timeout <s>', 'networkTimeoutS', 'socket/read timeout for network sources, s'],
  ['--stall-timeout <s>', 'stallTimeoutS', 'restart a source that sends nothing for this long (connecting included), s'],
  ['--reconnect-min <ms>', 'reconnectMinMs', 'wait before reconnecting a failed source, ms (doubles once it has been down for --fast-retry-window)'],
  ['--reconnect-max <ms>', 'reconnectMaxMs', 'longest wait between reconnects, ms'],
  ['--fast-retry-window <ms>', 'fastRetryWindowMs', 'a source down for less than this is retried every --reconnect-min ms before the wait doubles, ms'],
  ['--max-message-bytes <n>', 'maxMessageBytes', 'largest client message accepted, bytes'],
  ['--max-buffered-bytes <n>', 'maxBufferedBytes', 'a client with more unsent than this misses frame messages, bytes'],
  ['--slow-client-timeout <ms>', 'slowClientTimeoutMs', 'a client missing frames this long is disconnected (1008), ms'],
  ['--slow-client-close-grace <ms>', 'slowClientCloseGraceMs', 'a disconnected slow client may still read its queued messages and the 1008 close this long, ms'],
  ['--max-clients <n>', 'maxClients', 'most open WebSocket connections; more are refused with HTTP 503 E_TOO_MANY_CLIENTS'],
];

/** '--max-det <n>' -> 'maxDet', as commander names the option. */
function camel(flag: string): string {
  const long = flag.split(/[ ,]+/).find((p) => p.startsWith('--'))!.slice(2);
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function buildCli(): Command {
  const program = new Command('segstream')
    .description('Real-time video instance segmentation (YOLOv8-seg / FastSAM) streamed as COCO RLE masks over WebSocket.')
    .showHelpAfterError();

  const run = program
    .command('run')
    .description('Segment live sources and serve results: GET /healthz, GET /readyz, GET /metrics, WebSocket /ws (docs/protocol.md).')
    .addOption(
      new Option(
        '-s, --source <[id=]url>',
        'camera source, repeatable: a file path, rtsp://, rtmp://, http(s):// (HLS, MJPEG, files) or /dev/videoN; optional id= prefix names the camera (default cam0, cam1, ...)',
      ).argParser(collect),
    )
    .option('-m, --model <path>', `YOLOv8/YOLO11-seg or FastSAM ONNX export (default: first of ${DEFAULT_MODEL_PATHS.join(', ')})`)
    .option('--host <addr>', 'address to listen on', CONFIG_DEFAULTS.host)
    .option('--fast', 'read files as fast as possible instead of at their own frame rate')
    .option('--loop', 'restart files when they end (on by default for the built-in demo clip)')
    .addOption(new Option('--media-root <dir>', 'local file sources must lie in this directory (after resolving links); repeatable; default: any file').argParser(collect))
    .option('--no-tls-verify', 'do not verify the certificates of https:// and rtmps:// sources (verified against the system CA store by default); also allows rtsps://, which ffmpeg cannot verify')
    .option('--tls-ca-file <path>', 'PEM CA certificates to verify TLS sources against instead of the system store')
    .option('--agnostic-nms', 'class-agnostic NMS, as FastSAM everything mode')
    .option('--no-tracking', 'do not follow objects across frames (no ids, no prompts)')
    .option('--track-camera-motion', 'tracker: compensate camera shake and pans (moving cameras, dashcams)')
    .addOption(new Option('--provider <name>', 'onnxruntime execution provider').choices(['cpu', 'webgpu', 'cuda']).default(CONFIG_DEFAULTS.executionProvider))
    .option('--clip-image <path>', 'CLIP image encoder (ONNX) for text prompts')
    .option('--clip-text <path>', 'CLIP text encoder (ONNX) for text prompts')
    .option('--clip-merges <path>', 'CLIP BPE merges file (bpe_simple_vocab_16e6.txt[.gz])')
    .option('--clip-vocab <path>', 'optional Hugging Face vocab.json matching the merges')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace, silent', process.env['SEGSTREAM_LOG_LEVEL'] ?? 'info');
  // Numeric options: flag -> config key; defaults come from the config schema.
  for (const [flag, key, help] of NUMERIC_OPTIONS) run.option(flag, help, num, CONFIG_DEFAULTS[key]);
  run.action(async (opts: Record<string, unknown>) => {
    const log = createLogger(String(opts['logLevel']));
    const usingDemo = opts['source'] === undefined;
    try {
      const clipParts = [opts['clipImage'], opts['clipText'], opts['clipMerges']];
      if (clipParts.some((p) => p !== undefined) && clipParts.some((p) => p === undefined)) {
        throw new SegstreamError('E_CONFIG', '--clip-image, --clip-text and --clip-merges go together', { expected: 'all three', actual: clipParts.filter(Boolean).length });
      }
      const numeric = Object.fromEntries(NUMERIC_OPTIONS.map(([flag, key]) => [key, opts[camel(flag)]]));
      const config = parseConfig({
        ...numeric,
        sources: (opts['source'] as string[] | undefined) ?? [DEFAULT_SOURCE],
        mediaRoots: (opts['mediaRoot'] as string[] | undefined) ?? [],
        tlsVerify: opts['tlsVerify'] !== false,
        ...(opts['tlsCaFile'] === undefined ? {} : { tlsCaFile: opts['tlsCaFile'] }),
        model: (opts['model'] as string | undefined) ?? defaultModelPath(),
        host: opts['host'],
        realtime: !opts['fast'],
        loop: (opts['loop'] as boolean | undefined) ?? usingDemo,
        agnosticNms: opts['agnosticNms'] === true,
        tracking: opts['tracking'],
        trackCameraMotion: opts['trackCameraMotion'] === true,
        executionProvider: opts['provider'],
        ...(opts['clipImage'] === undefined
          ? {}
          : { clip: { image: opts['clipImage'], text: opts['clipText'], merges: opts['clipMerges'], ...(opts['clipVocab'] === undefined ? {} : { vocab: opts['clipVocab'] }) } }),
      });
      const app = await startApp(config, log);
      const stopTable = startStatusTable(app);
      let stoppingSince: number | undefined;
      // A second signal within a second of the first is the same Ctrl-C twice (bin/segstream.js
      // forwards what the terminal also sends to its process group): cleanup goes on. A later
      // one means the operator insists: exit now.
      const shutdown = (signal: string): void => {
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
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    } catch (err) {
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
