import { describe, expect, it } from 'vitest';
import type { MaskCrop } from '../../../src/core/index.js';
import { maskPolygons } from '../../../src/publish/polygons.js';
import { ringArea, type Point } from '../../../src/publish/simplify.js';

const pairs = (flat: number[]): Point[] => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!] as const);

function crop(x: number, y: number, rows: string[]): MaskCrop {
  const width = rows[0]!.length;
  return { x, y, width, height: rows.length, data: Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0)) };
}

/** A filled disc of radius r (px) centred in its crop, at (x, y). */
function disc(x: number, y: number, r: number): { mask: MaskCrop; pixels: number } {
  const size = 2 * r + 2;
  const data = new Uint8Array(size * size);
  let pixels = 0;
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) if ((i + 0.5 - size / 2) ** 2 + (j + 0.5 - size / 2) ** 2 <= r * r) (data[j * size + i] = 1), pixels++;
  return { mask: { x, y, width: size, height: size, data }, pixels };
}

describe('maskPolygons', () => {
  it('traces a disc as one simplified outer contour in source px, inside its crop, with its area within 3%', () => {
    const { mask, pixels } = disc(100, 50, 40);
    const polys = maskPolygons(mask, 640, 480);
    expect(polys).toHaveLength(1);
    const ring = pairs(polys[0]!);
    for (const [px, py] of ring) {
      expect(px).toBeGreaterThanOrEqual(100);
      expect(px).toBeLessThanOrEqual(100 + mask.width);
      expect(py).toBeGreaterThanOrEqual(50);
      expect(py).toBeLessThanOrEqual(50 + mask.height);
    }
    expect(Math.abs(ringArea(ring) - pixels) / pixels).toBeLessThan(0.03);
    // Simplified: far fewer points than the contour's ~250 boundary pixels.
    expect(ring.length).toBeLessThan(60);
  });

  it('gives one polygon per separate part and leaves holes out', () => {
    const m = crop(10, 20, [
      '#####...##',
      '#...#...##',
      '#...#.....',
      '#####.....',
    ]);
    const polys = maskPolygons(m, 100, 100, 0.1);
    expect(polys).toHaveLength(2);
    const areas = polys.map((p) => ringArea(pairs(p))).sort((a, b) => a - b);
    // The ring's outline encloses its hole: about 5x4 = 20; the block about 2x2 = 4.
    expect(areas[0]).toBeCloseTo(3.5, 0);
    expect(areas[1]).toBeGreaterThan(18);
  });

  it('cuts a mask that sticks out of the frame to the frame', () => {
    const m = crop(-2, -2, ['####', '####', '####', '####']);
    for (const [px, py] of pairs(maskPolygons(m, 100, 100)[0]!)) {
      expect(px).toBeGreaterThanOrEqual(0);
      expect(py).toBeGreaterThanOrEqual(0);
    }
  });

  it('gives no polygon for an empty mask, an empty crop or a crop outside the frame', () => {
    expect(maskPolygons(crop(0, 0, ['...', '...']), 10, 10)).toEqual([]);
    expect(maskPolygons({ x: 0, y: 0, width: 0, height: 0, data: new Uint8Array(0) }, 10, 10)).toEqual([]);
    expect(maskPolygons(crop(20, 20, ['##', '##']), 10, 10)).toEqual([]);
  });

  it('a single pixel is a diamond through its edge midpoints', () => {
    expect(ringArea(pairs(maskPolygons(crop(3, 4, ['#']), 10, 10, 0)[0]!))).toBe(0.5);
  });
});
