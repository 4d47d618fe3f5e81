import { describe, expect, it } from 'vitest';
import { rng } from '../../helpers/random.js';
import type { MaskCrop } from '../../../src/core/detections.js';
import { countsToString, decodeRle, encodeMask, maskCropToCounts, stringToCounts } from '../../../src/publish/rle.js';


/** The crop pasted into a full W x H row-major frame. */
function paste(m: MaskCrop, W: number, H: number): Uint8Array {
  const full = new Uint8Array(W * H);
  for (let y = 0; y < m.height; y++) for (let x = 0; x < m.width; x++) full[(m.y + y) * W + m.x + x] = m.data[y * m.width + x]! ? 1 : 0;
  return full;
}

/** Straightforward COCO counts: walk the whole frame column by column, start with zeros. */
function referenceCounts(full: Uint8Array, W: number, H: number): number[] {
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H; y++) {
      const bit = full[y * W + x]!;
      if (bit !== value) {
        counts.push(run);
        value = bit;
        run = 0;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

function randomCrop(r: () => number, W: number, H: number, density: number): MaskCrop {
  const width = Math.floor(r() * (W + 1));
  const height = Math.floor(r() * (H + 1));
  const x = Math.floor(r() * (W - width + 1));
  const y = Math.floor(r() * (H - height + 1));
  const data = Uint8Array.from({ length: width * height }, () => (r() < density ? 1 : 0));
  return { x, y, width, height, data };
}

const crop = (x: number, y: number, width: number, height: number, fill = 1): MaskCrop => ({
  x,
  y,
  width,
  height,
  data: new Uint8Array(width * height).fill(fill),
});

describe('maskCropToCounts', () => {
  it('matches a full-frame column-major reference on random crops', () => {
    const r = rng(42);
    for (let t = 0; t < 300; t++) {
      const W = 1 + Math.floor(r() * 24);
      const H = 1 + Math.floor(r() * 24);
      const m = randomCrop(r, W, H, [0, 0.1, 0.5, 0.9, 1][t % 5]!);
      expect(maskCropToCounts(m, W, H), `crop ${m.width}x${m.height}@${m.x},${m.y} in ${W}x${H}`).toEqual(
        referenceCounts(paste(m, W, H), W, H),
      );
    }
  });

  it('gives [0, 4] for an all-ones 2x2 frame, as pycocotools does', () => {
    expect(maskCropToCounts(crop(0, 0, 2, 2), 2, 2)).toEqual([0, 4]);
  });

  it('gives one run of zeros for an empty crop', () => {
    expect(maskCropToCounts(crop(3, 2, 0, 0), 5, 4)).toEqual([20]);
    expect(maskCropToCounts(crop(3, 2, 2, 0), 5, 4)).toEqual([20]);
    expect(maskCropToCounts(crop(0, 0, 5, 4, 0), 5, 4)).toEqual([20]);
  });

  it('counts a crop touching the top-left corner', () => {
    // 4x3 frame, 2x2 ones at (0,0): column 0 = 1,1,0; column 1 = 1,1,0; columns 2,3 = 0.
    expect(maskCropToCounts(crop(0, 0, 2, 2), 4, 3)).toEqual([0, 2, 1, 2, 7]);
  });

  it('counts a crop in the bottom-right corner', () => {
    // 4x3 frame, 2x2 ones at (2,1): columns 0,1 = 0 (6), column 2 = 0,1,1, column 3 = 0,1,1.
    expect(maskCropToCounts(crop(2, 1, 2, 2), 4, 3)).toEqual([7, 2, 1, 2]);
  });

  it('counts a full-height crop spanning columns', () => {
    // 3x2 frame, ones in columns 1..2: 2 zeros then 4 ones.
    expect(maskCropToCounts(crop(1, 0, 2, 2), 3, 2)).toEqual([2, 4]);
  });

  it.each([
    ['right', crop(3, 0, 2, 1), 4, 3],
    ['bottom', crop(0, 2, 1, 2), 4, 3],
    ['left', crop(-1, 0, 1, 1), 4, 3],
    ['top', crop(0, -1, 1, 1), 4, 3],
  ])('throws RangeError for a crop past the %s edge', (_side, m, W, H) => {
    expect(() => maskCropToCounts(m, W, H)).toThrow(RangeError);
  });
});

describe('countsToString / stringToCounts', () => {
  it('encodes [0, 4] as "04", as pycocotools does', () => {
    expect(countsToString([0, 4])).toBe('04');
  });

  it('writes 5 bits a character with a continuation flag, offset 48', () => {
    // 40 = 0b01_01000: low group 8 with continuation (8 | 32) + 48 = 88 'X', then 1 + 48 = '1'.
    expect(countsToString([40])).toBe('X1');
    // 15 fits one group; 16 has the sign bit (0x10) set, so needs a second group.
    expect(countsToString([15])).toBe(String.fromCharCode(15 + 48));
    expect(countsToString([16])).toBe(String.fromCharCode(16 + 32 + 48) + '0');
  });

  it('stores counts after the third as deltas to counts[i - 2]', () => {
    // [3, 5, 7, 5]: 3, 5, 7, then 5 - 5 = 0.
    expect(countsToString([3, 5, 7, 5])).toBe('3570');
    // [3, 5, 7, 4]: 4 - 5 = -1: one group 0b11111 with the sign bit = 31 + 48 = 'O'.
    expect(countsToString([3, 5, 7, 4])).toBe('357O');
  });

  it('round-trips counts with large values and negative deltas', () => {
    const cases = [
      [0],
      [7],
      [0, 1],
      [100, 2, 1, 50, 1, 3, 99999, 1, 2],
      [5, 1000, 3, 1, 2, 999, 1, 0, 70000],
      [1, 2, 3, 4, 5, 4, 3, 2, 1, 0, 0],
    ];
    for (const c of cases) expect(stringToCounts(countsToString(c))).toEqual(c);
  });

  it('round-trips random counts', () => {
    const r = rng(9);
    for (let t = 0; t < 200; t++) {
      const c = Array.from({ length: Math.floor(r() * 30) }, () => Math.floor(r() ** 3 * 1e6));
      expect(stringToCounts(countsToString(c))).toEqual(c);
    }
  });

  it('rejects a string that ends inside a number', () => {
    expect(() => stringToCounts('X')).toThrow(SyntaxError);
  });

  it('rejects characters outside the 48..111 alphabet', () => {
    expect(() => stringToCounts('0 4')).toThrow(SyntaxError);
    expect(() => stringToCounts('0' + String.fromCharCode(112))).toThrow(SyntaxError);
  });
});

describe('encodeMask / decodeRle', () => {
  it('writes size as [height, width]', () => {
    expect(encodeMask(crop(0, 0, 2, 2), 3, 5).size).toEqual([5, 3]);
  });

  it('decodes what it encodes to the crop pasted into the frame, on random crops', () => {
    const r = rng(1234);
    for (let t = 0; t < 200; t++) {
      const W = 1 + Math.floor(r() * 40);
      const H = 1 + Math.floor(r() * 40);
      const m = randomCrop(r, W, H, [0.2, 0.5, 0.95][t % 3]!);
      expect(Array.from(decodeRle(encodeMask(m, W, H)))).toEqual(Array.from(paste(m, W, H)));
    }
  });

  it('decodes an all-ones frame', () => {
    expect(Array.from(decodeRle({ size: [2, 2], counts: '04' }))).toEqual([1, 1, 1, 1]);
  });

  it('rejects runs that cover more than the frame', () => {
    expect(() => decodeRle({ size: [2, 2], counts: countsToString([0, 5]) })).toThrow(RangeError);
  });

  it('rejects runs that cover less than the frame', () => {
    expect(() => decodeRle({ size: [2, 2], counts: countsToString([1, 2]) })).toThrow(RangeError);
  });

  it('rejects a truncated string', () => {
    expect(() => decodeRle({ size: [10, 10], counts: countsToString([40, 60]).slice(0, 1) })).toThrow(SyntaxError);
  });
});
