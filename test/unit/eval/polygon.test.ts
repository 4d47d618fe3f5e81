import { describe, expect, it } from 'vitest';
import { polygonBbox, rasterizePolygon } from '../../../src/eval/index.js';

/** Rows of a bitmap as strings of '#' and '.', for readable expectations. */
function rows(bits: Uint8Array, width: number): string[] {
  const out: string[] = [];
  for (let y = 0; y * width < bits.length; y++) out.push(Array.from(bits.subarray(y * width, (y + 1) * width), (b) => (b ? '#' : '.')).join(''));
  return out;
}
const count = (bits: Uint8Array) => bits.reduce((s, b) => s + b, 0);

describe('rasterizePolygon (pixel centre inside, even-odd)', () => {
  it('a square with corners on pixel edges covers exactly its pixels', () => {
    // (1,1)-(4,4): centres 1.5, 2.5, 3.5 on each axis are inside -> 3 x 3 = 9 px.
    const bits = rasterizePolygon([1, 1, 4, 1, 4, 4, 1, 4], 6, 6);
    expect(count(bits)).toBe(9);
    expect(rows(bits, 6)).toEqual(['......', '.###..', '.###..', '.###..', '......', '......']);
  });

  it('a square with fractional corners keeps only the centres inside', () => {
    // (0.6,0.6)-(3.4,3.4): centre 0.5 < 0.6 and 3.5 > 3.4 are out; 1.5, 2.5 in -> 4 px.
    expect(rows(rasterizePolygon([0.6, 0.6, 3.4, 0.6, 3.4, 3.4, 0.6, 3.4], 5, 5), 5)).toEqual(['.....', '.##..', '.##..', '.....', '.....']);
  });

  it('a triangle whose slanted right edge runs through pixel centres leaves them out', () => {
    // (0,0), (4,0), (0,4): inside when cx + cy < 4, i.e. x + y < 3 (centres on x + y = 3 lie
    // on the right edge: out). Rows hold 3, 2, 1, 0 px -> 6 px.
    const bits = rasterizePolygon([0, 0, 4, 0, 0, 4], 5, 5);
    expect(count(bits)).toBe(6);
    expect(rows(bits, 5)).toEqual(['###..', '##...', '#....', '.....', '.....']);
  });

  it('a triangle whose slanted left edge runs through pixel centres keeps them', () => {
    // (4,0), (4,4), (0,4): inside when cx + cy >= 4 (on the left edge: in) and cx, cy < 4:
    // x + y >= 3 with x, y in 0..3 -> 16 - 6 = 10 px.
    const bits = rasterizePolygon([4, 0, 4, 4, 0, 4], 5, 5);
    expect(count(bits)).toBe(10);
    expect(rows(bits, 5)).toEqual(['...#.', '..##.', '.###.', '####.', '.....']);
  });

  it('cuts the parts outside the frame', () => {
    // (-2,-2)-(2,2) on a 4x4 frame: only centres 0.5 and 1.5 on each axis -> 4 px.
    expect(rows(rasterizePolygon([-2, -2, 2, -2, 2, 2, -2, 2], 4, 4), 4)).toEqual(['##..', '##..', '....', '....']);
  });

  it('a self-overlapping outline is filled by the even-odd rule', () => {
    // Bow tie (0,0), (4,4), (4,0), (0,4): a left and a right triangle meeting at (2,2). On row y
    // (centre line y + 0.5) the crossings are x = 0, y + 0.5, 3.5 - y, 4; inside are the centres
    // in [0, min) and [max, 4). Row 0: [0, 0.5) holds no centre, [3.5, 4) holds 3.5. Row 1:
    // [0, 1.5) holds 0.5, [2.5, 4) holds 2.5 and 3.5. Rows 2 and 3 mirror rows 1 and 0.
    expect(rows(rasterizePolygon([0, 0, 4, 4, 4, 0, 0, 4], 4, 4), 4)).toEqual(['...#', '#.##', '#.##', '...#']);
  });

  it('fewer than 3 points cover nothing; the bounding box has no +1', () => {
    expect(count(rasterizePolygon([0, 0, 3, 3], 4, 4))).toBe(0);
    expect(polygonBbox([1, 2, 4.5, 2, 3, 7])).toEqual([1, 2, 3.5, 5]);
  });
});
