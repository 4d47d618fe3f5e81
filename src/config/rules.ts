import { accessSync, constants, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fieldPath, parseWith, SegstreamError } from '../core/index.js';
import { DEFAULT_SOURCE_OPTIONS, resolveSource, sourceSpecOf, type CameraSourceOptions, type SourceSpec } from '../ingest/index.js';
import { parseDeviceList, type EngineOptions } from '../pipeline/index.js';
import { parseTrackerOptions, type TrackerOptionsInput } from '../tracking/index.js';
import { WebhookSender } from '../events/webhook.js';
import { configSchema, type CameraEntry, type Config, type InferenceConfig, type MotionGateConfig, type TrackingConfig, type ZoneEntry } from './schema.js';

/** Where a camera came from: the configuration (file or flags) or the HTTP API. */
export type CameraOrigin = 'config' | 'api';

/** One camera as it runs: its entry with every default filled in and its source checked. */
export interface CameraConfig {
  readonly id: string;
  /** As configured (never shown unredacted). */
  readonly url: string;
  /** The checked source (a local file's resolved path). */
  readonly spec: SourceSpec;
  readonly enabled: boolean;
  /** Least detection score this camera publishes. */
  readonly confidence: number;
  readonly source: Omit<CameraSourceOptions, 'modelWidth' | 'modelHeight'>;
  /** Motion gating: the camera's own fields over ingest.motionGate. Changes in place. */
  readonly motionGate: MotionGateConfig;
  /** Its zones and their rules (source px). Change in place: only the camera's events start over. */
  readonly zones: readonly ZoneEntry[];
  readonly origin: CameraOrigin;
  /** The entry it was made from (what the API shows and the state file keeps). */
  readonly entry: CameraEntry;
  /** The source checked again (a local file's links resolved anew): before each ffmpeg start. */
  readonly recheck: () => SourceSpec;
}

/**
 * Validates a whole configuration: the schema of every section, then every rule between
 * fields, before anything starts. The first problem is a SegstreamError whose message begins
 * with the field (`cameras[2].url: ...`): E_CONFIG, or E_SOURCE_REFUSED for a source the
 * allow-list refuses.
 */
export function parseConfig(input: unknown): Config {
  const cfg = parseWith(configSchema, input, 'E_CONFIG', 'invalid configuration:');
  checkRules(cfg);
  return cfg;
}

function fieldError(field: string, message: string, expected: unknown, actual: unknown): SegstreamError {
  return new SegstreamError('E_CONFIG', `invalid configuration: ${field}: ${message}`, { expected, actual });
}

/** A SegstreamError from a stage's own check, restated for the field it came from. */
function atField(field: string, err: unknown): unknown {
  if (!(err instanceof SegstreamError)) return err;
  return new SegstreamError(err.code, `invalid configuration: ${field}: ${err.message}`, { expected: err.expected, actual: err.actual, cause: err });
}

function checkRules(cfg: Config): void {
  const { ingest, cameras } = cfg;
  if (ingest.reconnectMaxMs < ingest.reconnectMinMs) {
    throw fieldError('ingest.reconnectMaxMs', 'must be >= ingest.reconnectMinMs', `>= ${ingest.reconnectMinMs}`, ingest.reconnectMaxMs);
  }
  checkReadable('ingest.tlsCaFile', ingest.tlsCaFile);
  const { tlsCert, tlsKey } = cfg.server;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    const missing = tlsCert === undefined ? 'server.tlsCert' : 'server.tlsKey';
    throw fieldError(missing, 'server.tlsCert and server.tlsKey go together', 'both or neither', 'only one');
  }
  checkReadable('server.tlsCert', tlsCert);
  checkReadable('server.tlsKey', tlsKey);
  try {
    parseDeviceList(cfg.inference.device);
  } catch (err) {
    throw atField('inference.device', err);
  }
  if (cfg.tracking.enabled) verifyTracking(cfg.tracking, cfg.inference.confidence);
  verifyWebhook(cfg.events.webhook?.url);
  if (cameras.length > ingest.maxCameras) {
    throw fieldError('cameras', `${cameras.length} cameras, more than ingest.maxCameras`, `<= ${ingest.maxCameras}`, cameras.length);
  }
  const seen = new Map<string, number>();
  cameras.forEach((cam, i) => {
    const first = seen.get(cam.id);
    if (first !== undefined) throw fieldError(`cameras[${i}].id`, `'${cam.id}' is already the id of cameras[${first}]`, 'unique camera ids', cam.id);
    seen.set(cam.id, i);
    cameraConfig(cam, cfg, { field: `cameras[${i}]` });
  });
}

/**
 * A camera entry resolved against the configuration: the ingest defaults under its own
 * options, its source through the allow-list and the file rules. `field` names it in errors
 * (`cameras[2]`); `requireMediaRoot` is the API's rule for local files.
 */
export function cameraConfig(entry: CameraEntry, cfg: Config, opts: { field: string; origin?: CameraOrigin; requireMediaRoot?: boolean }): CameraConfig {
  const { ingest, inference } = cfg;
  const at = (name: string): string => `${opts.field}.${name}`;
  if (entry.confidence !== undefined && entry.confidence < inference.confidence) {
    // Detections below the engine's threshold are gone before any camera sees them.
    throw fieldError(at('confidence'), 'must be >= inference.confidence', `>= ${inference.confidence}`, entry.confidence);
  }
  const pick = <K extends keyof typeof ingest & keyof CameraEntry>(k: K) => (entry[k] ?? ingest[k]) as NonNullable<(typeof ingest)[K]>;
  const tlsCaFile = entry.tlsCaFile ?? ingest.tlsCaFile;
  const source: CameraConfig['source'] = {
    ...DEFAULT_SOURCE_OPTIONS,
    realtime: pick('realtime'),
    loop: pick('loop'),
    networkTimeoutS: pick('networkTimeoutS'),
    stallTimeoutS: pick('stallTimeoutS'),
    reconnectMinMs: pick('reconnectMinMs'),
    reconnectMaxMs: pick('reconnectMaxMs'),
    fastRetryWindowMs: pick('fastRetryWindowMs'),
    tlsVerify: pick('tlsVerify'),
    ...(tlsCaFile === undefined ? {} : { caFile: tlsCaFile }),
    inferenceMaxWidth: ingest.inferenceMaxWidth,
    // The display output exists for the WHEP video only.
    displayMaxWidth: cfg.server.whep ? ingest.displayMaxWidth : 0,
  };
  if (source.reconnectMaxMs < source.reconnectMinMs) {
    const field = entry.reconnectMaxMs !== undefined ? at('reconnectMaxMs') : at('reconnectMinMs');
    throw fieldError(field, 'reconnectMaxMs must be >= reconnectMinMs', `>= ${source.reconnectMinMs}`, source.reconnectMaxMs);
  }
  if (entry.tlsCaFile !== undefined) checkReadable(at('tlsCaFile'), entry.tlsCaFile);
  verifyZones(entry.zones ?? [], at('zones'));
  if (!cfg.tracking.enabled && (entry.zones ?? []).some((z) => z.rules.length > 0)) {
    throw fieldError(at('zones'), 'zone rules follow tracked objects: they need tracking.enabled (no --no-tracking)', 'tracking on', 'tracking off');
  }
  const policy = { mediaRoots: ingest.mediaRoots, tlsVerify: source.tlsVerify, ...(opts.requireMediaRoot ? { requireMediaRoot: true } : {}) };
  let configured: SourceSpec;
  let spec: SourceSpec;
  try {
    configured = sourceSpecOf(entry.id, entry.url);
    spec = resolveSource(configured, policy);
  } catch (err) {
    throw atField(at('url'), err);
  }
  return {
    id: entry.id,
    url: entry.url,
    spec,
    enabled: entry.enabled,
    confidence: entry.confidence ?? inference.confidence,
    source,
    motionGate: { ...ingest.motionGate, ...definedOf(entry.motionGate ?? {}) },
    zones: entry.zones ?? [],
    origin: opts.origin ?? 'config',
    entry,
    recheck: () => resolveSource(configured, policy),
  };
}

/** The fields of `o` that are set (an explicit undefined does not hide a default). */
function definedOf<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkReadable(field: string, path: string | undefined): void {
  if (path === undefined) return;
  try {
    accessSync(path, constants.R_OK);
    if (!statSync(path).isFile()) throw new Error('not a file');
  } catch {
    throw fieldError(field, `cannot read '${path}' as a file`, 'a readable PEM file', path);
  }
}

/** Tracker option -> its field in the tracking section (for error messages). */
const TRACKER_FIELDS: Readonly<Record<string, keyof TrackingConfig>> = {
  highScoreThreshold: 'highScore',
  newTrackThreshold: 'newScore',
  maxAgeS: 'maxAge',
  targetMemoryS: 'targetMemory',
  cameraMotion: 'cameraMotion',
};

/**
 * The tracker options `segstream run` uses: the MOT-tuned defaults with score thresholds for
 * YOLOv8-seg (it scores road objects lower than MOT15's Faster R-CNN), and the low threshold at
 * the detector's own confidence cut, so every published detection can continue a track.
 */
export function liveTrackerOptions(t: TrackingConfig, confidence: number): TrackerOptionsInput {
  return {
    highScoreThreshold: t.highScore,
    newTrackThreshold: t.newScore,
    lowScoreThreshold: Math.min(confidence, t.highScore),
    maxAgeS: t.maxAge,
    predictWindowS: Math.min(0.2, t.maxAge),
    targetMemoryS: t.targetMemory,
    targetPredictS: Math.min(1, t.targetMemory),
    cameraMotion: t.cameraMotion,
    // The detection's own box, which its mask was cut to (the Kalman box is smoother but would
    // clip the mask).
    outputBox: 'detection',
  };
}

/** Every tracking rule, checked before anything starts: the error names the config field. */
function verifyTracking(t: TrackingConfig, confidence: number): void {
  try {
    parseTrackerOptions(liveTrackerOptions(t, confidence));
  } catch (err) {
    if (!(err instanceof SegstreamError)) throw err;
    const field = Object.entries(TRACKER_FIELDS).find(([opt]) => err.message.includes(`option ${opt}:`))?.[1];
    throw new SegstreamError('E_CONFIG', `invalid configuration: ${field ? `tracking.${field}` : 'tracking'}: ${err.message}`, { expected: err.expected, actual: err.actual });
  }
}

/** The inference engine's options for the inference section (also used by bench/eval-prompt). */
export function engineOptions(inf: InferenceConfig): EngineOptions {
  const cores = Math.max(1, availableParallelism());
  // Several single-threaded sessions beat one session with every core: onnxruntime's
  // intra-op threads synchronise after every operator (on 2 cores: 2 sessions x 1 thread run
  // about 1.5x the frames of 1 session x 2 threads). Up to 4, each session's memory counting.
  const devices = parseDeviceList(inf.device);
  // A GPU device in the list means one session (it is the first that works, or the CPU
  // fallback runs single-session; say --workers to have more).
  const workers = inf.workers !== 0 ? inf.workers : devices[0] === 'cpu' ? Math.min(cores, 4) : 1;
  return {
    workers,
    threadsPerWorker: inf.threads === 0 ? Math.max(1, Math.floor(cores / workers)) : inf.threads,
    maxBatch: inf.batch,
    batchWaitMs: inf.batchWaitMs,
    devices,
    decode: { confidence: inf.confidence, iouThreshold: inf.iou, agnostic: inf.agnosticNms, maxDetections: inf.maxDetections },
  };
}

/** Rules between a zone's fields: a movement limit is a share or pixels, not both. */
export function verifyZones(zones: readonly ZoneEntry[], field: string): void {
  zones.forEach((zone, i) => {
    zone.rules.forEach((rule, j) => {
      if ((rule.kind === 'stopped' || rule.kind === 'unknown') && rule.maxMove !== undefined && rule.maxMovePx !== undefined) {
        throw fieldError(`${field}[${i}].rules[${j}].maxMovePx`, 'give maxMove (a share of the box diagonal) or maxMovePx, not both', 'one of them', 'both');
      }
    });
  });
}

/** The webhook is an http(s) URL with a host (nothing else is ever requested): WebhookSender's own check, at its field. */
function verifyWebhook(url: string | undefined): void {
  if (url === undefined) return;
  try {
    WebhookSender.check(url);
  } catch (err) {
    throw fieldError('events.webhook.url', 'the webhook must be an http:// or https:// URL with a host', 'http(s)://host[:port]/path', (err as SegstreamError).actual);
  }
}
