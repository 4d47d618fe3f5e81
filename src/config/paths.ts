import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (two levels above src/config/ or dist/config/). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the model is looked for when none is configured, in order. */
export const DEFAULT_MODEL_PATHS = [
  resolve(PACKAGE_ROOT, 'models/yolov8n-seg-320.onnx'),
  resolve(PACKAGE_ROOT, '../shared/models/yolov8n-seg-320.onnx'),
];

/** The built-in demo source when no camera is configured: a real traffic clip, looped. */
export const DEFAULT_SOURCE = resolve(PACKAGE_ROOT, '../shared/data/videos/urban_intersection_cctv.mp4');

export function defaultModelPath(): string {
  return DEFAULT_MODEL_PATHS.find((p) => existsSync(p)) ?? DEFAULT_MODEL_PATHS[0]!;
}
