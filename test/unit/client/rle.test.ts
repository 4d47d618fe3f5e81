import { describe, expect, it } from 'vitest';
import { rng } from '../../helpers/random.js';
import type { MaskCrop } from '../../../src/core/detections.js';
import { encodeMask } from '../../../src/publish/rle.js';
import { decodeRle, forEachRleRun, rleCounts, RleError } from '../../../src/client/index.js';

/** The crop pasted into a full W x H row-major frame, cut to the frame as the encoder cuts it. */
function paste(m: MaskCrop, W: number, H: number): Uint8Array {
  const full = new Uint8Array(W * H);
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      const fx = m.x + x;
      const fy = m.y + y;
      if (fx >= 0 && fy >= 0 && fx < W && fy < H) full[fy * W + fx] = m.data[y * m.width + x]! ? 1 : 0;
    }
  }
  return full;
}

describe('client decodeRle', () => {
  it('decodes what the server encoder writes back to the same pixels (random crops, sizes and densities, crops sticking out of the frame)', () => {
    const r = rng(9);
    for (let n = 0; n < 300; n++) {
      const W = 1 + Math.floor(r() * 70);
      const H = 1 + Math.floor(r() * 50);
      const width = Math.floor(r() * (W + 4));
      const height = Math.floor(r() * (H + 4));
      const crop: MaskCrop = {
        x: Math.floor(r() * (W + 2)) - 2,
        y: Math.floor(r() * (H + 2)) - 2,
        width,
        height,
        data: Uint8Array.from({ length: width * height }, () => (r() < [0.05, 0.5, 0.97][n % 3]! ? 1 : 0)),
      };
      const rle = encodeMask(crop, W, H);
      expect(rle.size).toEqual([H, W]);
      expect(decodeRle(rle)).toEqual(paste(crop, W, H));
    }
  });

  it('reads runs of millions of pixels (several characters each) and counts that go down (negative deltas)', () => {
    const W = 2000;
    const H = 1500;
    // A tall thin mask at the right edge: a first run of zeros of about 3 million pixels.
    // Its middle column half as tall: that run is shorter than the one two before it.
    const crop: MaskCrop = { x: 1990, y: 10, width: 3, height: 1400, data: new Uint8Array(3 * 1400).fill(1) };
    for (let y = 700; y < 1400; y++) crop.data[y * 3 + 1] = 0;
    const rle = encodeMask(crop, W, H);
    const runs: [number, number][] = [];
    forEachRleRun(rle, (start, length) => runs.push([start, length]));
    expect(runs).toEqual([
      [1990 * H + 10, 1400],
      [1991 * H + 10, 700],
      [1992 * H + 10, 1400],
    ]);
    // Compared as buffers: toEqual walks 3 million elements slowly.
    expect(Buffer.from(decodeRle(rle)).equals(Buffer.from(paste(crop, W, H)))).toBe(true);
  });

  it('gives column-major runs: the pixel (x, y) of a row-major bitmap lies at index x * height + y', () => {
    // 3 wide, 2 high, only (2, 0) set: runs 4 zeros (columns 0, 1), 1 one, 1 zero.
    const crop: MaskCrop = { x: 2, y: 0, width: 1, height: 1, data: Uint8Array.of(1) };
    const rle = encodeMask(crop, 3, 2);
    expect(rleCounts(rle.counts)).toEqual([4, 1, 1]);
    expect([...decodeRle(rle)]).toEqual([0, 0, 1, 0, 0, 0]);
  });

  it('refuses broken masks with RleError instead of writing outside the bitmap', () => {
    expect(() => decodeRle({ size: [2, 2], counts: '9' })).toThrow(RleError); // 9 pixels in a 4-pixel frame
    expect(() => decodeRle({ size: [2, 2], counts: '1' })).toThrow(/covers 1 pixels/);
    expect(() => decodeRle({ size: [2, 2], counts: ' ' })).toThrow(/invalid COCO RLE character/);
    expect(() => decodeRle({ size: [2, 2], counts: 'P' })).toThrow(/truncated/); // continuation bit, then nothing
    expect(() => decodeRle({ size: [-1, 2], counts: '' })).toThrow(/invalid RLE size/);
  });
});
