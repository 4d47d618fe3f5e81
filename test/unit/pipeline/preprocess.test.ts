import { describe, expect, it } from 'vitest';
import { computeLetterbox } from '../../../src/core/index.js';
import { letterboxInto, letterboxRgb, planLetterbox } from '../../../src/pipeline/preprocess.js';

/** Packed RGB of w x h where pixel (x, y) is [r, g, b] = f(x, y). */
function picture(w: number, h: number, f: (x: number, y: number) => [number, number, number]): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set(f(x, y), (y * w + x) * 3);
  return out;
}

describe('letterboxInto', () => {
  it('copies a frame of the inner size, pads with 114 and writes R, G, B planes divided by 255', () => {
    // 4x2 into 4x4: inner 4x2, one row of padding above and below.
    const rgb = picture(4, 2, (x, y) => [x * 10, y * 20, 255]);
    const lb = computeLetterbox(4, 2, 4, 4);
    const out = new Float32Array(48);
    letterboxInto(rgb, planLetterbox(lb), out);
    const r = Array.from(out.subarray(0, 16), (v) => Math.round(v * 255));
    expect(r).toEqual([114, 114, 114, 114, 0, 10, 20, 30, 0, 10, 20, 30, 114, 114, 114, 114]);
    expect(Array.from(out.subarray(16 + 4, 16 + 12), (v) => Math.round(v * 255))).toEqual([0, 0, 0, 0, 20, 20, 20, 20]);
    expect(out[32 + 4]).toBe(Math.fround(1));
    // Exactly torch's float32 v / 255.
    expect(out[5]).toBe(Math.fround(10 / 255));
  });

  it('halves a 2x-larger frame as the rounded mean of each 2 x 2 block (OpenCV fast area path)', () => {
    const rgb = picture(4, 4, (x, y) => [x + 4 * y, 0, x < 2 ? 1 : 2]);
    const lb = computeLetterbox(4, 4, 2, 2);
    const bytes = letterboxRgb(rgb, planLetterbox(lb));
    // Block (0,0): 0, 1, 4, 5 -> (10 + 2) >> 2 = 3; (1,0): 2, 3, 6, 7 -> 20 / 4 = 5 (+2 >> 2: 5).
    expect([bytes[0], bytes[3], bytes[6], bytes[9]]).toEqual([3, 5, 11, 13]);
    // (1 + 1 + 1 + 1 + 2) >> 2 = 1 and (2 * 4 + 2) >> 2 = 2.
    expect([bytes[2], bytes[5]]).toEqual([1, 2]);
  });

  it('interpolates two taps per axis with half-pixel centres (3 -> 2 px: taps at 0.25 and 1.75)', () => {
    // Row of 3 pixels 0, 100, 200 -> 2 pixels: x = (d + 0.5) * 1.5 - 0.5 = 0.25 and 1.75.
    const rgb = picture(3, 1, (x) => [x * 100, 0, 0]);
    const lb = computeLetterbox(3, 1, 2, 2);
    expect([lb.innerWidth, lb.innerHeight, lb.padY]).toEqual([2, 1, 0]);
    const bytes = letterboxRgb(rgb, planLetterbox(lb));
    // 0.75 * 0 + 0.25 * 100 = 25; 0.25 * 100 + 0.75 * 200 = 175.
    expect([bytes[0], bytes[3]]).toEqual([25, 175]);
    expect(bytes[6]).toBe(114);
  });

  it('clamps at the borders when scaling up (the edge pixels repeat, no dark fringe)', () => {
    const rgb = picture(2, 2, () => [200, 100, 50]);
    const lb = computeLetterbox(2, 2, 8, 8);
    const bytes = letterboxRgb(rgb, planLetterbox(lb));
    for (let i = 0; i < 64; i++) expect([bytes[i * 3], bytes[i * 3 + 1], bytes[i * 3 + 2]]).toEqual([200, 100, 50]);
  });

  it('writes image b of a batch at its offset and leaves the rest alone', () => {
    const rgb = picture(2, 2, () => [255, 255, 255]);
    const lb = computeLetterbox(2, 2, 2, 2);
    const out = new Float32Array(2 + 12 + 2).fill(-1);
    letterboxInto(rgb, planLetterbox(lb), out, 2);
    expect(Array.from(out)).toEqual([-1, -1, ...new Array(12).fill(1), -1, -1]);
  });

  it('rejects a buffer that is not frameWidth x frameHeight rgb24, and a too small output', () => {
    const lb = computeLetterbox(4, 4, 2, 2);
    expect(() => letterboxInto(new Uint8Array(47), planLetterbox(lb), new Float32Array(12))).toThrow(/expected 48 bytes for 4x4/);
    expect(() => letterboxInto(new Uint8Array(48), planLetterbox(lb), new Float32Array(11))).toThrow(TypeError);
  });
});
