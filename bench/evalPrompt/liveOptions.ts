import { CONFIG_DEFAULTS, type AppConfig } from '../../src/config.js';
import type { EngineOptions } from '../../src/pipeline/index.js';
import type { TrackerOptionsInput } from '../../src/tracking/index.js';

/**
 * The live service's settings, from the config defaults `segstream run` starts with. app.ts
 * builds both objects inline and exports neither; replace these with its helpers once it does.
 */

// mirrors app.ts
export function liveTrackerOptions(config: AppConfig = CONFIG_DEFAULTS): TrackerOptionsInput {
  return {
    highScoreThreshold: config.trackHighScore,
    newTrackThreshold: config.trackNewScore,
    lowScoreThreshold: Math.min(config.confidence, config.trackHighScore),
    maxAge: config.trackMaxAge,
  };
}

// mirrors app.ts
export function liveEngineOptions(config: AppConfig = CONFIG_DEFAULTS): EngineOptions {
  return {
    workers: config.workers,
    threadsPerWorker: config.threads,
    maxBatch: config.maxBatch,
    executionProviders: [config.executionProvider],
    decode: { confidence: config.confidence, iouThreshold: config.iou, agnostic: config.agnosticNms, maxDetections: config.maxDetections },
  };
}
