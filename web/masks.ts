import { forEachRleRun, type WireObject } from '../src/client/index.js';
import { OBJECT_ALPHA, TARGET_ALPHA, targetColor, trackColor, type Rgb } from './colors.js';

/** The colour and opacity an object is drawn in: its target's when it has one, else its track's. */
export function styleOf(o: WireObject): { color: Rgb; alpha: number } {
  return o.target !== undefined ? { color: targetColor(o.target), alpha: TARGET_ALPHA } : { color: trackColor(o.id), alpha: OBJECT_ALPHA };
}

/**
 * Paints the objects' masks into an RGBA buffer of the frame's size (row-major, 4 bytes a
 * pixel), transparent elsewhere; targets last, so they stay on top. Runs straight from the RLE:
 * no full-frame bitmap per object. A mask of another size (a frame from before a resolution
 * change) or a broken one is skipped; returns how many were painted.
 */
export function paintMasks(rgba: Uint8ClampedArray, width: number, height: number, objects: readonly WireObject[]): number {
  rgba.fill(0);
  let painted = 0;
  const ordered = [...objects].sort((a, b) => Number(a.target !== undefined) - Number(b.target !== undefined));
  for (const o of ordered) {
    if (!o.mask || o.mask.size[0] !== height || o.mask.size[1] !== width) continue;
    const { color, alpha } = styleOf(o);
    const a = Math.round(alpha * 255);
    try {
      forEachRleRun(o.mask, (start, length) => {
        for (let k = start; k < start + length; k++) {
          const x = Math.floor(k / height);
          const p = ((k - x * height) * width + x) * 4;
          rgba[p] = color[0];
          rgba[p + 1] = color[1];
          rgba[p + 2] = color[2];
          rgba[p + 3] = a;
        }
      });
      painted++;
    } catch {
      // A broken mask is not drawn; the box still is.
    }
  }
  return painted;
}
