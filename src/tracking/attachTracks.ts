import { Detections, type MaskCrop } from '../core/index.js';
import type { TrackedObject } from './tracker.js';

export interface AttachedTracks {
  /**
   * Every detection of the frame except duplicates fused into a better box of the same object,
   * in detection order, with `trackIds` and the track's voted label where a confirmed track
   * matched it; then the confirmed tracks that were briefly lost (predicted box and warped
   * mask, `predicted` = 1). Detections no confirmed track claimed keep trackId -1: the wire
   * still shows every object, ids only where they are stable.
   */
  readonly detections: Detections;
  /** For each of `detections`, its index in the tracker's input; -1 for predicted objects. */
  readonly sourceIndex: Int32Array;
}

export function attachTracks(dets: Detections, tracked: readonly TrackedObject[], duplicates: readonly number[] = []): AttachedTracks {
  const dropped = new Set(duplicates);
  const kept: number[] = [];
  for (let i = 0; i < dets.length; i++) if (!dropped.has(i)) kept.push(i);
  const base = dropped.size === 0 ? dets : dets.subset(kept);
  const position = new Int32Array(dets.length).fill(-1);
  kept.forEach((i, k) => (position[i] = k));
  const extra = tracked.filter((t) => t.detIndex < 0);
  const m = base.length;
  const n = m + extra.length;
  const boxes = new Float32Array(n * 4);
  boxes.set(base.boxes);
  const scores = new Float32Array(n);
  scores.set(base.scores);
  const classIds = new Int32Array(n);
  classIds.set(base.classIds);
  const ids = new Int32Array(n).fill(-1);
  const masks: (MaskCrop | null)[] = [...base.masks];
  for (const t of tracked) {
    const k = t.detIndex >= 0 && t.detIndex < dets.length ? position[t.detIndex]! : -1;
    if (k < 0) continue;
    ids[k] = t.id;
    classIds[k] = t.classId;
    // The tracker's reported box (the detection's, or the Kalman one with outputBox 'filtered') and its mask.
    boxes.set(t.box, k * 4);
    masks[k] = t.mask;
  }
  const predicted = new Uint8Array(n);
  extra.forEach((t, j) => {
    const i = m + j;
    boxes.set(t.box, i * 4);
    scores[i] = t.score;
    classIds[i] = t.classId;
    ids[i] = t.id;
    predicted[i] = 1;
    masks.push(t.mask);
  });
  let coefficients: Float32Array | null = null;
  if (base.coefficients !== null) {
    coefficients = new Float32Array(n * base.coefficientDim);
    coefficients.set(base.coefficients);
  }
  const sourceIndex = new Int32Array(n).fill(-1);
  sourceIndex.set(kept);
  return { detections: new Detections({ boxes, scores, classIds, masks, trackIds: ids, predicted, coefficients }), sourceIndex };
}
