import { describe, expect, it } from 'vitest';
import type { MaskCrop } from '../../../src/core/index.js';
import { clipMaskToBox, warpMaskToBox, type Box } from '../../../src/tracking/index.js';

/** A filled rectangle mask over [x, x + w) x [y, y + h). */
function rect(x: number, y: number, w: number, h: number): MaskCrop {
  return { x, y, width: w, height: h, data: new Uint8Array(w * h).fill(1) };
}

/** Set pixels as absolute [x, y] pairs. */
function pixels(m: MaskCrop): [number, number][] {
  const out: [number, number][] = [];
  for (let y = 0; y < m.height; y++) for (let x = 0; x < m.width; x++) if (m.data[y * m.width + x]) out.push([m.x + x, m.y + y]);
  return out;
}

function outside(m: MaskCrop, b: Box): number {
  return pixels(m).filter(([x, y]) => x < Math.floor(b[0]) || x >= Math.ceil(b[2]) || y < Math.floor(b[1]) || y >= Math.ceil(b[3])).length;
}

describe('warpMaskToBox', () => {
  it('shifts a mask with its box', () => {
    const m = warpMaskToBox(rect(10, 20, 4, 6), [10, 20, 14, 26], [15, 22, 19, 28]);
    expect(pixels(m)).toEqual(pixels(rect(15, 22, 4, 6)));
  });

  it('scales a mask into a larger and a smaller box, staying inside it', () => {
    // A left half filled: stays the left half after scaling.
    const half: MaskCrop = { x: 0, y: 0, width: 10, height: 10, data: Uint8Array.from({ length: 100 }, (_, i) => (i % 10 < 5 ? 1 : 0)) };
    for (const to of [[0, 0, 20, 20], [3, 3, 8, 8], [100.4, 50.6, 117.2, 61.9]] as Box[]) {
      const m = warpMaskToBox(half, [0, 0, 10, 10], to);
      expect(outside(m, to)).toBe(0);
      const xs = pixels(m).map(([x]) => x);
      const mid = (to[0] + to[2]) / 2;
      expect(Math.max(...xs)).toBeLessThan(mid + 1);
      expect(pixels(m).length).toBeGreaterThan(0.3 * (to[2] - to[0]) * (to[3] - to[1]));
    }
  });

  it('clips what a larger mask has beyond the box', () => {
    const to: Box = [5, 5, 15, 15];
    const m = clipMaskToBox(rect(0, 0, 30, 30), to);
    expect(outside(m, to)).toBe(0);
    expect(pixels(m)).toHaveLength(100);
  });

  it('returns the mask itself when nothing changes', () => {
    const r = rect(2, 3, 4, 5);
    expect(warpMaskToBox(r, [2, 3, 6, 8], [2, 3, 6, 8])).toBe(r);
  });

  it('never returns an empty mask: a box squeezed below a pixel keeps its centre pixel', () => {
    const m = warpMaskToBox(rect(0, 0, 2, 2), [0, 0, 2, 2], [50.2, 60.2, 50.4, 60.4]);
    expect(pixels(m)).toEqual([[50, 60]]);
    // A mask that is empty where the box lands (a ring's hole) also keeps one pixel.
    const ring: MaskCrop = { x: 0, y: 0, width: 3, height: 3, data: Uint8Array.of(1, 1, 1, 1, 0, 1, 1, 1, 1) };
    expect(pixels(warpMaskToBox(ring, [0, 0, 3, 3], [1, 1, 2, 2]))).toEqual([[1, 1]]);
  });
});
