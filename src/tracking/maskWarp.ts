import type { MaskCrop } from '../core/index.js';
import type { Box } from './kalman.js';

/**
 * A mask observed with box `from`, carried to box `to`: scaled and shifted by the map that
 * takes `from` onto `to` (nearest neighbour), then clipped to `to` on the pixel grid, so
 * every set pixel lies inside `to`. When nothing survives (a box squeezed to under a pixel
 * or moved off the mask), the pixel under `to`'s centre is set: a predicted object is never
 * published with an empty mask. Returns the mask itself when the map is the identity and it
 * already lies inside `to`.
 */
export function warpMaskToBox(mask: MaskCrop, from: Box, to: Box): MaskCrop {
  const fw = Math.max(from[2] - from[0], 1e-6);
  const fh = Math.max(from[3] - from[1], 1e-6);
  const sx = (to[2] - to[0]) / fw;
  const sy = (to[3] - to[1]) / fh;
  // The target crop: `to` on the integer grid (pixel k covers [k, k + 1)).
  const x0 = Math.floor(to[0]);
  const y0 = Math.floor(to[1]);
  const x1 = Math.max(Math.ceil(to[2]), x0 + 1);
  const y1 = Math.max(Math.ceil(to[3]), y0 + 1);
  const identity = Math.abs(sx - 1) < 1e-9 && Math.abs(sy - 1) < 1e-9 && from[0] === to[0] && from[1] === to[1];
  if (identity && mask.x >= x0 && mask.y >= y0 && mask.x + mask.width <= x1 && mask.y + mask.height <= y1) return mask;
  const width = x1 - x0;
  const height = y1 - y0;
  const data = new Uint8Array(width * height);
  let set = 0;
  for (let y = 0; y < height; y++) {
    // Centre of the target pixel mapped back into the source mask's frame.
    const srcY = Math.floor(from[1] + (y0 + y + 0.5 - to[1]) / sy) - mask.y;
    if (srcY < 0 || srcY >= mask.height) continue;
    for (let x = 0; x < width; x++) {
      const srcX = Math.floor(from[0] + (x0 + x + 0.5 - to[0]) / sx) - mask.x;
      if (srcX < 0 || srcX >= mask.width) continue;
      if (mask.data[srcY * mask.width + srcX] !== 0) {
        data[y * width + x] = 1;
        set++;
      }
    }
  }
  if (set === 0) {
    const cx = Math.min(width - 1, Math.max(0, Math.floor((to[0] + to[2]) / 2) - x0));
    const cy = Math.min(height - 1, Math.max(0, Math.floor((to[1] + to[3]) / 2) - y0));
    data[cy * width + cx] = 1;
  }
  return { x: x0, y: y0, width, height, data, ...(mask.stability === undefined ? {} : { stability: mask.stability }) };
}

/** The mask cut to the box's pixel grid (for a reported box that is not the mask's own). */
export function clipMaskToBox(mask: MaskCrop, box: Box): MaskCrop {
  return warpMaskToBox(mask, box, box);
}
