import { rleCounts } from '../client/rle.js';
import { maskCropToCounts } from '../publish/rle.js';
import type { CocoRle } from '../protocol/index.js';

/**
 * A binary mask as COCO's uncompressed RLE: run lengths over the frame in column-major order
 * (index = x * height + y), starting with a run of 0s. `area` is its pixel count; `first` and
 * `end` bound its pixels' indices (first = end = 0 when empty), so that disjoint masks skip
 * the run merge.
 */
export interface RunLengthMask {
  readonly height: number;
  readonly width: number;
  readonly counts: readonly number[];
  readonly area: number;
  readonly first: number;
  readonly end: number;
}

function fromCounts(counts: readonly number[], height: number, width: number): RunLengthMask {
  let pos = 0;
  let area = 0;
  let first = -1;
  let end = 0;
  for (let k = 0; k < counts.length; k++) {
    const n = counts[k]!;
    if (k % 2 === 1 && n > 0) {
      if (first < 0) first = pos;
      area += n;
      end = pos + n;
    }
    pos += n;
  }
  if (pos !== height * width) throw new RangeError(`RLE covers ${pos} pixels, a ${width}x${height} frame has ${height * width}`);
  return { height, width, counts, area, first: Math.max(first, 0), end };
}

/** A compressed COCO RLE (`{size: [h, w], counts: "..."}`) as run lengths; throws on a broken one. */
export function runLengthsFromRle(rle: CocoRle): RunLengthMask {
  const [h, w] = rle.size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) throw new RangeError(`invalid RLE size ${String(rle.size)}`);
  return fromCounts(rleCounts(rle.counts), h, w);
}

/** A row-major bitmap (`height * width` bytes, non-zero inside) as run lengths. */
export function runLengthsFromBitmap(bits: Uint8Array, width: number, height: number): RunLengthMask {
  if (bits.length !== width * height) throw new RangeError(`bitmap holds ${bits.length} bytes, ${width}x${height} needs ${width * height}`);
  return fromCounts(maskCropToCounts({ x: 0, y: 0, width, height, data: bits }, width, height), height, width);
}

/** Number of pixels in both masks (pycocotools' rleIou inner loop). */
export function intersectionArea(a: RunLengthMask, b: RunLengthMask): number {
  if (a.height !== b.height || a.width !== b.width) {
    throw new RangeError(`masks of different sizes: ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
  if (a.area === 0 || b.area === 0 || a.end <= b.first || b.end <= a.first) return 0;
  const ca = a.counts;
  const cb = b.counts;
  let ia = 0;
  let ib = 0;
  let ra = ca[0] ?? 0;
  let rb = cb[0] ?? 0;
  let va = 0;
  let vb = 0;
  let pos = 0;
  let inter = 0;
  const stop = Math.min(a.end, b.end);
  while (pos < stop && ia < ca.length && ib < cb.length) {
    const step = Math.min(ra, rb);
    if (va & vb) inter += step;
    pos += step;
    ra -= step;
    rb -= step;
    if (ra === 0) {
      ia++;
      ra = ca[ia] ?? 0;
      va ^= 1;
    }
    if (rb === 0) {
      ib++;
      rb = cb[ib] ?? 0;
      vb ^= 1;
    }
  }
  return inter;
}

/**
 * pycocotools' mask IoU: intersection over union, or over the detection's area when the ground
 * truth is a crowd region; 0 when the denominator is 0.
 */
export function maskIou(dt: RunLengthMask, gt: RunLengthMask, gtIsCrowd = false): number {
  const inter = intersectionArea(dt, gt);
  if (inter === 0) return 0;
  const union = gtIsCrowd ? dt.area : dt.area + gt.area - inter;
  return inter / union;
}

/** maskIou of two compressed COCO RLEs. */
export function rleIou(dt: CocoRle, gt: CocoRle, gtIsCrowd = false): number {
  return maskIou(runLengthsFromRle(dt), runLengthsFromRle(gt), gtIsCrowd);
}

/** pycocotools' bbIou on `[x, y, w, h]` boxes (no +1); over the detection's area for a crowd. */
export function boxIou(dt: readonly number[], gt: readonly number[], gtIsCrowd = false): number {
  const [dx, dy, dw, dh] = dt as [number, number, number, number];
  const [gx, gy, gw, gh] = gt as [number, number, number, number];
  const w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
  if (w <= 0) return 0;
  const h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
  if (h <= 0) return 0;
  const inter = w * h;
  const union = gtIsCrowd ? dw * dh : dw * dh + gw * gh - inter;
  return inter / union;
}
