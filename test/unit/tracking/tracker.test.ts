import { describe, expect, it } from 'vitest';
import { Detections, isSegstreamError, type MaskCrop } from '../../../src/core/index.js';
import { ByteTracker, classGroupsOf, parseTrackerOptions, trackedToDetections, type TrackedObject } from '../../../src/tracking/index.js';

interface D {
  box: [number, number, number, number];
  score?: number;
  classId?: number;
  mask?: MaskCrop | null;
  /** Mask coefficients (appearance); all detections of a list have them or none. */
  coef?: number[];
}

function dets(list: D[]): Detections {
  const withCoef = list.length > 0 && list.every((d) => d.coef !== undefined);
  return new Detections({
    boxes: Float32Array.from(list.flatMap((d) => d.box)),
    scores: Float32Array.from(list.map((d) => d.score ?? 0.95)),
    classIds: Int32Array.from(list.map((d) => d.classId ?? 0)),
    masks: list.map((d) => d.mask ?? null),
    ...(withCoef ? { coefficients: Float32Array.from(list.flatMap((d) => d.coef!)) } : {}),
  });
}

/** Frames are 1/30 s apart when update() gets no time: a few frames' worth of seconds. */
const frames = (n: number): number => n / 30 + 1e-3;

/** A 40 x 100 px box whose left edge is at x, top at y. */
function person(x: number, y = 100): [number, number, number, number] {
  return [x, y, x + 40, y + 100];
}

function mask(x: number, y: number): MaskCrop {
  return { x, y, width: 40, height: 100, data: new Uint8Array(40 * 100).fill(1) };
}

const strict = { confirmOnFirstFrame: false, predictWindowS: 0 };

const COCO8 = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck'];
const [PERSON, CAR, BUS, TRUCK] = [0, 2, 5, 7];

function expectMaskInBox(o: TrackedObject): void {
  const m = o.mask!;
  let set = 0;
  let outside = 0;
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      if (!m.data[y * m.width + x]) continue;
      set++;
      const px = m.x + x;
      const py = m.y + y;
      if (px < Math.floor(o.box[0]) || px >= Math.ceil(o.box[2]) || py < Math.floor(o.box[1]) || py >= Math.ceil(o.box[3])) outside++;
    }
  }
  expect(set).toBeGreaterThan(0);
  expect(outside).toBe(0);
}

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

  it('keeps a lost track for maxAgeS, then removes it and a return gets a new id', () => {
    const t = new ByteTracker({ ...strict, minHits: 1, maxAgeS: frames(2) });
    for (let f = 0; f < 3; f++) t.update(dets([{ box: person(f * 2) }]));
    t.update(dets([]));
    expect(t.activeTracks.map((x) => x.state)).toEqual(['lost']);
    t.update(dets([]));
    expect(t.activeTracks.map((x) => x.state)).toEqual(['lost']);
    t.update(dets([]));
    expect(t.activeTracks).toHaveLength(0);
    expect(t.update(dets([{ box: person(12) }])).map((o) => o.id)).toEqual([2]);
  });

  it('keeps the id across a 2-frame miss, outputting predicted boxes and masks moved into them meanwhile', () => {
    const t = new ByteTracker({ minHits: 1, predictWindowS: frames(2) });
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
      expect(o.mask!.data.reduce((a, v) => a + v, 0)).toBeGreaterThan(0.9 * 40 * 100);
      expect(Math.abs(o.box[0] - (20 + 4 * k))).toBeLessThan(3);
      expectMaskInBox(o);
    }
    expect(miss2[0]!.mask!.x).toBeGreaterThan(miss1[0]!.mask!.x);
    const back = t.update(dets([{ box: person(32), mask: mask(32, 100) }]));
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ id: 1, predicted: false, state: 'confirmed', detIndex: 0 });
    expect(back[0]!.mask!.x).toBe(32);
  });

  it('stops outputting a lost track after predictWindowS while still able to re-find it', () => {
    const t = new ByteTracker({ minHits: 1, predictWindowS: frames(1), maxAgeS: frames(10) });
    for (let f = 0; f < 4; f++) t.update(dets([{ box: person(f * 4) }]));
    expect(t.update(dets([]))).toHaveLength(1);
    expect(t.update(dets([]))).toHaveLength(0);
    expect(t.update(dets([{ box: person(24) }])).map((o) => o.id)).toEqual([1]);
  });

  it('keeps ids of two objects crossing each other', () => {
    const t = new ByteTracker({ minHits: 1, predictWindowS: 0 });
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
      const t = new ByteTracker({ minHits: 1, predictWindowS: frames(1), lowScoreThreshold, highScoreThreshold: 0.7 });
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

  it('associates within class groups: car -> truck continues, person -> car does not; `class` and `any` as named', () => {
    const groups = { classGroups: classGroupsOf(COCO8) };
    const run = (association: 'group' | 'class' | 'any', from: number, to: number): number[] => {
      const t = new ByteTracker({ minHits: 1, predictWindowS: 0, association }, groups);
      t.update(dets([{ box: person(0), classId: from }]));
      return t.update(dets([{ box: person(1), classId: to }])).map((o) => o.id);
    };
    expect(run('group', CAR, TRUCK)).toEqual([1]);
    expect(run('group', PERSON, CAR)).toEqual([2]);
    expect(run('class', CAR, TRUCK)).toEqual([2]);
    expect(run('any', PERSON, CAR)).toEqual([1]);
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

describe('ByteTracker: time, labels, duplicates', () => {
  /** A 40 x 100 box moving 300 px/s to the right. */
  const at = (tS: number): [number, number, number, number] => person(300 * tS);

  it('predicts through skipped frames by media time: 1 processed frame in 5 still matches a fast object', () => {
    // 10 px per 30 fps frame; with 4 of 5 frames skipped it moves 50 px (more than its width) between updates.
    const run = (withTime: boolean): number[] => {
      const t = new ByteTracker({ minHits: 1, predictWindowS: 0, matchIouHigh: 0.2 });
      const ids: number[] = [];
      // Every frame for 1 s (the filter learns the velocity), then 1 frame in 5.
      for (let f = 0; f < 90; f += f < 30 ? 1 : 5) {
        const out = t.update(dets([{ box: at(f / 30) }]), withTime ? f / 30 : undefined);
        ids.push(...out.map((o) => o.id));
      }
      return ids;
    };
    expect(new Set(run(true))).toEqual(new Set([1]));
    // Stepping as if frames were consecutive (1/30 s) loses the object again and again.
    expect(new Set(run(false)).size).toBeGreaterThan(2);
  });

  it('ages in seconds: the same maxAgeS holds at 5 fps and at 60 fps', () => {
    for (const fps of [5, 60]) {
      const t = new ByteTracker({ minHits: 1, maxAgeS: 1, predictWindowS: 0 });
      let f = 0;
      for (; f < fps; f++) t.update(dets([{ box: person(0) }]), f / fps);
      // Unseen for 0.9 s: kept; for 1.2 s: removed.
      for (; f < fps + Math.round(0.9 * fps); f++) t.update(dets([]), f / fps);
      expect(t.activeTracks.map((x) => x.state)).toEqual(['lost']);
      for (; f < fps + Math.round(1.2 * fps); f++) t.update(dets([]), f / fps);
      expect(t.activeTracks).toHaveLength(0);
    }
  });

  it('never runs time backwards: an earlier timestamp counts as no time passed', () => {
    const t = new ByteTracker({ minHits: 1, maxAgeS: 1, predictWindowS: 0 });
    t.update(dets([{ box: person(0) }]), 100);
    t.update(dets([]), 0.5); // back in time: still at 100 s
    t.update(dets([]), 100.5);
    expect(t.activeTracks.map((x) => x.state)).toEqual(['lost']);
    t.update(dets([]), 101.2);
    expect(t.activeTracks).toHaveLength(0);
  });

  it('fuses a car and a truck box on one vehicle into one object; the label is the score-weighted vote', () => {
    const t = new ByteTracker({ minHits: 1, labelHalfLifeS: 10, highScoreThreshold: 0.5, newTrackThreshold: 0.5 }, { classGroups: classGroupsOf(COCO8) });
    // Frame 1: car 0.8 and truck 0.6 on the same box: one object, label car.
    let out = t.update(dets([{ box: person(0), classId: CAR, score: 0.8 }, { box: person(1), classId: TRUCK, score: 0.6 }]), 0);
    expect(out.map((o) => [o.id, o.classId, o.detIndex])).toEqual([[1, CAR, 0]]);
    expect(t.lastDuplicates).toEqual([1]);
    // A person box on the same spot is another object (other group), not a duplicate.
    const t2 = new ByteTracker({ minHits: 1 }, { classGroups: classGroupsOf(COCO8) });
    expect(t2.update(dets([{ box: person(0), classId: CAR }, { box: person(1), classId: PERSON }]), 0)).toHaveLength(2);
    // Flicker: truck once at 0.9 does not outvote car 0.8 + 0.75 + duplicates; the label stays car.
    t.update(dets([{ box: person(2), classId: CAR, score: 0.75 }]), 0.1);
    out = t.update(dets([{ box: person(4), classId: TRUCK, score: 0.9 }]), 0.2);
    expect(out.map((o) => [o.id, o.classId])).toEqual([[1, CAR]]);
    // Steadily a truck from then on: the vote turns.
    for (let k = 3; k < 8; k++) out = t.update(dets([{ box: person(2 * k), classId: TRUCK, score: 0.9 }]), k / 10);
    expect(out.map((o) => [o.id, o.classId])).toEqual([[1, TRUCK]]);
  });

  it('duplicateIou 0 turns fusion off', () => {
    const t = new ByteTracker({ minHits: 1, duplicateIou: 0, association: 'class' });
    expect(t.update(dets([{ box: person(0), classId: CAR }, { box: person(1), classId: TRUCK }]), 0)).toHaveLength(2);
  });

  it('compensates a camera pan: every track shifted by 60 px at once keeps its id with cameraMotion', () => {
    const run = (cameraMotion: boolean): number[] => {
      const t = new ByteTracker({ minHits: 1, predictWindowS: 0, cameraMotion });
      const scene = (dx: number) => dets([0, 100, 200, 300, 400].map((x) => ({ box: person(x + dx) })));
      for (let f = 0; f < 5; f++) t.update(scene(0), f / 10);
      return t.update(scene(60), 0.5).map((o) => o.id);
    };
    expect(run(true)).toEqual([1, 2, 3, 4, 5]);
    expect(run(false)).not.toEqual([1, 2, 3, 4, 5]);
  });
});

describe('ByteTracker: prompted (pinned) tracks', () => {
  const A = [1, 0, 0, 0];
  const B = [0, 1, 0, 0];

  it('adopt() turns a detection below every threshold into a confirmed track with an id', () => {
    const t = new ByteTracker({ highScoreThreshold: 0.7, newTrackThreshold: 0.8, lowScoreThreshold: 0.1 });
    expect(t.update(dets([{ box: person(0), score: 0.3 }]), 0)).toEqual([]);
    const id = t.adopt(0);
    expect(id).toBe(1);
    t.setPinned([id!]);
    const out = t.update(dets([{ box: person(2), score: 0.3 }]), 0.1);
    expect(out.map((o) => [o.id, o.predicted, o.pinned])).toEqual([[1, false, true]]);
    expect(t.adopt(5)).toBeUndefined();
  });

  it('a pinned track is kept and predicted while missed, an unpinned one is not', () => {
    const opts = { minHits: 1, maxAgeS: 0.5, predictWindowS: 0.1, targetMemoryS: 5, targetPredictS: 1 };
    const t = new ByteTracker(opts);
    t.update(dets([{ box: person(0) }, { box: person(300) }]), 0);
    t.setPinned([1]);
    const at = (s: number) => t.update(dets([]), s);
    expect(at(0.5).map((o) => o.id)).toEqual([1]);
    expect(at(0.9).map((o) => [o.id, o.predicted])).toEqual([[1, true]]);
    expect(at(2)).toEqual([]); // past targetPredictS: not output, still kept
    expect(t.activeTracks.map((x) => x.id)).toEqual([1]);
    at(5.5);
    expect(t.activeTracks).toHaveLength(0);
  });

  it('re-acquires a pinned track from an unclaimed low-score detection that no IoU match reaches', () => {
    const t = new ByteTracker({ minHits: 1, predictWindowS: 0, targetPredictS: 0, lowScoreThreshold: 0.2 });
    for (let k = 0; k < 3; k++) t.update(dets([{ box: person(0), coef: A }]), k / 10);
    t.setPinned([1]);
    for (let k = 3; k < 10; k++) t.update(dets([]), k / 10);
    // Back after 0.7 s, 50 px off (no overlap with the 40 px box), score 0.3.
    const out = t.update(dets([{ box: person(50), score: 0.3, coef: A }]), 1);
    expect(out.map((o) => [o.id, o.predicted])).toEqual([[1, false]]);
  });

  it('re-acquisition takes over a track born while the pinned one was lost, keeping the prompted id', () => {
    const t = new ByteTracker({ minHits: 1, predictWindowS: 0, targetPredictS: 0 });
    for (let k = 0; k < 3; k++) t.update(dets([{ box: person(0), coef: A }]), k / 10);
    t.setPinned([1]);
    t.update(dets([]), 0.3);
    // Reappears 60 px away: a new track 2 is born (nothing overlaps the pinned one).
    expect(t.update(dets([{ box: person(60), coef: A }]), 0.4).map((o) => o.id)).toEqual([1]);
    expect(t.activeTracks.map((x) => x.id)).toEqual([1]);
  });

  it('never re-acquires from an object that was already in view: a look-alike beside the prompted one stays itself', () => {
    const t = new ByteTracker({ minHits: 1, predictWindowS: 0, targetPredictS: 0, lowScoreThreshold: 0.2 });
    // The prompted car at x = 0, a weak look-alike (never tracked) at x = 60, both seen for 0.3 s.
    for (let k = 0; k < 3; k++) t.update(dets([{ box: person(0), coef: A }, { box: person(60), score: 0.3, coef: A }]), k / 10);
    t.setPinned([1]);
    // The prompted car leaves; the look-alike stays, within the gate, with the same coefficients.
    const after = [3, 4, 5].map((k) => t.update(dets([{ box: person(60), score: 0.3, coef: A }]), k / 10));
    for (const out of after) expect(out.some((o) => o.id === 1 && !o.predicted)).toBe(false);
    // A new detection where nothing was, with the car's look, is the car coming back.
    const back = t.update(dets([{ box: person(60), score: 0.3, coef: A }, { box: person(-40), score: 0.3, coef: A }]), 0.6);
    expect(back.filter((o) => o.id === 1).map((o) => [o.detIndex, o.predicted])).toEqual([[1, false]]);
  });

  it('a part of the prompted object detected apart (its front as another box) does not block its re-acquisition', () => {
    const t = new ByteTracker({ minHits: 1, predictWindowS: 0, targetPredictS: 0, lowScoreThreshold: 0.2, duplicateIou: 0 });
    // The car [0, 100, 40, 200] and a weak box over its upper part [0, 100, 60, 160] (IoU 0.46).
    for (let k = 0; k < 3; k++) t.update(dets([{ box: person(0), coef: A }, { box: [0, 100, 60, 160], score: 0.3, coef: B }]), k / 10);
    t.setPinned([1]);
    for (let k = 3; k < 6; k++) t.update(dets([]), k / 10);
    // Back 25 px right, weak (IoU 0.2 with its prediction: only re-acquisition can take it), on
    // the place of that part box (IoU 0.38): found again.
    const out = t.update(dets([{ box: [25, 90, 65, 190], score: 0.3, coef: A }]), 0.6);
    expect(out.map((o) => [o.id, o.predicted])).toEqual([[1, false]]);
  });

  it('a returning object that failed a gate once is still re-acquired later (its own unowned boxes do not block it)', () => {
    const t = new ByteTracker({ minHits: 1, predictWindowS: 0, targetPredictS: 0, lowScoreThreshold: 0.2 });
    for (let k = 0; k < 3; k++) t.update(dets([{ box: person(0), coef: A }]), k / 10);
    t.setPinned([1]);
    for (let k = 3; k < 8; k++) t.update(dets([]), k / 10);
    // Back 50 px off at a weak score, first half hidden (other coefficients), then as itself.
    expect(t.update(dets([{ box: person(50), score: 0.3, coef: [0.6, 0.8, 0, 0] }]), 0.8).some((o) => o.id === 1)).toBe(false);
    expect(t.update(dets([{ box: person(52), score: 0.3, coef: A }]), 0.9).map((o) => [o.id, o.predicted])).toEqual([[1, false]]);
  });

  it('a gap between frames (a reconnect) moves a track by at most maxAgeS of its velocity, and never turns a box inside out', () => {
    const t = new ByteTracker({ minHits: 1, maxAgeS: 1, predictWindowS: 0, targetPredictS: 0 });
    // 150 px/s to the right, shrinking 20 px/s.
    for (let k = 0; k <= 30; k++) t.update(dets([{ box: [150 * (k / 30), 100, 150 * (k / 30) + 40, 200 - 20 * (k / 30)] }]), k / 30);
    t.setPinned([1]);
    t.update(dets([]), 1 + 5); // 5 s without frames
    const b = t.activeTracks[0]!.box;
    expect(b[0]).toBeLessThan(150 + 40 + 150 * 1.2); // about one second's worth of motion, not five
    expect(b[2]).toBeGreaterThan(b[0]);
    expect(b[3]).toBeGreaterThan(b[1]);
    // Shrinking fast for long: still a box with a positive size.
    const s = new ByteTracker({ minHits: 1, maxAgeS: 3, predictWindowS: 3 });
    for (let k = 0; k <= 10; k++) s.update(dets([{ box: [100, 100, 140, 200 - 8 * k] }]), k / 10);
    const out = s.update(dets([]), 3.9);
    expect(out[0]!.box[3]).toBeGreaterThan(out[0]!.box[1]);
    expect(out[0]!.box[2]).toBeGreaterThan(out[0]!.box[0]);
  });

  it('a NaN timestamp counts as no time passed; lost tracks still age out afterwards', () => {
    const t = new ByteTracker({ minHits: 1, maxAgeS: 1, predictWindowS: 0 });
    t.update(dets([{ box: person(0) }]), 0);
    t.update(dets([]), Number.NaN);
    t.update(dets([]), 0.5);
    expect(t.activeTracks).toHaveLength(1);
    t.update(dets([]), 2);
    expect(t.activeTracks).toHaveLength(0);
  });

  it('discardAdopted() takes back the tracks a refused prompt made', () => {
    const t = new ByteTracker({ highScoreThreshold: 0.7, newTrackThreshold: 0.8 });
    t.update(dets([{ box: person(0), score: 0.3 }, { box: person(200), score: 0.95 }]), 0);
    const id = t.adopt(0)!;
    expect(t.activeTracks.map((x) => x.id)).toContain(id);
    t.discardAdopted([id, 1]);
    expect(t.activeTracks.map((x) => x.id)).toEqual([1]);
  });

  it('remembers boxes for re-acquisition for at most 1 s and 64 processed frames, pinned tracks or not', () => {
    for (const [fps, most] of [
      [30, 31],
      [240, 64],
    ] as const) {
      const t = new ByteTracker({ minHits: 1 });
      for (let f = 0; f < 300; f++) t.update(dets([{ box: person(f % 50) }]), f / fps);
      expect(t.rememberedFrames).toBeLessThanOrEqual(most);
      expect(t.rememberedFrames).toBeGreaterThan(most / 2);
    }
  });

  it('appearance gates re-acquisition: a look-alike position with other mask coefficients is not taken', () => {
    const t = new ByteTracker({ minHits: 1, predictWindowS: 0, targetPredictS: 0, reacquireSimilarity: 0.5 });
    for (let k = 0; k < 3; k++) t.update(dets([{ box: person(0), coef: A }]), k / 10);
    t.setPinned([1]);
    t.update(dets([]), 0.3);
    const out = t.update(dets([{ box: person(60), coef: B }]), 0.4);
    expect(out.map((o) => o.id)).toEqual([2]);
  });
});

describe('parseTrackerOptions', () => {
  it('fills every default', () => {
    const o = parseTrackerOptions({});
    expect(o.minHits).toBe(2);
    expect(o.highScoreThreshold).toBe(0.8);
    expect(o.maxAgeS).toBe(1);
  });

  it.each([
    [{ bogus: 1 }, 'bogus'],
    [{ minHits: 0 }, 'minHits'],
    [{ lowScoreThreshold: 0.8, highScoreThreshold: 0.7 }, 'lowScoreThreshold'],
    [{ newTrackThreshold: 0.5 }, 'newTrackThreshold'],
    [{ predictWindowS: 2, maxAgeS: 1 }, 'predictWindowS'],
    [{ targetPredictS: 20, targetMemoryS: 10 }, 'targetPredictS'],
    [{ maxAgeS: 0 }, 'maxAgeS'],
    [{ association: 'label' }, 'association'],
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
