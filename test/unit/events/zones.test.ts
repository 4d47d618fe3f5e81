import { describe, expect, it } from 'vitest';
import type { MaskCrop } from '../../../src/core/index.js';
import {
  boxShareInPolygon,
  maskCentroid,
  maskMoments,
  maskShareInPolygon,
  pointInPolygon,
  preparePolygon,
  rectInPolygon,
  type Polygon,
} from '../../../src/events/zones.js';
import { rng } from '../../helpers/random.js';

/** A crop at (x, y) of w x h with the pixels for which `set(col, row)` is true. */
function crop(x: number, y: number, w: number, h: number, set: (c: number, r: number) => boolean = () => true): MaskCrop {
  const data = new Uint8Array(w * h);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) data[r * w + c] = set(c, r) ? 1 : 0;
  return { x, y, width: w, height: h, data };
}

/** The share by testing every set pixel's centre on its own (the definition). */
function directShare(mask: MaskCrop, polygon: Polygon): number {
  let total = 0;
  let inside = 0;
  for (let r = 0; r < mask.height; r++) {
    for (let c = 0; c < mask.width; c++) {
      if (mask.data[r * mask.width + c] === 0) continue;
      total++;
      if (pointInPolygon(polygon, mask.x + c + 0.5, mask.y + r + 0.5)) inside++;
    }
  }
  return total === 0 ? 0 : inside / total;
}

const square: Polygon = [
  [0, 0],
  [100, 0],
  [100, 100],
  [0, 100],
];

describe('pointInPolygon', () => {
  it('follows the even-odd rule: the pentagon a pentagram crosses twice is outside', () => {
    const star: Polygon = [
      [50, 0],
      [79, 90],
      [2, 35],
      [98, 35],
      [21, 90],
    ];
    expect(pointInPolygon(star, 50, 10)).toBe(true); // a tip
    expect(pointInPolygon(star, 50, 50)).toBe(false); // the pentagon in the middle (crossed twice)
    expect(pointInPolygon(star, 0, 0)).toBe(false);
  });

  it('returns false for non-finite points and polygons of fewer than 3 finite vertices', () => {
    expect(pointInPolygon(square, NaN, 5)).toBe(false);
    expect(pointInPolygon([[0, 0], [10, 0], [NaN, 10]], 2, 1)).toBe(false);
  });
});

describe('rectInPolygon', () => {
  it('accepts a rectangle wholly inside a convex polygon and rejects one over an edge', () => {
    expect(rectInPolygon(square, 10, 10, 90, 90)).toBe(true);
    expect(rectInPolygon(square, 10, 10, 110, 90)).toBe(false);
  });

  it('rejects a rectangle whose corners are inside but that a concave notch cuts', () => {
    // A U shape: the notch between x 40..60 reaches down from the top to y 80.
    const u: Polygon = [
      [0, 0],
      [40, 0],
      [40, 80],
      [60, 80],
      [60, 0],
      [100, 0],
      [100, 100],
      [0, 100],
    ];
    expect(rectInPolygon(u, 10, 10, 90, 90)).toBe(false);
    expect(rectInPolygon(u, 10, 85, 90, 95)).toBe(true);
  });
});

describe('maskShareInPolygon', () => {
  it('is 1 for a mask wholly inside, 0 for one wholly outside', () => {
    expect(maskShareInPolygon(crop(10, 10, 20, 20), square)).toBe(1);
    expect(maskShareInPolygon(crop(200, 10, 20, 20), square)).toBe(0);
  });

  it('counts set pixels by their centres: a 40 px wide mask with 10 columns inside has 25% inside', () => {
    // Columns at x 90..129: centres 90.5 .. 99.5 are inside the square (< 100).
    expect(maskShareInPolygon(crop(90, 10, 40, 20), square)).toBeCloseTo(0.25, 12);
  });

  it('counts only set pixels: the unset part of the crop inside the zone does not count', () => {
    // Left half of the crop (inside the zone) unset, right half (outside) set.
    const m = crop(80, 10, 40, 10, (c) => c >= 20);
    expect(maskShareInPolygon(m, square)).toBe(0);
  });

  it('matches a pixel-by-pixel point test on random masks and random polygons', () => {
    const random = rng(7);
    for (let k = 0; k < 40; k++) {
      const n = 3 + Math.floor(random() * 7);
      const polygon: Polygon = Array.from({ length: n }, () => [random() * 120 - 10, random() * 120 - 10] as const);
      const m = crop(Math.floor(random() * 80) - 10, Math.floor(random() * 80) - 10, 1 + Math.floor(random() * 50), 1 + Math.floor(random() * 50), () => random() < 0.6);
      expect(maskShareInPolygon(m, polygon)).toBeCloseTo(directShare(m, polygon), 12);
      expect(maskShareInPolygon(m, preparePolygon(polygon))).toBeCloseTo(directShare(m, polygon), 12);
      expect(maskShareInPolygon(m, polygon, maskMoments(m).count)).toBeCloseTo(directShare(m, polygon), 12);
    }
  });

  it('gives 0, not NaN, for an empty mask, a zero-area polygon, a malformed crop or NaN vertices', () => {
    expect(maskShareInPolygon(crop(10, 10, 5, 5, () => false), square)).toBe(0);
    const flat: Polygon = [
      [0, 0],
      [100, 0],
      [50, 0],
    ];
    expect(maskShareInPolygon(crop(10, 0, 5, 5), flat)).toBe(0);
    expect(maskShareInPolygon({ x: 0, y: 0, width: 10, height: 10, data: new Uint8Array(3) }, square)).toBe(0);
    expect(maskShareInPolygon({ x: NaN, y: 0, width: 2, height: 2, data: new Uint8Array(4).fill(1) }, square)).toBe(0);
    expect(maskShareInPolygon(crop(10, 10, 5, 5), [[NaN, 0], [1, 1], [2, 2]])).toBe(0);
  });

  it('reads only the rows a short data array holds', () => {
    // 4 wide, 4 high declared, 2 rows of data: only those rows count.
    const m = { x: 98, y: 0, width: 4, height: 4, data: new Uint8Array(8).fill(1) };
    expect(maskShareInPolygon(m, square)).toBeCloseTo(0.5, 12);
  });
});

describe('boxShareInPolygon', () => {
  it('is the share of the box area inside: a box half over the right edge has 0.5', () => {
    expect(boxShareInPolygon([80, 10, 120, 30], square)).toBeCloseTo(0.5, 6);
  });

  it('measures a triangle cut exactly to within the row sampling', () => {
    // The box 0..100 x 0..100 against the triangle under the diagonal: half of it.
    const triangle: Polygon = [
      [0, 0],
      [100, 100],
      [0, 100],
    ];
    expect(boxShareInPolygon([0, 0, 100, 100], triangle)).toBeCloseTo(0.5, 6);
  });

  it('is 1 inside, 0 outside, and accepts swapped corners', () => {
    expect(boxShareInPolygon([10, 10, 20, 20], square)).toBe(1);
    expect(boxShareInPolygon([20, 20, 10, 10], square)).toBe(1);
    expect(boxShareInPolygon([110, 10, 120, 20], square)).toBe(0);
  });

  it('takes a zero-size box as its centre point and a NaN box as outside', () => {
    expect(boxShareInPolygon([50, 50, 50, 60], square)).toBe(1);
    expect(boxShareInPolygon([150, 50, 150, 60], square)).toBe(0);
    expect(boxShareInPolygon([NaN, 0, 10, 10], square)).toBe(0);
  });
});

describe('maskCentroid', () => {
  it('is the mean of the set pixels centres in source px', () => {
    // Pixels (0,0) and (2,0) of a crop at (10, 20): centres 10.5 and 12.5, row centre 20.5.
    const m = crop(10, 20, 3, 2, (c, r) => r === 0 && c !== 1);
    expect(maskCentroid(m)).toEqual([11.5, 20.5]);
  });

  it('falls back to the box centre for an empty mask, and to the crop centre without a box', () => {
    const empty = crop(10, 20, 4, 2, () => false);
    expect(maskCentroid(empty, [0, 0, 10, 10])).toEqual([5, 5]);
    expect(maskCentroid(empty)).toEqual([12, 21]);
    expect(maskCentroid(empty, [NaN, 0, 1, 1])).toEqual([12, 21]);
  });
});
