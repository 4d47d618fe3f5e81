import { Detections, type MaskCrop } from '../core/index.js';
import type { TrackedObject } from './tracker.js';

/**
 * Every detection of the frame, with `trackIds` set where a confirmed track matched it,
 * followed by the confirmed tracks that were briefly lost (predicted box and shifted mask,
 * `predicted` = 1). Detections no confirmed track claimed keep trackId -1: the wire still
 * shows every object, ids only where they are stable.
 */
export function attachTracks(dets: Detections, tracked: readonly TrackedObject[]): Detections {
  const trackIds = new Int32Array(dets.length).fill(-1);
  const extra = tracked.filter((t) => t.detIndex < 0);
  const n = dets.length + extra.length;
  const boxes = new Float32Array(n * 4);
  boxes.set(dets.boxes);
  for (const t of tracked) {
    if (t.detIndex < 0 || t.detIndex >= dets.length) continue;
    trackIds[t.detIndex] = t.id;
    // The tracker's reported box: the detection's, or the Kalman one with outputBox 'filtered'.
    boxes.set(t.box, t.detIndex * 4);
  }
  const scores = new Float32Array(n);
  scores.set(dets.scores);
  const classIds = new Int32Array(n);
  classIds.set(dets.classIds);
  const ids = new Int32Array(n);
  ids.set(trackIds);
  const predicted = new Uint8Array(n);
  const masks: (MaskCrop | null)[] = [...dets.masks];
  extra.forEach((t, k) => {
    const i = dets.length + k;
    boxes.set(t.box, i * 4);
    scores[i] = t.score;
    classIds[i] = t.classId;
    ids[i] = t.id;
    predicted[i] = 1;
    masks.push(t.mask);
  });
  return new Detections({ boxes, scores, classIds, masks, trackIds: ids, predicted });
}
