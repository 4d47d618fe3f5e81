/** Intersection over union of boxes i and j in an xyxy array. */
export function boxIou(boxes: ArrayLike<number>, i: number, j: number): number {
  const ax1 = boxes[i * 4]!, ay1 = boxes[i * 4 + 1]!, ax2 = boxes[i * 4 + 2]!, ay2 = boxes[i * 4 + 3]!;
  const bx1 = boxes[j * 4]!, by1 = boxes[j * 4 + 1]!, bx2 = boxes[j * 4 + 2]!, by2 = boxes[j * 4 + 3]!;
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}

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
      if (boxIou(boxes, i, k) > options.iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) keep.push(i);
  }
  return keep;
}
