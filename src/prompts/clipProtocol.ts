import type { DetectionsInit } from '../core/index.js';
import type { RgbImage } from './image.js';

/** Messages between the main thread and the CLIP worker (structured clone). */
export interface ClipWorkerInit {
  files: { image: string; text: string; merges: string; vocab?: string };
  options: Record<string, unknown>;
}

export type ClipRequest =
  | { type: 'select'; id: number; text: string; detections: DetectionsInit; image: RgbImage }
  | { type: 'close' };

export interface WireError {
  code: string;
  message: string;
  expected?: unknown;
  actual?: unknown;
}

export type ClipReply =
  | { type: 'ready' }
  | { type: 'init-error'; error: WireError }
  | { type: 'result'; id: number; index: number; probabilities: Float32Array }
  | { type: 'error'; id: number; error: WireError };
