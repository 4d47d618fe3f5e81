import { contours } from 'd3-contour';
import type { MaskCrop } from '../core/index.js';
import { clipMask } from './rle.js';
import { simplifyRing, type Point } from './simplify.js';

/** Default simplification tolerance: a dropped contour point lies at most this far from the polygon, px. */
export const POLYGON_TOLERANCE_PX = 1;

/**
 * The outer contours of a mask in source-frame px, each flat `[x0, y0, x1, y1, ...]` and
 * implicitly closed, simplified with Douglas-Peucker (`tolerancePx`); holes are left out. The
 * contours are traced by d3-contour (marching squares, not smoothed) at 0.5 on the crop, whose
 * pixel (x, y) covers [x, x+1) x [y, y+1), so a contour runs through the pixel edges' midpoints
 * and lies inside the crop, hence inside the object's box. The part of a mask outside the
 * frame (`frameWidth` x `frameHeight`) is cut away first, as for RLE.
 */
export function maskPolygons(mask: MaskCrop, frameWidth: number, frameHeight: number, tolerancePx = POLYGON_TOLERANCE_PX): number[][] {
  const m = clipMask(mask, frameWidth, frameHeight);
  if (m.width === 0 || m.height === 0) return [];
  const [level] = contours().size([m.width, m.height]).thresholds([0.5]).smooth(false)(Array.from(m.data));
  const out: number[][] = [];
  for (const polygon of level?.coordinates ?? []) {
    const outer = polygon[0];
    if (!outer || outer.length < 4) continue;
    // GeoJSON rings repeat their first point at the end.
    const ring = simplifyRing(outer.slice(0, -1) as unknown as Point[], tolerancePx);
    if (ring.length < 3) continue;
    const flat: number[] = [];
    for (const [x, y] of ring) flat.push(x + m.x, y + m.y);
    out.push(flat);
  }
  return out;
}
