import { describe, expect, it } from 'vitest';
import type { MaskCrop } from '../../../src/core/index.js';
import { DEFAULT_EXPECTED_CLASSES, RuleEngine, type RuleEngineOptions } from '../../../src/events/rules.js';
import type { Rule, RuleObject, Transition, Zone } from '../../../src/events/types.js';
import { rng } from '../../helpers/random.js';

const road: Zone['polygon'] = [
  [0, 0],
  [1000, 0],
  [1000, 1000],
  [0, 1000],
];

function zone(rules: Rule[], extra: Partial<Zone> = {}): Zone {
  return { name: 'road', polygon: road, rules, ...extra };
}

/** A full rectangular mask over x..x+w, y..y+h. */
function rectMask(x: number, y: number, w: number, h: number): MaskCrop {
  return { x, y, width: w, height: h, data: new Uint8Array(w * h).fill(1) };
}

/** An object with a box at (x, y) of w x h and, unless `mask: null`, a full mask over it. */
function obj(track: number, x: number, y = 100, o: { label?: string; w?: number; h?: number; mask?: MaskCrop | null; predicted?: boolean } = {}): RuleObject {
  const w = o.w ?? 100;
  const h = o.h ?? 60;
  return {
    track,
    label: o.label ?? 'car',
    box: [x, y, x + w, y + h],
    mask: o.mask === undefined ? rectMask(Math.round(x), Math.round(y), w, h) : o.mask,
    predicted: o.predicted ?? false,
  };
}

type Timed = Transition & { t: number };

/** Feeds frames at `fps` for t in [from, to), objects from `at(t)`; the transitions with their frame time. */
function play(engine: RuleEngine, fps: number, from: number, to: number, at: (t: number) => RuleObject[]): Timed[] {
  const out: Timed[] = [];
  const first = Math.ceil(from * fps - 1e-9);
  for (let i = first; i / fps < to - 1e-9; i++) {
    const t = i / fps + 0; // + 0: no -0
    for (const tr of engine.update(at(t), t)) out.push({ ...tr, t });
  }
  return out;
}

const states = (trs: readonly Transition[]): string[] => trs.map((x) => `${x.state} ${x.key}`);

describe('RuleEngine presence', () => {
  it('starts once the object has been in the zone `seconds`, with startS the first time it was', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 3 }])]);
    const trs = play(engine, 10, 1, 6, () => [obj(7, 100)]);
    expect(states(trs)).toEqual(['start road/0/7']);
    expect(trs[0]!.t).toBeCloseTo(4, 9);
    expect(trs[0]).toMatchObject({ kind: 'presence', zone: 'road', rule: 0, tracks: [7], labels: ['car'], startS: 1 });
    expect(trs[0]!.lastS).toBeCloseTo(4, 9);
    expect(engine.open).toBe(1);
  });

  it('looks only at its classes; absent or empty classes take every class', () => {
    const engine = new RuleEngine([
      zone([
        { kind: 'presence', seconds: 0, classes: ['person'] },
        { kind: 'presence', seconds: 0, classes: [] },
        { kind: 'presence', seconds: 0 },
      ]),
    ]);
    const trs = engine.update([obj(1, 100, 100, { label: 'car' }), obj(2, 300, 100, { label: 'person' })], 0);
    expect(states(trs).sort()).toEqual(['start road/0/2', 'start road/1/1', 'start road/1/2', 'start road/2/1', 'start road/2/2']);
  });

  it('ends endSeconds after the object left, at the last time it was in (endS = lastS)', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 1 }])]);
    const trs = play(engine, 10, 0, 10, (t) => (t < 5 ? [obj(1, 100)] : []));
    expect(states(trs)).toEqual(['start road/0/1', 'end road/0/1']);
    const end = trs[1]!;
    expect(end.t).toBeCloseTo(6.9, 9); // false from 5.0: 6.9 - 4.9 >= 2
    expect(end.endS).toBeCloseTo(4.9, 9);
    expect(end.lastS).toBeCloseTo(4.9, 9);
    expect(end.startS).toBe(0);
    expect(engine.open).toBe(0);
  });

  it('honours a rule own endSeconds over the engine default', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 0, endSeconds: 0.5 }])], { endSeconds: 5 });
    const trs = play(engine, 10, 0, 3, (t) => (t < 1 ? [obj(1, 100)] : []));
    expect(trs.map((x) => [x.state, Number(x.t.toFixed(1))])).toEqual([
      ['start', 0],
      ['end', 1.4],
    ]);
  });
});

describe('RuleEngine hysteresis', () => {
  const flicker = (gapFrom: number, gapTo: number) => (t: number) => (t >= gapFrom && t < gapTo ? [] : [obj(1, 100)]);

  it('a flicker shorter than endSeconds does not end an open event', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 1 }])]);
    const trs = play(engine, 30, 0, 10, flicker(4, 5.5));
    expect(states(trs)).toEqual(['start road/0/1']);
    expect(engine.open).toBe(1);
  });

  it('a flicker longer than endSeconds ends the event and a new one waits `seconds` again', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 1 }])]);
    const trs = play(engine, 10, 0, 10, flicker(4, 6.5));
    expect(states(trs)).toEqual(['start road/0/1', 'end road/0/1', 'start road/0/1']);
    expect(trs[1]!.endS).toBeCloseTo(3.9, 9);
    expect(trs[2]!.startS).toBeCloseTo(6.5, 9);
    expect(trs[2]!.t).toBeCloseTo(7.5, 9);
  });

  it('a flicker shorter than endSeconds does not restart the wait of a pending event', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 5 }])]);
    const trs = play(engine, 10, 0, 8, flicker(2, 3.5));
    expect(states(trs)).toEqual(['start road/0/1']);
    expect(trs[0]!.startS).toBe(0);
    expect(trs[0]!.t).toBeCloseTo(5, 9);
  });

  it('a flicker longer than endSeconds restarts the wait of a pending event', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 5 }])]);
    const trs = play(engine, 10, 0, 12, flicker(2, 4.5));
    expect(states(trs)).toEqual(['start road/0/1']);
    expect(trs[0]!.startS).toBeCloseTo(4.5, 9);
    expect(trs[0]!.t).toBeCloseTo(9.5, 9);
  });

  it('a predicted object (the tracker coasting) keeps its event', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 1 }])]);
    const trs = play(engine, 10, 0, 10, (t) => [obj(1, 100, 100, { predicted: t > 3, mask: t > 3 ? null : undefined })]);
    expect(states(trs)).toEqual(['start road/0/1']);
  });

  it('does not depend on the frame rate: starts and ends at the same media times at 5 and 30 fps', () => {
    const at = (t: number) => (t < 6 ? [obj(1, 100)] : []);
    const times = (fps: number) => {
      const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 2 }])]);
      return play(engine, fps, 0, 12, at).map((x) => [x.state, x.t, x.endS ?? null]);
    };
    const slow = times(5);
    const fast = times(30);
    expect(slow.map((x) => x[0])).toEqual(['start', 'end']);
    expect(fast.map((x) => x[0])).toEqual(['start', 'end']);
    expect(Math.abs((slow[0]![1] as number) - (fast[0]![1] as number))).toBeLessThan(0.2 + 1e-9);
    expect(Math.abs((slow[1]![1] as number) - (fast[1]![1] as number))).toBeLessThan(0.2 + 1e-9);
    expect(Math.abs((slow[1]![2] as number) - (fast[1]![2] as number))).toBeLessThan(0.2 + 1e-9);
  });
});

describe('RuleEngine membership', () => {
  // A 200 px long truck whose last 60 px (30% of its mask) lie inside x < 100.
  const lane: Zone['polygon'] = [
    [0, 0],
    [100, 0],
    [100, 400],
    [0, 400],
  ];
  const truck = obj(3, 40, 100, { w: 200, h: 40, label: 'truck' });

  it('counts a long object mostly outside whose 30% inside at minOverlap 0.25, not at 0.5', () => {
    const at25 = new RuleEngine([zone([{ kind: 'presence', seconds: 0 }], { polygon: lane })]);
    expect(states(at25.update([truck], 0))).toEqual(['start road/0/3']);
    const at50 = new RuleEngine([zone([{ kind: 'presence', seconds: 0 }], { polygon: lane })], { minOverlap: 0.5 });
    expect(at50.update([truck], 0)).toEqual([]);
    const zoneOwn = new RuleEngine([zone([{ kind: 'presence', seconds: 0 }], { polygon: lane, minOverlap: 0.5 })], { minOverlap: 0.1 });
    expect(zoneOwn.update([truck], 0)).toEqual([]);
  });

  it('counts an object whose box centre is outside but whose mask is mostly inside', () => {
    // Box 0..300 (centre x 150 outside the lane), mask only over x 0..80 (an L-shaped trailer).
    const o: RuleObject = { track: 4, label: 'truck', box: [0, 100, 300, 160], mask: rectMask(0, 100, 80, 60), predicted: false };
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 0 }], { polygon: lane })]);
    expect(states(engine.update([o], 0))).toEqual(['start road/0/4']);
  });

  it('uses the box share for an object without a mask or with an empty one', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 0 }], { polygon: lane })]);
    const boxOnly = obj(5, 40, 100, { w: 200, h: 40, mask: null }); // 30% of the box inside
    const empty = obj(6, 500, 100, { mask: { x: 0, y: 0, width: 10, height: 10, data: new Uint8Array(100) } });
    expect(states(engine.update([boxOnly, empty], 0))).toEqual(['start road/0/5']);
  });

  it('takes untracked objects and duplicate tracks no part', () => {
    const engine = new RuleEngine([zone([{ kind: 'count', seconds: 0, above: 0 }])]);
    const trs = engine.update([obj(-1, 100), obj(2, 100), obj(2, 300)], 0);
    expect(trs.map((x) => x.tracks)).toEqual([[2]]);
  });
});

describe('RuleEngine count', () => {
  it('starts when more than `above` objects were in the zone for `seconds`, listing them sorted', () => {
    const engine = new RuleEngine([zone([{ kind: 'count', seconds: 2, above: 2 }])]);
    const at = (t: number) => [obj(9, 100, 100, { label: 'bus' }), obj(4, 300), ...(t >= 1 ? [obj(6, 500, 100, { label: 'truck' })] : [])];
    const trs = play(engine, 10, 0, 5, at);
    expect(states(trs)).toEqual(['start road/0']);
    expect(trs[0]).toMatchObject({ kind: 'count', tracks: [4, 6, 9], labels: ['car', 'truck', 'bus'], startS: 1 });
    expect(trs[0]!.t).toBeCloseTo(3, 9);
  });

  it('emits update when the counted objects change, not every frame, and ends when the count stays low', () => {
    const engine = new RuleEngine([zone([{ kind: 'count', seconds: 1, above: 1 }])]);
    const at = (t: number): RuleObject[] => {
      if (t < 3) return [obj(1, 100), obj(2, 300)];
      if (t < 6) return [obj(1, 100), obj(2, 300), obj(3, 500)];
      if (t < 8) return [obj(2, 300), obj(3, 500)];
      return [obj(3, 500)];
    };
    const trs = play(engine, 10, 0, 12, at);
    expect(trs.map((x) => [x.state, x.tracks])).toEqual([
      ['start', [1, 2]],
      ['update', [1, 2, 3]],
      ['update', [2, 3]],
      ['end', [2, 3]],
    ]);
    expect(trs[3]!.endS).toBeCloseTo(7.9, 9);
  });

  it('counts only its classes', () => {
    const engine = new RuleEngine([zone([{ kind: 'count', seconds: 0, above: 1, classes: ['person'] }])]);
    expect(engine.update([obj(1, 100, 100, { label: 'person' }), obj(2, 300)], 0)).toEqual([]);
    expect(states(engine.update([obj(1, 100, 100, { label: 'person' }), obj(3, 300, 100, { label: 'person' })], 0.1))).toEqual(['start road/0']);
  });
});

describe('RuleEngine update', () => {
  it('emits update for a per-object event when the tracker changes its label, once', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 0 }])]);
    const trs = play(engine, 10, 0, 3, (t) => [obj(1, 100, 100, { label: t < 1 ? 'car' : 'truck' })]);
    expect(trs.map((x) => [x.state, x.labels[0]])).toEqual([
      ['start', 'car'],
      ['update', 'truck'],
    ]);
  });
});

describe('RuleEngine stopped', () => {
  // Drives right at 100 px/s until `stopAt`, then stands (box 100 x 60, diagonal 117 px).
  const drive = (stopAt: number) => (t: number) => [obj(1, 50 + 100 * Math.min(t, stopAt))];

  it('does not fire for an object moving through the zone', () => {
    const engine = new RuleEngine([zone([{ kind: 'stopped', seconds: 3 }])]);
    expect(play(engine, 10, 0, 8, drive(100))).toEqual([]);
  });

  it('fires `seconds` after the object stopped, with startS about when it stopped', () => {
    const engine = new RuleEngine([zone([{ kind: 'stopped', seconds: 4 }])]);
    const trs = play(engine, 30, 0, 12, drive(3));
    expect(states(trs)).toEqual(['start road/0/1']);
    // The smoothed centroid lags 100 px/s x 0.5 s = 50 px and settles within 11.7 px 0.7 s later.
    expect(trs[0]!.startS).toBeGreaterThan(3);
    expect(trs[0]!.startS).toBeLessThan(4.2);
    expect(trs[0]!.t - trs[0]!.startS).toBeCloseTo(4, 1);
  });

  it('ends endSeconds after the object drives off, at the last time it stood', () => {
    const engine = new RuleEngine([zone([{ kind: 'stopped', seconds: 2 }])]);
    const trs = play(engine, 10, 0, 15, (t) => [obj(1, t < 8 ? 100 : 100 + 100 * (t - 8))]);
    expect(states(trs)).toEqual(['start road/0/1', 'end road/0/1']);
    expect(trs[1]!.endS).toBeGreaterThan(7.9);
    expect(trs[1]!.endS).toBeLessThan(8.5);
    expect(trs[1]!.t).toBeCloseTo(trs[1]!.endS! + 2, 1);
  });

  it('needs the object in the zone: a stationary car outside never fires', () => {
    const engine = new RuleEngine([zone([{ kind: 'stopped', seconds: 1 }])]);
    expect(play(engine, 10, 0, 5, () => [obj(1, 2000)])).toEqual([]);
  });

  it('does not take a jumpy mask for motion (centroid noise of +-4 px on a standing car)', () => {
    const random = rng(3);
    const engine = new RuleEngine([zone([{ kind: 'stopped', seconds: 3 }])]);
    const trs = play(engine, 30, 0, 10, () => {
      const dx = Math.round((random() - 0.5) * 8);
      const dy = Math.round((random() - 0.5) * 8);
      return [obj(1, 100 + dx, 100 + dy)];
    });
    expect(states(trs)).toEqual(['start road/0/1']);
    expect(trs[0]!.t).toBeLessThan(3.3);
  });

  it('uses maxMovePx when given: a car creeping 2 px/s is stopped at 30 px, not at 5 px', () => {
    const creep = (t: number) => [obj(1, 100 + 2 * t)];
    const loose = new RuleEngine([zone([{ kind: 'stopped', seconds: 5, maxMovePx: 30 }])]);
    expect(states(play(loose, 10, 0, 10, creep))).toEqual(['start road/0/1']);
    const tight = new RuleEngine([zone([{ kind: 'stopped', seconds: 5, maxMovePx: 5 }])]);
    expect(play(tight, 10, 0, 10, creep)).toEqual([]);
  });

  it('gives the same outcome at 5 and 30 fps for the same motion', () => {
    const outcome = (fps: number) => {
      const engine = new RuleEngine([zone([{ kind: 'stopped', seconds: 5 }])]);
      return play(engine, fps, 0, 20, (t) => [obj(1, 50 + 80 * (t < 3 ? t : t < 12 ? 3 : 3 + (t - 12)))]);
    };
    const slow = outcome(5);
    const fast = outcome(30);
    expect(states(slow)).toEqual(['start road/0/1', 'end road/0/1']);
    expect(states(fast)).toEqual(states(slow));
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(slow[i]!.t - fast[i]!.t)).toBeLessThanOrEqual(0.25);
      expect(Math.abs(slow[i]!.startS - fast[i]!.startS)).toBeLessThanOrEqual(0.25);
      expect(Math.abs(slow[i]!.lastS - fast[i]!.lastS)).toBeLessThanOrEqual(0.25);
    }
  });

  it('an open stopped event outlives a passing occlusion that shifts its mask centroid for a moment, and ends once its car drives off', () => {
    const engine = new RuleEngine([zone([{ kind: 'stopped', seconds: 30 }])]);
    // Parked at x 100 (box 100 x 60, diagonal ~117 px: maxMove 0.1 ~ 12 px); from t 40 to 41 a
    // truck hides its left half (the mask's centroid jumps 25 px right); it drives off at t 60.
    const at = (t: number): RuleObject[] => {
      if (t >= 40 && t < 41) return [obj(3, 100, 100, { mask: rectMask(150, 100, 50, 60) })];
      return [obj(3, t < 60 ? 100 : 100 + (t - 60) * 50)];
    };
    const trs = play(engine, 10, 0, 70, at);
    expect(states(trs)).toEqual(['start road/0/3', 'end road/0/3']);
    expect(trs[0]!.t).toBeCloseTo(30, 6);
    // The end is the last time it held: just after it set off, not at the occlusion.
    expect(trs[1]!.endS!).toBeGreaterThan(60);
    expect(trs[1]!.endS!).toBeLessThan(61);
  });

  it('keeps a stopped event through a few predicted frames without a mask', () => {
    const engine = new RuleEngine([zone([{ kind: 'stopped', seconds: 2 }])]);
    const trs = play(engine, 10, 0, 8, (t) => [obj(1, 100, 100, t > 4 && t < 5 ? { predicted: true, mask: null } : {})]);
    expect(states(trs)).toEqual(['start road/0/1']);
  });
});

describe('RuleEngine unknown', () => {
  const standing = (label: string) => () => [obj(1, 100, 100, { label })];

  it('reports a stopped object whose class is not an expected road user', () => {
    const engine = new RuleEngine([zone([{ kind: 'unknown', seconds: 2 }])]);
    expect(states(play(engine, 10, 0, 4, standing('suitcase')))).toEqual(['start road/0/1']);
    const car = new RuleEngine([zone([{ kind: 'unknown', seconds: 2 }])]);
    expect(play(car, 10, 0, 4, standing('car'))).toEqual([]);
  });

  it('ignores an unexpected object that moves (a dog running across)', () => {
    const engine = new RuleEngine([zone([{ kind: 'unknown', seconds: 2 }])]);
    expect(play(engine, 10, 0, 6, (t) => [obj(1, 50 + 100 * t, 100, { label: 'dog' })])).toEqual([]);
  });

  it('takes the rule expected classes over the engine ones', () => {
    const engine = new RuleEngine([zone([{ kind: 'unknown', seconds: 1, expected: ['suitcase'] }])], { expectedClasses: ['car'] });
    expect(play(engine, 10, 0, 3, standing('suitcase'))).toEqual([]);
    const other = new RuleEngine([zone([{ kind: 'unknown', seconds: 1 }])], { expectedClasses: ['suitcase'] });
    expect(play(other, 10, 0, 3, standing('suitcase'))).toEqual([]);
    expect(states(play(new RuleEngine([zone([{ kind: 'unknown', seconds: 1 }])], { expectedClasses: ['suitcase'] }), 10, 0, 3, standing('car')))).toEqual([
      'start road/0/1',
    ]);
  });

  it('with classAgnostic reports every stopped object, whatever its label', () => {
    const engine = new RuleEngine([zone([{ kind: 'unknown', seconds: 1 }])], { classAgnostic: true });
    expect(states(play(engine, 10, 0, 3, standing('car')))).toEqual(['start road/0/1']);
  });

  it('defaults to COCO road users and fixed road furniture as expected', () => {
    for (const c of ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck', 'train']) expect(DEFAULT_EXPECTED_CLASSES).toContain(c);
    expect(DEFAULT_EXPECTED_CLASSES).not.toContain('dog');
  });
});

describe('RuleEngine flush and resets', () => {
  it('flush() ends every open event at its last held time and drops pending ones', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 1 }, { kind: 'count', seconds: 0, above: 0 }, { kind: 'presence', seconds: 100 }])]);
    play(engine, 10, 0, 3, () => [obj(1, 100), obj(2, 300)]);
    expect(engine.open).toBe(3);
    const trs = engine.flush();
    expect(states(trs)).toEqual(['end road/0/1', 'end road/0/2', 'end road/1']);
    for (const tr of trs) expect(tr.endS).toBeCloseTo(2.9, 9);
    expect(engine.open).toBe(0);
    expect(engine.toJSON().pending).toBe(0);
    expect(engine.flush()).toEqual([]);
  });

  it('treats time going backwards as a restart: open events end, then the new timeline starts afresh', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 1 }])]);
    play(engine, 10, 10, 13, () => [obj(1, 100)]);
    const trs = engine.update([obj(1, 100)], 0);
    expect(states(trs)).toEqual(['end road/0/1']);
    expect(trs[0]!.endS).toBeCloseTo(12.9, 9);
    const again = play(engine, 10, 0.1, 2, () => [obj(1, 100)]);
    expect(again.map((x) => [x.state, x.startS])).toEqual([['start', 0]]);
  });

  it('ignores a frame with a non-finite time', () => {
    const engine = new RuleEngine([zone([{ kind: 'presence', seconds: 0 }])]);
    expect(engine.update([obj(1, 100)], NaN)).toEqual([]);
    expect(engine.toJSON()).toEqual({ open: 0, pending: 0, tracks: 0 });
  });
});

describe('RuleEngine memory', () => {
  it('stays bounded after 10,000 distinct tracks pass through (state forgotten after they leave)', () => {
    const engine = new RuleEngine([
      zone([
        { kind: 'stopped', seconds: 30 },
        { kind: 'presence', seconds: 1 },
        { kind: 'unknown', seconds: 10 },
      ]),
    ]);
    // 10 fps; a new track every frame, each seen for 2 s driving through: 20 on the road at once.
    let maxTracks = 0;
    let maxPending = 0;
    for (let i = 0; i < 10_020; i++) {
      const t = i / 10;
      const objects: RuleObject[] = [];
      for (let k = Math.max(0, i - 19); k <= Math.min(i, 9_999); k++) objects.push(obj(k, 50 * ((i - k) / 10), 100, { w: 20, h: 10, mask: null }));
      engine.update(objects, t);
      const s = engine.toJSON();
      maxTracks = Math.max(maxTracks, s.tracks);
      maxPending = Math.max(maxPending, s.pending + s.open);
    }
    // Forgotten max(30, 2) + 2 s after the last sighting: at most 34 s x 10 tracks/s + 20 on the road.
    expect(maxTracks).toBeLessThanOrEqual(360);
    // Per rule: the 20 on the road plus those that left less than endSeconds (2 s) ago.
    expect(maxPending).toBeLessThanOrEqual(3 * 40);
    engine.update([], 2_000);
    expect(engine.toJSON()).toEqual({ open: 0, pending: 0, tracks: 0 });
  });
});

describe('RuleEngine invalid input', () => {
  it('never throws nor reports NaN for NaN boxes, empty masks, zero-area zones or junk objects', () => {
    const flat: Zone = { name: 'flat', polygon: [[0, 0], [100, 0], [50, 0]], rules: [{ kind: 'presence', seconds: 0 }] };
    const broken: Zone = { name: 'broken', polygon: [[0, 0], [NaN, 1]], rules: [{ kind: 'count', seconds: 0, above: 0 }] };
    const engine = new RuleEngine([zone([{ kind: 'stopped', seconds: 0 }, { kind: 'presence', seconds: 0 }]), flat, broken]);
    const junk = [
      { track: 1, label: 'car', box: [NaN, 0, 10, 10], mask: null, predicted: false },
      { track: 2, label: 'car', box: [NaN, 0, 10, 10], mask: rectMask(10, 10, 5, 5), predicted: false },
      { track: 3, label: 'car', box: [0, 0, 10, 10], mask: { x: 0, y: 0, width: 0, height: 0, data: new Uint8Array(0) }, predicted: false },
      { track: 4, label: 'car', box: [0, 0, 10, 10], mask: { x: 0, y: 0, width: 10, height: 10, data: new Uint8Array(2) }, predicted: false },
      { track: 1.5, label: 'car', box: [0, 0, 10, 10], mask: null, predicted: false },
      null,
    ] as unknown as RuleObject[];
    let trs: Transition[] = [];
    for (let i = 0; i < 5; i++) trs = trs.concat(engine.update(junk, i / 10));
    trs = trs.concat(engine.flush());
    for (const tr of trs) {
      expect(Number.isFinite(tr.startS) && Number.isFinite(tr.lastS)).toBe(true);
      expect(tr.zone).toBe('road');
    }
    expect(new Set(trs.map((x) => x.tracks[0]))).toEqual(new Set([2, 3, 4]));
  });

  it('rejects malformed options and rules with a TypeError naming what and where', () => {
    expect(() => new RuleEngine([zone([{ kind: 'presence', seconds: -1 }])])).toThrow(/zone road rule 0 seconds must be a finite number >= 0, got -1/);
    expect(() => new RuleEngine([zone([{ kind: 'nope', seconds: 1 } as unknown as Rule])])).toThrow(TypeError);
    expect(() => new RuleEngine([zone([]), zone([])])).toThrow(/unique/);
    expect(() => new RuleEngine([zone([])], { minOverlap: 0 } as RuleEngineOptions)).toThrow(/minOverlap must be in \(0, 1\]/);
    expect(() => new RuleEngine([zone([{ kind: 'count', seconds: 1, above: NaN }])])).toThrow(/above/);
  });
});
