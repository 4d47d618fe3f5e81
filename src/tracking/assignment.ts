/**
 * Optimal linear assignment (Hungarian method with potentials, shortest augmenting paths,
 * the Jonker-Volgenant formulation): O(n^2 m) for n <= m.
 */

/** Row-major rows x cols costs. */
export interface CostMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function costMatrix(rows: number, cols: number, data?: Float64Array): CostMatrix {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) {
    throw new TypeError(`costMatrix: expected ${rows * cols} values for ${rows}x${cols}, got ${d.length}`);
  }
  return { rows, cols, data: d };
}

/**
 * Minimum-cost assignment of min(rows, cols) pairs (scipy's `linear_sum_assignment` for a
 * rectangular matrix). Returns the pairs sorted by row. Every cost must be finite.
 */
export function linearSumAssignment(cost: CostMatrix): { rows: Int32Array; cols: Int32Array } {
  const { rows: n0, cols: m0, data } = cost;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new TypeError(`linearSumAssignment: cost[${Math.floor(i / m0)}][${i % m0}] must be finite, got ${data[i]}`);
    }
  }
  if (n0 === 0 || m0 === 0) return { rows: new Int32Array(0), cols: new Int32Array(0) };
  const flip = n0 > m0;
  const n = flip ? m0 : n0;
  const m = flip ? n0 : m0;
  const at = flip ? (i: number, j: number) => data[j * m0 + i]! : (i: number, j: number) => data[i * m0 + j]!;

  // 1-based arrays as in the classic formulation; column 0 is the virtual start.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const rowOfCol = new Int32Array(m + 1); // 0 = free
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    rowOfCol[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = rowOfCol[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = at(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[rowOfCol[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (rowOfCol[j0] !== 0);
    do {
      const j1 = way[j0]!;
      rowOfCol[j0] = rowOfCol[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }

  const pairs: [number, number][] = [];
  for (let j = 1; j <= m; j++) {
    const i = rowOfCol[j]!;
    if (i === 0) continue;
    pairs.push(flip ? [j - 1, i - 1] : [i - 1, j - 1]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return { rows: Int32Array.from(pairs, (p) => p[0]), cols: Int32Array.from(pairs, (p) => p[1]) };
}

export interface Assignment {
  /** [row, col] pairs, sorted by row. */
  readonly matches: [number, number][];
  readonly unmatchedRows: number[];
  readonly unmatchedCols: number[];
}

/**
 * Optimal partial assignment where a pair may match only if its cost <= maxCost
 * (lapjv's `cost_limit`, which ByteTrack uses): minimises the matched costs plus maxCost/2
 * for every row and every column left unmatched, i.e. maximises the sum of (maxCost - cost)
 * over matches. Non-finite costs never match.
 */
export function assignWithThreshold(cost: CostMatrix, maxCost: number): Assignment {
  const { rows: n, cols: m, data } = cost;
  if (!Number.isFinite(maxCost)) throw new TypeError(`assignWithThreshold: maxCost must be finite, got ${maxCost}`);
  if (n === 0 || m === 0) {
    return { matches: [], unmatchedRows: range(n), unmatchedCols: range(m) };
  }
  // Square (n + m) extension: [C, D; D^T, 0] with dummies D = half the limit, nudged so a
  // pair exactly at the limit still prefers to match.
  const size = n + m;
  const half = (maxCost + 1e-9 * Math.max(1, Math.abs(maxCost))) / 2;
  // Any value above 2 * half (= leaving both unmatched) can never be chosen profitably.
  const forbidden = 4 * Math.abs(half) + 1;
  const ext = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let c: number;
      if (i < n && j < m) {
        const x = data[i * m + j]!;
        c = Number.isFinite(x) && x <= maxCost ? x : forbidden;
      } else if (i < n || j < m) {
        c = half;
      } else {
        c = 0;
      }
      ext[i * size + j] = c;
    }
  }
  const sol = linearSumAssignment(costMatrix(size, size, ext));
  const matches: [number, number][] = [];
  const rowDone = new Uint8Array(n);
  const colDone = new Uint8Array(m);
  for (let k = 0; k < sol.rows.length; k++) {
    const i = sol.rows[k]!;
    const j = sol.cols[k]!;
    if (i >= n || j >= m) continue;
    const x = data[i * m + j]!;
    if (!(Number.isFinite(x) && x <= maxCost)) continue;
    matches.push([i, j]);
    rowDone[i] = 1;
    colDone[j] = 1;
  }
  return {
    matches,
    unmatchedRows: range(n).filter((i) => !rowDone[i]),
    unmatchedCols: range(m).filter((j) => !colDone[j]),
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
