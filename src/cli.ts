#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { startApp } from './app.js';
import { DEFAULT_MODEL_PATHS, DEFAULT_SOURCE, defaultModelPath, parseConfig } from './config.js';
import { createLogger, isSegstreamError, SegstreamError } from './core/index.js';
import { motCommand } from './tracking/index.js';

const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`'${v}' is not a number`);
  return n;
};
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export function buildCli(): Command {
  const program = new Command('segstream')
    .description('Real-time video instance segmentation (YOLOv8-seg / FastSAM) streamed as COCO RLE masks over WebSocket.')
    .showHelpAfterError();

  program
    .command('run')
    .description('Segment live sources and serve results: GET /healthz, GET /metrics, WebSocket /ws (docs/protocol.md).')
    .addOption(
      new Option(
        '-s, --source <[id=]url>',
        'camera source, repeatable: a file path, rtsp://, rtmp://, http(s):// (HLS, MJPEG, files) or /dev/videoN; optional id= prefix names the camera (default cam0, cam1, ...)',
      ).argParser(collect),
    )
    .option('-m, --model <path>', `YOLOv8/YOLO11-seg or FastSAM ONNX export (default: first of ${DEFAULT_MODEL_PATHS.join(', ')})`)
    .option('-p, --port <n>', 'HTTP/WebSocket port (0 = any free port)', num, 8080)
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--fast', 'read files as fast as possible instead of at their own frame rate', false)
    .option('--loop', 'restart files when they end (on by default for the built-in demo clip)')
    .option('--workers <n>', 'inference worker threads (each its own onnxruntime session)', num, 1)
    .option('--threads <n>', 'onnxruntime intra-op threads per worker (default: CPU cores)', num)
    .option('--batch <n>', 'largest inference batch across cameras (clipped to a static-batch model)', num, 8)
    .option('--conf <x>', 'confidence threshold', num, 0.25)
    .option('--iou <x>', 'NMS IoU threshold', num, 0.7)
    .option('--agnostic-nms', 'class-agnostic NMS, as FastSAM everything mode', false)
    .option('--max-det <n>', 'most objects per frame', num, 100)
    .option('--clip-image <path>', 'CLIP image encoder (ONNX) for text prompts')
    .option('--clip-text <path>', 'CLIP text encoder (ONNX) for text prompts')
    .option('--clip-merges <path>', "CLIP BPE merges file (bpe_simple_vocab_16e6.txt[.gz])")
    .option('--clip-vocab <path>', 'optional Hugging Face vocab.json matching the merges')
    .option('--no-tracking', 'do not follow objects across frames (no ids)')
    .addOption(new Option('--provider <name>', 'onnxruntime execution provider').choices(['cpu', 'webgpu', 'cuda']).default('cpu'))
    .option('--network-timeout <s>', 'socket/read timeout for network sources, s', num, 10)
    .option('--stall-timeout <s>', 'restart a live source that sends nothing for this long, s', num, 15)
    .option('--max-message-bytes <n>', 'largest client message accepted', num, 16 * 1024)
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace, silent', process.env['SEGSTREAM_LOG_LEVEL'] ?? 'info')
    .action(async (opts: Record<string, unknown>) => {
      const log = createLogger(String(opts['logLevel']));
      const sources = (opts['source'] as string[] | undefined) ?? [DEFAULT_SOURCE];
      const usingDemo = opts['source'] === undefined;
      try {
        const clipParts = [opts['clipImage'], opts['clipText'], opts['clipMerges']];
        if (clipParts.some((p) => p !== undefined) && clipParts.some((p) => p === undefined)) {
          throw new SegstreamError('E_CONFIG', '--clip-image, --clip-text and --clip-merges go together', { expected: 'all three', actual: clipParts.filter(Boolean).length });
        }
        const config = parseConfig({
          ...(opts['clipImage'] === undefined
            ? {}
            : { clip: { image: opts['clipImage'], text: opts['clipText'], merges: opts['clipMerges'], ...(opts['clipVocab'] === undefined ? {} : { vocab: opts['clipVocab'] }) } }),
          sources,
          model: (opts['model'] as string | undefined) ?? defaultModelPath(),
          host: opts['host'],
          port: opts['port'],
          realtime: !opts['fast'],
          loop: (opts['loop'] as boolean | undefined) ?? usingDemo,
          workers: opts['workers'],
          ...(opts['threads'] === undefined ? {} : { threads: opts['threads'] }),
          maxBatch: opts['batch'],
          confidence: opts['conf'],
          iou: opts['iou'],
          agnosticNms: opts['agnosticNms'],
          maxDetections: opts['maxDet'],
          executionProvider: opts['provider'],
          tracking: opts['tracking'],
          networkTimeoutS: opts['networkTimeout'],
          stallTimeoutS: opts['stallTimeout'],
          maxMessageBytes: opts['maxMessageBytes'],
        });
        const app = await startApp(config, log);
        const shutdown = (signal: string): void => {
          log.info({ signal }, 'shutting down');
          void app.close().then(
            () => process.exit(0),
            (err: unknown) => {
              log.error({ err }, 'error during shutdown');
              process.exit(1);
            },
          );
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
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
    .action(async (opts: { det: string; out: string; includePredicted: boolean }) => {
      try {
        await motCommand(opts);
      } catch (err) {
        process.stderr.write(`segstream: ${isSegstreamError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`);
        process.exitCode = 2;
      }
    });

  return program;
}

await buildCli().parseAsync(process.argv);
