/** A box as MOTChallenge files give it: top-left x, y and size, px. */
export interface XywhBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * py-motmetrics' `iou_matrix(objs, hyps, max_iou)`: distance 1 - IoU per (object, hypothesis)
 * pair, NaN ("do not pair") where the distance exceeds maxDistance. Row-major, objs x hyps.
 */
export function iouDistanceMatrix(objs: readonly XywhBox[], hyps: readonly XywhBox[], maxDistance: number): Float64Array {
  const n = objs.length;
  const m = hyps.length;
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const a = objs[i]!;
    for (let j = 0; j < m; j++) {
      const d = 1 - iouXywh(a, hyps[j]!);
      out[i * m + j] = d > maxDistance ? NaN : d;
    }
  }
  return out;
}

/** IoU as motmetrics' `boxiou` computes it: negative sizes clamp to 0, no overlap gives 0. */
export function iouXywh(a: XywhBox, b: XywhBox): number {
  const iw = Math.max(Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x), 0);
  const ih = Math.max(Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y), 0);
  const inter = iw * ih;
  if (inter === 0) return 0;
  const union = Math.max(a.width, 0) * Math.max(a.height, 0) + Math.max(b.width, 0) * Math.max(b.height, 0) - inter;
  return inter / union;
}
