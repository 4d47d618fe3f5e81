import { describe, expect, it } from 'vitest';
import { computeLetterbox, roundHalfEven, toInputX, toInputY, toSourceX, toSourceY, type Letterbox } from '../../../src/core/geometry.js';

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

  it('round-trips source -> input -> source where the rounded inner size is exact', () => {
    for (const [sw, sh, dw, dh] of [
      [640, 480, 320, 320],
      [1920, 1080, 640, 640],
      [480, 640, 320, 320],
      [160, 120, 320, 320],
    ] as const) {
      const lb = computeLetterbox(sw, sh, dw, dh);
      for (const t of [0, 0.13, 0.5, 0.99, 1]) {
        const x = t * sw;
        const y = t * sh;
        expect(toSourceX(lb, toInputX(lb, x))).toBeCloseTo(x, 6);
        expect(toSourceY(lb, toInputY(lb, y))).toBeCloseTo(y, 6);
      }
    }
  });

  it('maps boxes back by the gain (Ultralytics scale_boxes), not by the rounded inner size', () => {
    // 427x640 -> 320: gain 0.5, inner width round_half_even(213.5) = 214, padX = round(53 - 0.1) = 53.
    const lb = computeLetterbox(427, 640, 320, 320);
    expect([lb.innerWidth, lb.padX, lb.scale]).toEqual([214, 53, 0.5]);
    // Ultralytics: (x - pad) / gain; the inner-size ratio 427 / 214 would give 425.0 for x = 266.
    expect(toSourceX(lb, 266)).toBe(426);
    // Masks sample through the exact inverse of the resize: source width onto 214 px.
    expect(toInputX(lb, 427)).toBe(214 + 53);
  });

  it('maps through a frame that ingest scaled down: model px -> frame px -> source px', () => {
    // A 2560x1440 source delivered at 1280x720: the letterbox is computed on 1280x720 (gain 0.25).
    const lb = computeLetterbox(2560, 1440, 320, 320, 1280, 720);
    expect([lb.frameWidth, lb.frameHeight, lb.scale, lb.innerWidth, lb.innerHeight, lb.padY]).toEqual([1280, 720, 0.25, 320, 180, 70]);
    expect(toSourceX(lb, 160)).toBe(1280);
    expect(toSourceY(lb, 70 + 180)).toBe(1440);
    expect(toInputX(lb, 2560)).toBe(320);
  });
});

describe('roundHalfEven', () => {
  it('rounds halves to the even integer as Python round() does, everything else to nearest', () => {
    expect([0.5, 1.5, 2.5, 213.5, 212.5, -0.5, -1.5].map(roundHalfEven)).toEqual([0, 2, 2, 214, 212, -0, -2]);
    expect([0.49, 0.51, 2.4999, 316.8].map(roundHalfEven)).toEqual([0, 1, 2, 317]);
  });

  it('is what computeLetterbox uses for the inner size (Math.round would give 213 here)', () => {
    // 640x427 is among COCO's image sizes: 427 * 0.5 = 213.5.
    expect(computeLetterbox(640, 427, 320, 320).innerHeight).toBe(214);
    // 425 * 0.5 = 212.5 -> 212 (Math.round: 213).
    expect(computeLetterbox(640, 425, 320, 320).innerHeight).toBe(212);
  });
});
