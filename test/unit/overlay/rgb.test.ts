import { describe, expect, it } from 'vitest';
import { fillRect, i420ToRgb, rgbToYuv } from '../../../src/overlay/index.js';

describe('i420ToRgb', () => {
  it('inverts rgbToYuv within rounding, per 2x2 block', () => {
    const w = 8;
    const h = 4;
    const img = { width: w, height: h, data: new Uint8Array(w * h * 1.5) };
    const colours: [number, number, number][] = [[255, 0, 64], [0, 158, 115], [16, 16, 16], [235, 235, 235]];
    colours.forEach(([r, g, b], k) => fillRect(img, k * 2, 0, k * 2 + 2, h, rgbToYuv(r, g, b)));
    const rgb = i420ToRgb(img);
    expect(rgb.length).toBe(w * h * 3);
    colours.forEach((c, k) => {
      for (const [x, y] of [[k * 2, 0], [k * 2 + 1, 3]] as const) {
        const i = (y * w + x) * 3;
        for (let ch = 0; ch < 3; ch++) expect(Math.abs(rgb[i + ch]! - c[ch]!), `colour ${k} channel ${ch}`).toBeLessThanOrEqual(3);
      }
    });
  });
  it('clamps out-of-range YUV and checks sizes', () => {
    const img = { width: 2, height: 2, data: Uint8Array.from([0, 255, 255, 0, 255, 0]) };
    const rgb = i420ToRgb(img);
    expect(rgb.every((v) => v >= 0 && v <= 255)).toBe(true);
    expect(() => i420ToRgb({ width: 2, height: 2, data: new Uint8Array(5) })).toThrow(TypeError);
    expect(() => i420ToRgb(img, new Uint8Array(3))).toThrow(TypeError);
  });
});
