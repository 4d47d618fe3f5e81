import { describe, expect, it } from 'vitest';
import { MotAccumulator, computeMotMetrics, evaluateMot, iouXywh, type MotBox } from '../../../src/eval/index.js';

const N = NaN;
const types = (acc: MotAccumulator, frame: number) =>
  acc.events.filter((e) => e.frame === frame).map((e) => [e.type, e.oid, e.hid]);

describe('MotAccumulator (py-motmetrics semantics)', () => {
  it('matches by minimum distance, then counts misses and false positives', () => {
    const acc = new MotAccumulator();
    acc.update(1, [1, 2], [10, 20, 30], Float64Array.of(0.1, 0.4, N, 0.3, 0.2, N));
    expect(types(acc, 1)).toEqual([
      ['MATCH', 1, 10],
      ['MATCH', 2, 20],
      ['FP', null, 30],
    ]);
    acc.update(2, [1, 2], [], new Float64Array(0));
    expect(types(acc, 2)).toEqual([
      ['MISS', 1, null],
      ['MISS', 2, null],
    ]);
  });

  it('keeps an established pairing while it stays valid, even if another is cheaper', () => {
    const acc = new MotAccumulator();
    acc.update(1, [1, 2], [10, 20], Float64Array.of(0.1, N, N, 0.1));
    // Swapping would cost 0.0 + 0.0, keeping costs 0.45 + 0.45: still kept, no switch.
    acc.update(2, [1, 2], [10, 20], Float64Array.of(0.45, 0, 0, 0.45));
    expect(types(acc, 2)).toEqual([
      ['MATCH', 1, 10],
      ['MATCH', 2, 20],
    ]);
  });

  it('counts a switch when an object is matched to a different hypothesis than last time', () => {
    const acc = new MotAccumulator();
    acc.update(1, [1], [10], Float64Array.of(0.1));
    acc.update(2, [1], [], new Float64Array(0));
    acc.update(3, [1], [20], Float64Array.of(0.1));
    expect(types(acc, 3)).toEqual([['SWITCH', 1, 20]]);
    const m = computeMotMetrics(acc);
    expect(m.numSwitches).toBe(1);
    expect(m.numFragmentations).toBe(1);
    expect(m.mota).toBeCloseTo(1 - 2 / 3, 12);
  });

  it('rejects a distance matrix of the wrong size', () => {
    expect(() => new MotAccumulator().update(1, [1], [1, 2], Float64Array.of(0))).toThrow(TypeError);
  });
});

describe('computeMotMetrics', () => {
  it('scores identity with one global id mapping (IDF1)', () => {
    // gt 1 is covered by hyp 10 for 3 frames then hyp 20 for 1 frame.
    const gt: MotBox[] = [1, 2, 3, 4].map((f) => ({ frame: f, id: 1, x: 0, y: 0, width: 10, height: 10 }));
    const hyp: MotBox[] = gt.map((b) => ({ ...b, id: b.frame < 4 ? 10 : 20 }));
    const m = evaluateMot(gt, hyp);
    expect([m.idtp, m.idfp, m.idfn]).toEqual([3, 1, 1]);
    expect(m.idf1).toBeCloseTo((2 * 3) / (4 + 4), 12);
    expect([m.numSwitches, m.mostlyTracked, m.numFalsePositives, m.numMisses]).toEqual([1, 1, 0, 0]);
  });

  it('counts an object tracked under 20 % of its frames as mostly lost', () => {
    const gt: MotBox[] = [1, 2, 3, 4, 5, 6].map((f) => ({ frame: f, id: 1, x: 0, y: 0, width: 10, height: 10 }));
    const m = evaluateMot(gt, [{ frame: 1, id: 5, x: 0, y: 0, width: 10, height: 10 }]);
    expect([m.mostlyTracked, m.partiallyTracked, m.mostlyLost]).toEqual([0, 0, 1]);
  });

  it('treats IoU below 0.5 as no match', () => {
    const gt: MotBox[] = [{ frame: 1, id: 1, x: 0, y: 0, width: 10, height: 10 }];
    // IoU = 40 / 160 = 0.25.
    const m = evaluateMot(gt, [{ frame: 1, id: 1, x: 6, y: 0, width: 10, height: 10 }]);
    expect([m.numFalsePositives, m.numMisses]).toEqual([1, 1]);
    expect(iouXywh(gt[0]!, { x: 6, y: 0, width: 10, height: 10 })).toBeCloseTo(0.25, 12);
  });
});
