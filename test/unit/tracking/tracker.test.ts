import { describe, expect, it } from 'vitest';
import { Detections, isSegstreamError, type MaskCrop } from '../../../src/core/index.js';
import { ByteTracker, parseTrackerOptions, trackedToDetections, type TrackedObject } from '../../../src/tracking/index.js';

interface D {
  box: [number, number, number, number];
  score?: number;
  classId?: number;
  mask?: MaskCrop | null;
}

function dets(list: D[]): Detections {
  return new Detections({
    boxes: Float32Array.from(list.flatMap((d) => d.box)),
    scores: Float32Array.from(list.map((d) => d.score ?? 0.9)),
    classIds: Int32Array.from(list.map((d) => d.classId ?? 0)),
    masks: list.map((d) => d.mask ?? null),
  });
}

/** A 40 x 100 px box whose left edge is at x, top at y. */
function person(x: number, y = 100): [number, number, number, number] {
  return [x, y, x + 40, y + 100];
}

function mask(x: number, y: number): MaskCrop {
  return { x, y, width: 40, height: 100, data: new Uint8Array(40 * 100).fill(1) };
}

const strict = { confirmOnFirstFrame: false, maxPredictFrames: 0 };

describe('ByteTracker state machine', () => {
  it('reports a track only once it has minHits matches, then with id 1', () => {
    const t = new ByteTracker({ ...strict, minHits: 3 });
    expect(t.update(dets([{ box: person(0) }]))).toEqual([]);
    expect(t.activeTracks[0]!.state).toBe('tentative');
    expect(t.update(dets([{ box: person(2) }]))).toEqual([]);
    const out = t.update(dets([{ box: person(4) }]));
    expect(out.map((o) => [o.id, o.state, o.predicted, o.detIndex])).toEqual([[1, 'confirmed', false, 0]]);
  });

  it('confirms tracks born on the first frame at once when confirmOnFirstFrame is on', () => {
    const t = new ByteTracker({ minHits: 3, confirmOnFirstFrame: true });
    expect(t.update(dets([{ box: person(0) }, { box: person(200) }])).map((o) => o.id)).toEqual([1, 2]);
    // Later-born tracks still wait for minHits.
    expect(t.update(dets([{ box: person(2) }, { box: person(202) }, { box: person(400) }])).map((o) => o.id)).toEqual([
      1, 2,
    ]);
  });

  it('removes a tentative track that misses a frame', () => {
    const t = new ByteTracker({ ...strict, minHits: 3 });
    t.update(dets([{ box: person(0) }]));
    t.update(dets([]));
    expect(t.activeTracks).toHaveLength(0);
  });

  it('keeps a lost track for maxAge frames, then removes it and a return gets a new id', () => {
    const t = new ByteTracker({ ...strict, minHits: 1, maxAge: 2 });
    for (let f = 0; f < 3; f++) t.update(dets([{ box: person(f * 2) }]));
    t.update(dets([]));
    expect(t.activeTracks.map((x) => x.state)).toEqual(['lost']);
    t.update(dets([]));
    expect(t.activeTracks.map((x) => x.state)).toEqual(['lost']);
    t.update(dets([]));
    expect(t.activeTracks).toHaveLength(0);
    expect(t.update(dets([{ box: person(12) }])).map((o) => o.id)).toEqual([2]);
  });

  it('keeps the id across a 2-frame miss, outputting predicted boxes and shifted masks meanwhile', () => {
    const t = new ByteTracker({ minHits: 1, maxPredictFrames: 2 });
    // Moves +4 px per frame.
    for (let f = 0; f < 6; f++) t.update(dets([{ box: person(f * 4), mask: mask(f * 4, 100) }]));
    const miss1 = t.update(dets([]));
    const miss2 = t.update(dets([]));
    for (const [k, out] of [
      [1, miss1],
      [2, miss2],
    ] as const) {
      expect(out).toHaveLength(1);
      const o = out[0]!;
      expect(o).toMatchObject({ id: 1, predicted: true, state: 'lost', detIndex: -1 });
      // Last mask was at x = 20; after 6 frames the Kalman velocity is near (a little under) 4 px/frame.
      expect(o.mask!.x).toBeGreaterThan(20 + 4 * (k - 1));
      expect(o.mask!.x).toBeLessThanOrEqual(20 + 4 * k);
      expect(o.mask!.y).toBe(100);
      expect(o.mask!.data).toBe(miss1[0]!.mask!.data);
      expect(Math.abs(o.box[0] - (20 + 4 * k))).toBeLessThan(3);
    }
    expect(miss2[0]!.mask!.x).toBeGreaterThan(miss1[0]!.mask!.x);
    const back = t.update(dets([{ box: person(32), mask: mask(32, 100) }]));
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ id: 1, predicted: false, state: 'confirmed', detIndex: 0 });
    expect(back[0]!.mask!.x).toBe(32);
  });

  it('stops outputting a lost track after maxPredictFrames while still able to re-find it', () => {
    const t = new ByteTracker({ minHits: 1, maxPredictFrames: 1, maxAge: 10 });
    for (let f = 0; f < 4; f++) t.update(dets([{ box: person(f * 4) }]));
    expect(t.update(dets([]))).toHaveLength(1);
    expect(t.update(dets([]))).toHaveLength(0);
    expect(t.update(dets([{ box: person(24) }])).map((o) => o.id)).toEqual([1]);
  });

  it('keeps ids of two objects crossing each other', () => {
    const t = new ByteTracker({ minHits: 1, maxPredictFrames: 0 });
    const idAt = new Map<number, number[]>();
    for (let f = 0; f < 30; f++) {
      const a = { box: person(f * 10, 100) };
      const b = { box: person(300 - f * 10, 108) };
      // Alternate the detection order so ids cannot follow list position.
      const out = t.update(dets(f % 2 === 0 ? [a, b] : [b, a]));
      for (const o of out) {
        const movingRight = (f % 2 === 0) === (o.detIndex === 0);
        const key = movingRight ? 0 : 1;
        idAt.set(key, [...(idAt.get(key) ?? []), o.id]);
      }
    }
    expect(new Set(idAt.get(0))).toEqual(new Set([1]));
    expect(new Set(idAt.get(1))).toEqual(new Set([2]));
  });

  it('continues a track through a low-score detection in the second stage', () => {
    const run = (lowScoreThreshold: number): TrackedObject[] => {
      const t = new ByteTracker({ minHits: 1, maxPredictFrames: 1, lowScoreThreshold, highScoreThreshold: 0.7 });
      for (let f = 0; f < 4; f++) t.update(dets([{ box: person(f * 3), score: 0.95 }]));
      return t.update(dets([{ box: person(12), score: 0.3 }]));
    };
    expect(run(0.1)).toEqual([expect.objectContaining({ id: 1, predicted: false, detIndex: 0, score: expect.closeTo(0.3, 5) })]);
    // With the 0.3 box below the low threshold it is dropped and the track is only predicted.
    expect(run(0.5)).toEqual([expect.objectContaining({ id: 1, predicted: true, detIndex: -1 })]);
  });

  it('starts no track from a detection below newTrackThreshold', () => {
    const t = new ByteTracker({ minHits: 1, highScoreThreshold: 0.7, newTrackThreshold: 0.8 });
    expect(t.update(dets([{ box: person(0), score: 0.75 }]))).toEqual([]);
    expect(t.activeTracks).toHaveLength(0);
  });

  it('does not continue a track with a detection of another class when classAware', () => {
    const t = new ByteTracker({ minHits: 1, maxPredictFrames: 0 });
    t.update(dets([{ box: person(0), classId: 0 }]));
    expect(t.update(dets([{ box: person(1), classId: 2 }])).map((o) => o.id)).toEqual([2]);
    const loose = new ByteTracker({ minHits: 1, maxPredictFrames: 0, classAware: false });
    loose.update(dets([{ box: person(0), classId: 0 }]));
    expect(loose.update(dets([{ box: person(1), classId: 2 }])).map((o) => [o.id, o.classId])).toEqual([[1, 2]]);
  });

  it('numbers ids from 1 per instance and reset() starts again at 1', () => {
    const a = new ByteTracker({ minHits: 1 });
    const b = new ByteTracker({ minHits: 1 });
    a.update(dets([{ box: person(0) }, { box: person(200) }]));
    expect(b.update(dets([{ box: person(0) }])).map((o) => o.id)).toEqual([1]);
    a.reset();
    expect(a.frameCount).toBe(0);
    expect(a.update(dets([{ box: person(400) }])).map((o) => o.id)).toEqual([1]);
  });

  it('reset(true) forgets the tracks but keeps counting ids', () => {
    const t = new ByteTracker({ minHits: 1 });
    t.update(dets([{ box: person(0) }, { box: person(200) }]));
    t.reset(true);
    expect(t.activeTracks).toEqual([]);
    // The same place again is a new object with a new id.
    expect(t.update(dets([{ box: person(0) }])).map((o) => o.id)).toEqual([3]);
  });

  it('converts its output to Detections with track ids', () => {
    const t = new ByteTracker({ minHits: 1 });
    const d = trackedToDetections(t.update(dets([{ box: person(0), mask: mask(0, 100) }, { box: person(200) }])));
    expect(Array.from(d.trackIds)).toEqual([1, 2]);
    expect(d.box(1)).toEqual(person(200));
    expect(d.masks[0]?.x).toBe(0);
  });
});

describe('parseTrackerOptions', () => {
  it('fills every default', () => {
    const o = parseTrackerOptions({});
    expect(o.minHits).toBe(2);
    expect(o.highScoreThreshold).toBe(0.7);
  });

  it.each([
    [{ bogus: 1 }, 'bogus'],
    [{ minHits: 0 }, 'minHits'],
    [{ lowScoreThreshold: 0.8, highScoreThreshold: 0.7 }, 'lowScoreThreshold'],
    [{ newTrackThreshold: 0.5 }, 'newTrackThreshold'],
    [{ maxPredictFrames: 40, maxAge: 30 }, 'maxPredictFrames'],
  ])('rejects %j with E_CONFIG naming %s', (input, field) => {
    let err: unknown;
    try {
      parseTrackerOptions(input);
    } catch (e) {
      err = e;
    }
    expect(isSegstreamError(err) && err.code).toBe('E_CONFIG');
    expect((err as Error).message).toContain(field);
  });
});
