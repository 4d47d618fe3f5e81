import { describe, expect, it } from 'vitest';
import { rgbToChwFloat } from '../../../src/pipeline/preprocess.js';

describe('rgbToChwFloat', () => {
  // 2x2 picture, row-major RGB: red, green / blue, white.
  const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);

  it('writes the R, G and B planes one after another, scaled to 0..1', () => {
    const out = new Float32Array(12);
    rgbToChwFloat(rgb, 2, 2, out);
    expect(Array.from(out)).toEqual([1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1]);
  });

  it('divides by 255', () => {
    const out = new Float32Array(3);
    rgbToChwFloat(Uint8Array.from([51, 102, 128]), 1, 1, out);
    expect(out[0]).toBeCloseTo(0.2, 6);
    expect(out[1]).toBeCloseTo(0.4, 6);
    expect(out[2]).toBeCloseTo(128 / 255, 6);
  });

  it('writes at an offset (image b of a batch) and leaves the rest alone', () => {
    const out = new Float32Array(2 + 12 + 2).fill(-1);
    rgbToChwFloat(rgb, 2, 2, out, 2);
    expect(Array.from(out)).toEqual([-1, -1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, -1, -1]);
  });

  it('puts pixel (x, y) channel c at c * w * h + y * w + x for a non-square picture', () => {
    const w = 3;
    const h = 2;
    const bytes = Uint8Array.from({ length: w * h * 3 }, (_, i) => i * 10);
    const out = new Float32Array(w * h * 3);
    rgbToChwFloat(bytes, w, h, out);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) expect(out[c * w * h + y * w + x]).toBeCloseTo(((y * w + x) * 3 + c) * 10 / 255, 6);
      }
    }
  });

  it('rejects a byte count that does not match the size', () => {
    expect(() => rgbToChwFloat(new Uint8Array(11), 2, 2, new Float32Array(12))).toThrow(TypeError);
  });

  it('rejects an output too small for the offset', () => {
    expect(() => rgbToChwFloat(rgb, 2, 2, new Float32Array(12), 1)).toThrow(TypeError);
  });
});
