import { costMatrix, type CostMatrix } from './assignment.js';

/**
 * IoU of two x1,y1,x2,y2 boxes (px). Degenerate boxes (zero or negative area) give 0.
 */
export function boxIou(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  const ax1 = a[ai]!, ay1 = a[ai + 1]!, ax2 = a[ai + 2]!, ay2 = a[ai + 3]!;
  const bx1 = b[bi]!, by1 = b[bi + 1]!, bx2 = b[bi + 2]!, by2 = b[bi + 3]!;
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = Math.max(0, ax2 - ax1) * Math.max(0, ay2 - ay1) + Math.max(0, bx2 - bx1) * Math.max(0, by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}

/** n x m IoUs between boxes given as flat x1,y1,x2,y2 arrays (n*4 and m*4 values). */
export function iouMatrix(a: ArrayLike<number>, b: ArrayLike<number>): CostMatrix {
  if (a.length % 4 !== 0 || b.length % 4 !== 0) {
    throw new TypeError(`iouMatrix: box arrays must hold 4 values per box, got ${a.length} and ${b.length}`);
  }
  const n = a.length / 4;
  const m = b.length / 4;
  const out = costMatrix(n, m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out.data[i * m + j] = boxIou(a, i * 4, b, j * 4);
  return out;
}
