import { configSchema, engineOptions, liveTrackerOptions as trackerOptionsOf, type Config } from '../../src/config/index.js';
import type { EngineOptions } from '../../src/pipeline/index.js';
import type { TrackerOptionsInput } from '../../src/tracking/index.js';

/** The live service's settings, from the config defaults `segstream run` starts with. */
export function liveTrackerOptions(config: Config = configSchema.parse({})): TrackerOptionsInput {
  return trackerOptionsOf(config.tracking, config.inference.confidence);
}

export function liveEngineOptions(config: Config = configSchema.parse({})): EngineOptions {
  return engineOptions(config.inference);
}
