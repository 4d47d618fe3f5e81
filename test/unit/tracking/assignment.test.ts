import { describe, expect, it } from 'vitest';
import { rng } from '../../helpers/random.js';
import { assignWithThreshold, costMatrix, linearSumAssignment } from '../../../src/tracking/assignment.js';


/** Smallest total over all assignments of min(n, m) pairs, by enumeration. */
function bruteForceMin(data: Float64Array, n: number, m: number): number {
  let best = Infinity;
  const usedCols = new Uint8Array(m);
  const k = Math.min(n, m);
  const rec = (row: number, picked: number, sum: number) => {
    if (picked === k) {
      best = Math.min(best, sum);
      return;
    }
    if (row === n) return;
    if (n - row > k - picked) rec(row + 1, picked, sum); // leave this row out (only when n > m)
    for (let j = 0; j < m; j++) {
      if (usedCols[j]) continue;
      usedCols[j] = 1;
      rec(row + 1, picked + 1, sum + data[row * m + j]!);
      usedCols[j] = 0;
    }
  };
  rec(0, 0, 0);
  return best;
}

/** Best value of sum(maxCost - c) over partial matchings using pairs with c <= maxCost. */
function bruteForceThresholded(data: Float64Array, n: number, m: number, maxCost: number): number {
  let best = 0;
  const usedCols = new Uint8Array(m);
  const rec = (row: number, gain: number) => {
    if (row === n) {
      best = Math.max(best, gain);
      return;
    }
    rec(row + 1, gain);
    for (let j = 0; j < m; j++) {
      const c = data[row * m + j]!;
      if (usedCols[j] || !(c <= maxCost)) continue;
      usedCols[j] = 1;
      rec(row + 1, gain + maxCost - c);
      usedCols[j] = 0;
    }
  };
  rec(0, 0);
  return best;
}

describe('linearSumAssignment', () => {
  it('matches brute force on random square and rectangular matrices', () => {
    const rand = rng(42);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 6);
      const m = 1 + Math.floor(rand() * 6);
      const data = Float64Array.from({ length: n * m }, () => Math.round(rand() * 100) / 10);
      const sol = linearSumAssignment(costMatrix(n, m, data));
      expect(sol.rows.length).toBe(Math.min(n, m));
      expect(new Set(sol.rows).size).toBe(sol.rows.length);
      expect(new Set(sol.cols).size).toBe(sol.cols.length);
      let total = 0;
      for (let k = 0; k < sol.rows.length; k++) total += data[sol.rows[k]! * m + sol.cols[k]!]!;
      expect(total).toBeCloseTo(bruteForceMin(data, n, m), 9);
    }
  });

  it('prefers the globally cheaper pairing over the greedy one', () => {
    // Greedy takes (0,0)=1 then (1,1)=10: 11. Optimal is (0,1)+(1,0) = 2 + 2 = 4.
    const sol = linearSumAssignment(costMatrix(2, 2, Float64Array.of(1, 2, 2, 10)));
    expect(Array.from(sol.cols)).toEqual([1, 0]);
  });

  it('returns nothing for an empty matrix', () => {
    expect(linearSumAssignment(costMatrix(0, 3)).rows.length).toBe(0);
  });

  it('rejects non-finite costs with TypeError', () => {
    expect(() => linearSumAssignment(costMatrix(1, 2, Float64Array.of(1, NaN)))).toThrow(TypeError);
  });
});

describe('assignWithThreshold', () => {
  it('never matches a pair above the threshold', () => {
    const a = assignWithThreshold(costMatrix(2, 2, Float64Array.of(0.9, 0.95, 0.2, 0.99)), 0.8);
    expect(a.matches).toEqual([[1, 0]]);
    expect(a.unmatchedRows).toEqual([0]);
    expect(a.unmatchedCols).toEqual([1]);
  });

  it('matches a pair exactly at the threshold', () => {
    expect(assignWithThreshold(costMatrix(1, 1, Float64Array.of(0.5)), 0.5).matches).toEqual([[0, 0]]);
  });

  it('never matches an infinite cost', () => {
    const a = assignWithThreshold(costMatrix(1, 2, Float64Array.of(Infinity, 0.3)), 0.8);
    expect(a.matches).toEqual([[0, 1]]);
  });

  it('is optimal against brute force on random matrices', () => {
    const rand = rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = Math.floor(rand() * 6);
      const m = Math.floor(rand() * 6);
      const data = Float64Array.from({ length: n * m }, () => Math.round(rand() * 100) / 100);
      const maxCost = 0.2 + rand() * 0.6;
      const a = assignWithThreshold(costMatrix(n, m, data), maxCost);
      const gain = a.matches.reduce((g, [i, j]) => g + maxCost - data[i * m + j]!, 0);
      expect(gain).toBeCloseTo(bruteForceThresholded(data, n, m, maxCost), 9);
      expect(a.matches.length + a.unmatchedRows.length).toBe(n);
      expect(a.matches.length + a.unmatchedCols.length).toBe(m);
    }
  });
});
