import { describe, expect, it } from 'vitest';
import { Detections, type MaskCrop } from '../../../src/core/index.js';
import { attachTracks } from '../../../src/tracking/attachTracks.js';
import type { TrackedObject } from '../../../src/tracking/tracker.js';

const mask = (x: number): MaskCrop => ({ x, y: 0, width: 1, height: 1, data: Uint8Array.of(1) });

describe('attachTracks', () => {
  const dets = new Detections({
    boxes: Float32Array.from([0, 0, 10, 10, 20, 20, 30, 30, 40, 40, 50, 50]),
    scores: Float32Array.from([0.3, 0.8, 0.9]),
    classIds: Int32Array.from([0, 2, 2]),
    masks: [mask(1), mask(2), mask(3)],
  });
  const tracked: TrackedObject[] = [
    { id: 5, box: [20, 20, 30, 30], score: 0.8, classId: 2, mask: mask(2), predicted: false, state: 'confirmed', detIndex: 1, pinned: false },
    // A Kalman-filtered box (outputBox 'filtered') differs from its detection's.
    { id: 6, box: [41, 41, 51, 51], score: 0.9, classId: 2, mask: mask(3), predicted: false, state: 'confirmed', detIndex: 2, pinned: false },
    { id: 7, box: [60, 60, 70, 70], score: 0.7, classId: 5, mask: mask(9), predicted: true, state: 'lost', detIndex: -1, pinned: true },
  ];
  const { detections: out, sourceIndex } = attachTracks(dets, tracked);

  it('keeps every detection, ids only where a confirmed track matched, then the predicted tracks', () => {
    expect(out.length).toBe(4);
    expect(Array.from(out.trackIds)).toEqual([-1, 5, 6, 7]);
    expect(Array.from(out.predicted)).toEqual([0, 0, 0, 1]);
    expect(Array.from(out.classIds)).toEqual([0, 2, 2, 5]);
    expect(Array.from(out.scores)).toEqual([0.3, 0.8, 0.9, 0.7].map(Math.fround));
    expect(out.masks.map((m) => m?.x)).toEqual([1, 2, 3, 9]);
  });

  it("reports the tracker's box for matched and predicted objects", () => {
    expect(out.box(0)).toEqual([0, 0, 10, 10]);
    expect(out.box(2)).toEqual([41, 41, 51, 51]);
    expect(out.box(3)).toEqual([60, 60, 70, 70]);
  });

  it('maps each published object to its tracker input index (-1: predicted)', () => {
    expect(Array.from(sourceIndex)).toEqual([0, 1, 2, -1]);
  });

  it('drops duplicates fused into another box and publishes the voted label', () => {
    const voted: TrackedObject[] = [{ ...tracked[0]!, classId: 7, detIndex: 1 }];
    const r = attachTracks(dets, voted, [2]);
    expect(r.detections.length).toBe(2);
    expect(Array.from(r.detections.trackIds)).toEqual([-1, 5]);
    expect(Array.from(r.detections.classIds)).toEqual([0, 7]);
    expect(Array.from(r.sourceIndex)).toEqual([0, 1]);
  });

  it('leaves the input detections untouched', () => {
    expect(Array.from(dets.trackIds)).toEqual([-1, -1, -1]);
    expect(dets.box(2)).toEqual([40, 40, 50, 50]);
  });
});
