import { describe, expect, it } from 'vitest';
import { computeLetterbox, toInputX, toInputY, toSourceX, toSourceY, type Letterbox } from '../../../src/core/geometry.js';

/** scale, inner size and padding; `+ 0` turns -0 into 0 (zero padding has its own test). */
function summary(lb: Letterbox): number[] {
  return [lb.scale, lb.innerWidth, lb.innerHeight, lb.padX + 0, lb.padY + 0];
}

describe('computeLetterbox', () => {
  it('fits a 640x480 frame into 320x320 at scale 0.5 with 40 px bars above and below', () => {
    // 320/640 = 0.5 < 320/480; 480 * 0.5 = 240; (320 - 240) / 2 = 40.
    const lb = computeLetterbox(640, 480, 320, 320);
    expect([lb.srcWidth, lb.srcHeight, lb.dstWidth, lb.dstHeight]).toEqual([640, 480, 320, 320]);
    expect(summary(lb)).toEqual([0.5, 320, 240, 0, 40]);
  });

  it('fits a 16:9 640x360 frame into 320x320 with 70 px bars', () => {
    // 360 * 0.5 = 180; (320 - 180) / 2 = 70.
    const lb = computeLetterbox(640, 360, 320, 320);
    expect(summary(lb)).toEqual([0.5, 320, 180, 0, 70]);
  });

  it('pads a portrait frame left and right instead of top and bottom', () => {
    // 480x640: scale = min(320/480, 320/640) = 0.5; inner 240x320; (320 - 240) / 2 = 40.
    const lb = computeLetterbox(480, 640, 320, 320);
    expect(summary(lb)).toEqual([0.5, 240, 320, 40, 0]);
  });

  it('puts the odd padding pixel on the bottom, as Ultralytics round(d - 0.1) does', () => {
    // 100x99 -> 320x320: scale 3.2, inner height round(316.8) = 317, 3 px to pad:
    // Ultralytics gives top = round(1.5 - 0.1) = 1, bottom = round(1.5 + 0.1) = 2.
    const lb = computeLetterbox(100, 99, 320, 320);
    expect(summary(lb)).toEqual([3.2, 320, 317, 0, 1]);
    expect(lb.dstHeight - lb.innerHeight - lb.padY).toBe(2);
  });

  it('puts the odd padding pixel on the right for a tall frame', () => {
    // 99x100 -> 320x320: inner width 317, left 1, right 2.
    const lb = computeLetterbox(99, 100, 320, 320);
    expect(summary(lb)).toEqual([3.2, 317, 320, 1, 0]);
  });

  it('scales up a frame smaller than the model input', () => {
    // 160x120 -> 320x320: scale 2, inner 320x240, bars of 40.
    const lb = computeLetterbox(160, 120, 320, 320);
    expect(summary(lb)).toEqual([2, 320, 240, 0, 40]);
  });

  it('never lets the inner picture exceed the input or vanish', () => {
    for (const [w, h] of [
      [1, 10_000],
      [10_000, 1],
      [1920, 1080],
      [333, 777],
    ] as const) {
      const lb = computeLetterbox(w, h, 320, 256);
      expect(lb.innerWidth).toBeGreaterThanOrEqual(1);
      expect(lb.innerHeight).toBeGreaterThanOrEqual(1);
      expect(lb.padX + lb.innerWidth).toBeLessThanOrEqual(320);
      expect(lb.padY + lb.innerHeight).toBeLessThanOrEqual(256);
      expect(lb.padX).toBeGreaterThanOrEqual(0);
      expect(lb.padY).toBeGreaterThanOrEqual(0);
    }
  });

  it('reports zero padding as 0, not -0 (Math.round(-0.1) is -0)', () => {
    // -0 breaks Object.is / toEqual comparisons and prints as "-0" in util.inspect logs;
    // the padding of an axis the picture fills is plain 0.
    const lb = computeLetterbox(640, 480, 320, 320);
    expect(Object.is(lb.padX, 0)).toBe(true);
  });

  it.each([
    [0, 480, 320, 320],
    [640, -1, 320, 320],
    [640, 480, 320.5, 320],
    [640, 480, 320, Number.NaN],
    [640, 480, Number.POSITIVE_INFINITY, 320],
  ])('rejects size %s x %s -> %s x %s with TypeError', (sw, sh, dw, dh) => {
    expect(() => computeLetterbox(sw, sh, dw, dh)).toThrow(TypeError);
  });

  it('names the offending argument in the error', () => {
    expect(() => computeLetterbox(640, 0, 320, 320)).toThrow(/srcHeight/);
  });
});

describe('letterbox coordinate mapping', () => {
  it('maps the corners of the inner picture to the corners of the source frame', () => {
    const lb = computeLetterbox(640, 480, 320, 320);
    expect(toSourceX(lb, 0)).toBe(0);
    expect(toSourceX(lb, 320)).toBe(640);
    expect(toSourceY(lb, 40)).toBe(0);
    expect(toSourceY(lb, 280)).toBe(480);
    // Padding maps outside the frame (not clamped).
    expect(toSourceY(lb, 0)).toBe(-80);
  });

  it('maps source px to input px by scale and padding', () => {
    const lb = computeLetterbox(640, 360, 320, 320);
    expect(toInputX(lb, 100)).toBe(50);
    expect(toInputY(lb, 100)).toBe(50 + 70);
    expect(toInputY(lb, 360)).toBe(180 + 70);
  });

  it('round-trips source -> input -> source for many frame shapes', () => {
    for (const [sw, sh, dw, dh] of [
      [640, 480, 320, 320],
      [1920, 1080, 640, 640],
      [480, 640, 320, 320],
      [100, 99, 320, 320],
      [777, 333, 416, 256],
    ] as const) {
      const lb = computeLetterbox(sw, sh, dw, dh);
      for (const t of [0, 0.13, 0.5, 0.99, 1]) {
        const x = t * sw;
        const y = t * sh;
        expect(toSourceX(lb, toInputX(lb, x))).toBeCloseTo(x, 6);
        expect(toSourceY(lb, toInputY(lb, y))).toBeCloseTo(y, 6);
        const ix = lb.padX + t * lb.innerWidth;
        const iy = lb.padY + t * lb.innerHeight;
        expect(toInputX(lb, toSourceX(lb, ix))).toBeCloseTo(ix, 6);
        expect(toInputY(lb, toSourceY(lb, iy))).toBeCloseTo(iy, 6);
      }
    }
  });
});
