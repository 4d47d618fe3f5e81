import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseWith, SegstreamError } from './core/index.js';
import { parseTrackerOptions, type TrackerOptionsInput } from './tracking/index.js';

/** The package root (one level above src/ or dist/). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the model is looked for when --model is not given, in order. */
export const DEFAULT_MODEL_PATHS = [
  resolve(PACKAGE_ROOT, 'models/yolov8n-seg-320.onnx'),
  resolve(PACKAGE_ROOT, '../shared/models/yolov8n-seg-320.onnx'),
];

/** The built-in demo source when no --source is given: a real traffic clip, looped. */
export const DEFAULT_SOURCE = resolve(PACKAGE_ROOT, '../shared/data/videos/urban_intersection_cctv.mp4');

export function defaultModelPath(): string {
  return DEFAULT_MODEL_PATHS.find((p) => existsSync(p)) ?? DEFAULT_MODEL_PATHS[0]!;
}

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/** Every option of `segstream run`: one schema, defaults and bounds in one place. */
export const appConfigSchema = z.strictObject({
  sources: z.array(z.string().min(1)).min(1).max(64).describe('camera sources, `[id=]url`'),
  mediaRoots: z.array(z.string().min(1)).max(64).default([]).describe('directories local file sources must lie in (after resolving links); empty: any file'),
  model: z.string().min(1).describe('YOLOv8/YOLO11-seg or FastSAM ONNX file'),
  host: z.string().min(1).default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(8080),
  realtime: z.boolean().default(true).describe('play files at their own frame rate, as a camera would'),
  loop: z.boolean().default(false).describe('restart files at their end'),
  workers: positiveInt(16).default(1).describe('inference worker threads'),
  threads: positiveInt(64).default(Math.max(1, availableParallelism())).describe('onnxruntime intra-op threads per worker'),
  maxBatch: positiveInt(64).default(8).describe('largest inference batch (frames of different cameras)'),
  confidence: z.number().min(0).max(1).default(0.25),
  iou: z.number().min(0).max(1).default(0.7).describe('NMS IoU threshold'),
  agnosticNms: z.boolean().default(false).describe('class-agnostic NMS (FastSAM everything mode)'),
  maxDetections: positiveInt(1000).default(100),
  tracking: z.boolean().default(true).describe('follow objects across frames and give them ids'),
  /** Live defaults sit lower than the MOT-tuned tracker defaults: YOLOv8n scores cars ~0.5-0.9. */
  trackHighScore: z.number().min(0).max(1).default(0.5),
  trackNewScore: z.number().min(0).max(1).default(0.6),
  trackMaxAge: z.number().positive().max(86_400).default(1).describe('seconds a lost track is kept for re-identification'),
  targetMemory: z.number().positive().max(86_400).default(10).describe('seconds a prompted target is kept while its object is unseen, to be re-acquired'),
  trackCameraMotion: z.boolean().default(false).describe('compensate camera shake and pans in the tracker'),
  clip: z
    .strictObject({ image: z.string().min(1), text: z.string().min(1), merges: z.string().min(1), vocab: z.string().min(1).optional() })
    .optional()
    .describe('CLIP image/text encoders (ONNX) and BPE merges for text prompts; without, text matches class names'),
  executionProvider: z.enum(['cpu', 'webgpu', 'cuda']).default('cpu'),
  networkTimeoutS: z.number().min(1).max(300).default(10),
  tlsVerify: z.boolean().default(true).describe('verify the certificate of https:// and rtmps:// sources; off also allows rtsps:// (unverifiable in ffmpeg)'),
  tlsCaFile: z.string().min(1).optional().describe('PEM file of CA certificates to verify TLS sources against instead of the system store'),
  stallTimeoutS: z.number().min(1).max(600).default(15),
  reconnectMinMs: z.number().int().min(10).max(600_000).default(1000),
  reconnectMaxMs: z.number().int().min(10).max(3_600_000).default(30_000),
  fastRetryWindowMs: z.number().int().min(0).max(3_600_000).default(30_000).describe('a source down for less than this is retried every reconnectMinMs before the wait doubles, ms'),
  maxMessageBytes: positiveInt(1 << 20).default(16 * 1024),
  maxBufferedBytes: positiveInt(1 << 30).default(4 * 1024 * 1024),
  slowClientTimeoutMs: positiveInt(3_600_000).default(10_000),
  slowClientCloseGraceMs: positiveInt(600_000).default(10_000).describe('a dropped slow client may read its queued messages and the 1008 close this long, ms'),
  maxClients: positiveInt(100_000).default(256).describe('most open WebSocket connections; more get HTTP 503 E_TOO_MANY_CLIENTS'),
});

export type AppConfig = z.output<typeof appConfigSchema>;

/** Every default, from the schema itself (the CLI shows these in --help). */
export const CONFIG_DEFAULTS: Readonly<AppConfig> = appConfigSchema.parse({ sources: ['-'], model: '-' });
export type AppConfigInput = z.input<typeof appConfigSchema>;

/** Validates once at start-up; the first problem becomes an E_CONFIG error naming the field. */
export function parseConfig(input: unknown): AppConfig {
  const cfg = parseWith(appConfigSchema, input, 'E_CONFIG', 'invalid option');
  verifyReconnect(cfg);
  verifyTracking(cfg);
  return cfg;
}

function verifyReconnect(cfg: AppConfig): void {
  if (cfg.reconnectMaxMs < cfg.reconnectMinMs) {
    throw new SegstreamError('E_CONFIG', 'reconnectMaxMs must be >= reconnectMinMs', {
      expected: `>= ${cfg.reconnectMinMs}`,
      actual: cfg.reconnectMaxMs,
    });
  }
}

/** Config fields that set a tracker option, by tracker option name (for error messages). */
const TRACKER_FIELDS: Readonly<Record<string, keyof AppConfig>> = {
  highScoreThreshold: 'trackHighScore',
  newTrackThreshold: 'trackNewScore',
  maxAgeS: 'trackMaxAge',
  targetMemoryS: 'targetMemory',
  cameraMotion: 'trackCameraMotion',
};

/**
 * The tracker options `segstream run` uses: the MOT-tuned defaults with score thresholds for
 * YOLOv8-seg (it scores road objects lower than MOT15's Faster R-CNN), and the low threshold at
 * the detector's own confidence cut, so every published detection can continue a track.
 */
export function liveTrackerOptions(cfg: AppConfig): TrackerOptionsInput {
  return {
    highScoreThreshold: cfg.trackHighScore,
    newTrackThreshold: cfg.trackNewScore,
    lowScoreThreshold: Math.min(cfg.confidence, cfg.trackHighScore),
    maxAgeS: cfg.trackMaxAge,
    predictWindowS: Math.min(0.2, cfg.trackMaxAge),
    targetMemoryS: cfg.targetMemory,
    targetPredictS: Math.min(1, cfg.targetMemory),
    cameraMotion: cfg.trackCameraMotion,
    // The detection's own box, which its mask was cut to (the Kalman box is smoother but would
    // clip the mask).
    outputBox: 'detection',
  };
}

/** Every tracking rule, checked before anything starts: the error names the config field. */
function verifyTracking(cfg: AppConfig): void {
  if (!cfg.tracking) return;
  try {
    parseTrackerOptions(liveTrackerOptions(cfg));
  } catch (err) {
    if (!(err instanceof SegstreamError)) throw err;
    const field = Object.entries(TRACKER_FIELDS).find(([opt]) => err.message.includes(`option ${opt}:`))?.[1];
    throw new SegstreamError('E_CONFIG', field ? `invalid option ${field}: ${err.message}` : err.message, { expected: err.expected, actual: err.actual });
  }
}
