import { boxIou } from '../core/index.js';

export interface NmsOptions {
  /** Boxes overlapping a kept box by more than this IoU are suppressed. */
  iouThreshold: number;
  /** true: any two boxes compete (FastSAM's everything mode); false: only boxes of the same class. */
  agnostic: boolean;
  /** Keep at most this many boxes. */
  maxDetections: number;
}

/**
 * Greedy non-maximum suppression. Returns kept indices, highest score first.
 * O(n * kept): n is already cut by the confidence threshold, so this stays small.
 */
export function nms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  classIds: ArrayLike<number>,
  options: NmsOptions,
): number[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const keep: number[] = [];
  for (const i of order) {
    if (keep.length >= options.maxDetections) break;
    let suppressed = false;
    for (const k of keep) {
      if (!options.agnostic && classIds[k] !== classIds[i]) continue;
      if (boxIou(boxes, i * 4, boxes, k * 4) > options.iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) keep.push(i);
  }
  return keep;
}
