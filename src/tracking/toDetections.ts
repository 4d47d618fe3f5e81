import { Detections, type MaskCrop } from '../core/index.js';
import type { TrackedObject } from './tracker.js';

/**
 * Tracked objects as a Detections (trackIds filled), for stages that consume the shared
 * data model. Predicted objects are included; callers that want only observed ones filter
 * `predicted` first.
 */
export function trackedToDetections(objects: readonly TrackedObject[]): Detections {
  const n = objects.length;
  const boxes = new Float32Array(n * 4);
  const scores = new Float32Array(n);
  const classIds = new Int32Array(n);
  const trackIds = new Int32Array(n);
  const masks: (MaskCrop | null)[] = [];
  objects.forEach((o, i) => {
    boxes.set(o.box, i * 4);
    scores[i] = o.score;
    classIds[i] = o.classId;
    trackIds[i] = o.id;
    masks.push(o.mask);
  });
  return new Detections({ boxes, scores, classIds, masks, trackIds });
}
