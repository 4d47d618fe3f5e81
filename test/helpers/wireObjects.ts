import type { WireObject } from '../../src/publish/index.js';
import { decodeRle } from '../../src/publish/index.js';

/** x1, y1, x2, y2 in source-frame px, as frame messages carry it. */
export type WireBox = readonly [number, number, number, number];

export const VEHICLE_LABELS: ReadonlySet<string> = new Set(['car', 'truck', 'bus', 'motorcycle']);

export const boxArea = (b: WireBox): number => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);

export function boxIou(a: WireBox, b: WireBox): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (boxArea(a) + boxArea(b) - inter);
}

export interface MaskVsBox {
  /** Set pixels of the decoded mask. */
  pixels: number;
  /** Set pixels whose centre lies outside the box grown by the tolerance. */
  outside: number;
  /** Largest distance (px) of such a pixel centre beyond the (ungrown) box edge. */
  maxOvershoot: number;
}

/**
 * Decodes an object's COCO RLE (column-major, over the whole frame) with the service's own
 * decoder and counts the set pixels that fall outside its box. Pixel (x, y) covers
 * [x, x+1) x [y, y+1); it counts as inside when its centre (x + 0.5, y + 0.5) lies in
 * [x1 - tol, x2 + tol] x [y1 - tol, y2 + tol] (tol in px: boxes are rounded to 0.1 px, masks
 * to whole pixels). Null when the object has no mask.
 */
export function maskVsBox(o: WireObject, tolerancePx: number): MaskVsBox | null {
  if (!o.mask) return null;
  const [h, w] = o.mask.size;
  const bits = decodeRle(o.mask);
  const [x1, y1, x2, y2] = o.box;
  let pixels = 0;
  let outside = 0;
  let maxOvershoot = 0;
  for (let y = 0; y < h; y++) {
    const cy = y + 0.5;
    const dy = Math.max(y1 - cy, cy - y2, 0);
    for (let x = 0; x < w; x++) {
      if (!bits[y * w + x]) continue;
      pixels++;
      const cx = x + 0.5;
      const over = Math.max(dy, x1 - cx, cx - x2, 0);
      if (over > tolerancePx) {
        outside++;
        if (over > maxOvershoot) maxOvershoot = over;
      }
    }
  }
  return { pixels, outside, maxOvershoot };
}
