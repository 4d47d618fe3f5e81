import type { ChannelReply, DetectionsInit, WorkerHello } from '../core/index.js';
import type { RgbImage } from './image.js';

/** Messages between the main thread and the CLIP worker (structured clone). */
export interface ClipWorkerInit {
  files: { image: string; text: string; merges: string; vocab?: string };
  options: Record<string, unknown>;
}

export type ClipRequest =
  | { type: 'select'; id: number; text: string; detections: DetectionsInit; image: RgbImage }
  | { type: 'close' };

export type ClipReply = WorkerHello | ChannelReply<{ index: number; probabilities: Float32Array }>;
