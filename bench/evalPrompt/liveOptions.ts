import { engineOptions } from '../../src/app.js';
import { CONFIG_DEFAULTS, liveTrackerOptions as trackerOptionsOf, type AppConfig } from '../../src/config.js';
import type { EngineOptions } from '../../src/pipeline/index.js';
import type { TrackerOptionsInput } from '../../src/tracking/index.js';

/** The live service's settings, from the config defaults `segstream run` starts with. */
export function liveTrackerOptions(config: AppConfig = CONFIG_DEFAULTS): TrackerOptionsInput {
  return trackerOptionsOf(config);
}

export function liveEngineOptions(config: AppConfig = CONFIG_DEFAULTS): EngineOptions {
  return engineOptions(config);
}
