import { describe, expect, it } from 'vitest';
import type { Prompt } from '../../../src/prompts/schema.js';
import { TargetRegistries, TargetRegistry } from '../../../src/prompts/targets.js';
import type { TrackedObject } from '../../../src/tracking/index.js';

type Box = [number, number, number, number];

function obj(id: number, box: Box, o: { predicted?: boolean; classId?: number } = {}): TrackedObject {
  const predicted = o.predicted ?? false;
  return { id, box, score: 0.9, classId: o.classId ?? 0, mask: null, predicted, state: predicted ? 'lost' : 'confirmed', detIndex: predicted ? -1 : 0, pinned: false };
}

/** Frames 1 s apart: each registry's n-th annotate() is at n s. */
const clock = new WeakMap<TargetRegistry, number>();
function step(r: TargetRegistry, objects: TrackedObject[]): ReturnType<TargetRegistry['annotate']> {
  const t = (clock.get(r) ?? 0) + 1;
  clock.set(r, t);
  return r.annotate(objects, t);
}
const lost = (target: number) => ({ target, reason: 'lost' });
const replaced = (target: number) => ({ target, reason: 'replaced' });

/** A 40 x 40 box with its left edge at x. */
const at = (x: number, y = 0): Box => [x, y, x + 40, y + 40];
const P: Prompt = { kind: 'text', text: 'car' };
const BOX: Prompt = { kind: 'box', box: [0, 0, 10, 10] };

function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  return { message: 'no error' };
}

describe('TargetRegistry: binding and annotation', () => {
  it('create() binds tracks of the last frame; ids are sequential from 1; annotate() maps track -> target', () => {
    const r = new TargetRegistry('cam1');
    step(r, [obj(1, at(0)), obj(2, at(100)), obj(3, at(200))]);
    expect(r.create([1, 3], P)).toBe(1);
    expect(r.create([2], BOX)).toBe(2);
    const out = step(r, [obj(1, at(2)), obj(2, at(102)), obj(3, at(202)), obj(4, at(300))]);
    expect([...out.assignments].sort()).toEqual([
      [1, 1],
      [2, 2],
      [3, 1],
    ]);
    expect(out.ended).toEqual([]);
    expect(r.list()).toEqual([
      { id: 1, prompt: P, trackIds: [1, 3], createdAt: 1 },
      { id: 2, prompt: BOX, trackIds: [2], createdAt: 1 },
    ]);
    expect(r.targetOf(3)).toBe(1);
    expect(r.targetOf(4)).toBeUndefined();
  });

  it('target ids are per camera', () => {
    const all = new TargetRegistries(['a', 'b']);
    step(all.get('a'), [obj(1, at(0))]);
    step(all.get('b'), [obj(1, at(0))]);
    expect(all.get('a').create([1], P)).toBe(1);
    expect(all.get('a').create([1], P)).toBe(2);
    expect(all.get('b').create([1], P)).toBe(1);
    expect(errorOf(() => all.get('c'))).toMatchObject({ code: 'E_UNKNOWN_CAMERA', message: "unknown camera 'c'" });
  });

  it('a track selected again moves to the new target; the emptied target ends at the next annotate()', () => {
    const r = new TargetRegistry('cam1');
    step(r, [obj(1, at(0)), obj(2, at(100))]);
    r.create([1], P);
    r.create([1, 2], BOX);
    expect(r.list().map((t) => [t.id, t.trackIds])).toEqual([[2, [1, 2]]]);
    const out = step(r, [obj(1, at(0)), obj(2, at(100))]);
    expect(out.ended).toEqual([replaced(1)]);
    expect(out.assignments.get(1)).toBe(2);
    expect(step(r, [obj(1, at(0))]).ended).toEqual([]);
  });

  it('clear(id) removes one target, clear() all; neither is reported as ended', () => {
    const r = new TargetRegistry('cam1');
    step(r, [obj(1, at(0)), obj(2, at(100)), obj(3, at(200))]);
    r.create([1], P);
    r.create([2], P);
    r.create([3], P);
    expect(r.clear(2)).toEqual([2]);
    expect(r.list().map((t) => t.id)).toEqual([1, 3]);
    expect(r.clear()).toEqual([1, 3]);
    expect(r.size).toBe(0);
    expect(r.clear()).toEqual([]);
    const out = step(r, [obj(1, at(0))]);
    expect(out).toEqual({ assignments: new Map(), reattached: [], ended: [] });
    // Ids are not reused after a clear.
    expect(r.create([1], P)).toBe(4);
  });
});

describe('TargetRegistry: bad input changes nothing', () => {
  function seeded(): TargetRegistry {
    const r = new TargetRegistry('cam1', { maxTargets: 2 });
    step(r, [obj(1, at(0)), obj(2, at(100)), obj(3, at(200))]);
    r.create([1], P);
    return r;
  }
  const cases: [string, (r: TargetRegistry) => unknown, string][] = [
    ['create() with no track', (r) => r.create([], P), 'E_PROMPT_NO_MATCH'],
    ['create() with a track not in the last frame', (r) => r.create([2, 9], P), 'E_PROMPT_NO_MATCH'],
    ['clear() of an unknown target', (r) => r.clear(7), 'E_UNKNOWN_TARGET'],
  ];
  for (const [name, fn, code] of cases) {
    it(`${name} is ${code}`, () => {
      const r = seeded();
      const before = JSON.stringify(r.list());
      expect(errorOf(() => fn(r)).code).toBe(code);
      expect(JSON.stringify(r.list())).toBe(before);
      // A failed create() consumed no id.
      expect(r.create([3], P)).toBe(2);
    });
  }

  it('create() beyond maxTargets is E_TARGET_LIMIT with expected and actual', () => {
    const r = seeded();
    r.create([2], P);
    const before = JSON.stringify(r.list());
    expect(errorOf(() => r.create([3], P))).toMatchObject({ code: 'E_TARGET_LIMIT', expected: '<= 2 targets', actual: 3 });
    expect(JSON.stringify(r.list())).toBe(before);
    r.clear(1);
    expect(r.create([3], P)).toBe(3);
  });

  it('non-integer track ids are a TypeError', () => {
    const r = seeded();
    expect(() => r.create([1.5], P)).toThrow(TypeError);
    expect(r.list()).toHaveLength(1);
  });

  it('reusing the track of a full camera frees the emptied target instead of failing', () => {
    const r = seeded();
    r.create([2], P);
    expect(r.create([1], BOX)).toBe(3);
    expect(r.list().map((t) => t.id)).toEqual([2, 3]);
  });
});

describe('TargetRegistry: re-attachment and ending', () => {
  /** Track 1 moves right 10 px/frame for 3 frames (x = 0, 10, 20), bound to target 1. */
  function moving(options = {}): TargetRegistry {
    const r = new TargetRegistry('cam1', { maxMissingS: 5, ...options });
    step(r, [obj(1, at(0)), obj(2, at(300))]);
    r.create([1], P);
    step(r, [obj(1, at(10)), obj(2, at(300))]);
    step(r, [obj(1, at(20)), obj(2, at(300))]);
    return r;
  }

  it('re-attaches to a new track born where the vanished one was heading', () => {
    const r = moving();
    // Two frames predicted by the tracker, then gone; a new id appears at the extrapolated place.
    expect(step(r, [obj(1, at(30), { predicted: true }), obj(2, at(300))]).assignments.get(1)).toBe(1);
    step(r, [obj(1, at(40), { predicted: true }), obj(2, at(300))]);
    expect(step(r, [obj(2, at(300))]).assignments.size).toBe(0);
    const out = step(r, [obj(2, at(300)), obj(3, at(62))]);
    expect(out.reattached).toEqual([{ target: 1, from: 1, to: 3 }]);
    expect([...out.assignments]).toEqual([[3, 1]]);
    expect(r.list()[0]!.trackIds).toEqual([3]);
  });

  it('re-attaches to a track born while the old one was still reported as predicted', () => {
    const r = moving();
    step(r, [obj(1, at(30), { predicted: true }), obj(2, at(300)), obj(3, at(31))]);
    const out = step(r, [obj(2, at(300)), obj(3, at(41))]);
    expect(out.reattached).toEqual([{ target: 1, from: 1, to: 3 }]);
  });

  it('never re-attaches to a track that existed before the bound one vanished', () => {
    const r = moving();
    // Track 2 (older) wanders into the path.
    step(r, [obj(2, at(30))]);
    const out = step(r, [obj(2, at(40))]);
    expect(out.reattached).toEqual([]);
    expect(out.assignments.size).toBe(0);
  });

  it('does not re-attach below reattachIou', () => {
    const r = moving({ reattachIou: 0.5 });
    step(r, [obj(2, at(300))]);
    // Extrapolated box [40,0,80,40] vs [65,0,105,40]: IoU 15/65.
    expect(step(r, [obj(2, at(300)), obj(3, at(65))]).reattached).toEqual([]);
  });

  it('extrapolation is what makes a far-along new track match', () => {
    const run = (extrapolate: boolean) => {
      const r = moving({ extrapolate });
      for (let f = 0; f < 4; f++) step(r, [obj(2, at(300))]);
      // Extrapolated to x = 60 after 4 absent frames; the last seen box is at x = 20.
      return step(r, [obj(2, at(300)), obj(3, at(72))]).reattached.length;
    };
    expect(run(true)).toBe(1);
    expect(run(false)).toBe(0);
  });

  it('requireSameClass keeps a target off a track of another class', () => {
    const r = moving({ requireSameClass: true });
    step(r, [obj(2, at(300))]);
    expect(step(r, [obj(2, at(300)), obj(3, at(42), { classId: 5 })]).reattached).toEqual([]);
    expect(step(r, [obj(2, at(300)), obj(3, at(52), { classId: 5 }), obj(4, at(52))]).reattached).toEqual([{ target: 1, from: 1, to: 4 }]);
  });

  it('a target whose tracks are gone more than maxMissingS ends, reported once', () => {
    const r = moving();
    const ended: unknown[][] = [];
    for (let f = 0; f < 7; f++) ended.push(step(r, [obj(2, at(300))]).ended);
    expect(ended).toEqual([[], [], [], [], [], [lost(1)], []]);
    expect(r.size).toBe(0);
  });

  it('a track that comes back with its own id within maxMissingS stays bound', () => {
    const r = moving();
    for (let f = 0; f < 5; f++) step(r, []);
    expect(step(r, [obj(1, at(70))]).assignments.get(1)).toBe(1);
  });

  it('a multi-track target survives losing one track and ends when the last one goes', () => {
    const r = new TargetRegistry('cam1', { maxMissingS: 1 });
    step(r, [obj(1, at(0)), obj(2, at(200))]);
    r.create([1, 2], P);
    step(r, [obj(1, at(0))]);
    expect(step(r, [obj(1, at(0))]).ended).toEqual([]);
    expect(r.list()[0]!.trackIds).toEqual([1]);
    step(r, []);
    expect(step(r, []).ended).toEqual([lost(1)]);
  });

  it('reset() forgets targets and seen tracks but keeps counting target ids', () => {
    const r = moving();
    expect(r.reset()).toEqual([{ target: 1, reason: 'resolution' }]);
    expect(errorOf(() => r.create([1], P)).code).toBe('E_PROMPT_NO_MATCH');
    step(r, [obj(1, at(0))]);
    expect(r.create([1], P)).toBe(2);
  });

  it('reset() still reports a target a newer prompt emptied as replaced', () => {
    const r = new TargetRegistry('cam1');
    step(r, [obj(1, at(0))]);
    r.create([1], P);
    r.create([1], BOX);
    expect(r.reset()).toEqual([replaced(1), { target: 2, reason: 'resolution' }]);
  });

  it('counts the memory from the last matched sighting: predicted output does not extend it', () => {
    const r = new TargetRegistry('cam1', { maxMissingS: 3 });
    step(r, [obj(1, at(0))]);
    r.create([1], P);
    // Reported predicted for 2 s, then absent: the target ends 3 s after it was last seen.
    const ended = [2, 3, 4, 5, 6].map((k) => step(r, k <= 3 ? [obj(1, at(0), { predicted: true })] : []).ended);
    expect(ended).toEqual([[], [], [], [lost(1)], []]);
  });

  it('a timestamp that is not a number counts as no time passed', () => {
    const r = new TargetRegistry('cam1', { maxMissingS: 3 });
    r.annotate([obj(1, at(0))], 1);
    r.create([1], P);
    expect(r.annotate([], Number.NaN).ended).toEqual([]);
    expect(r.annotate([], 3).ended).toEqual([]);
    expect(r.annotate([], 4.5).ended).toEqual([lost(1)]);
  });
});
