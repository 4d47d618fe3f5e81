import { expect } from 'vitest';
import type { Frame } from '../../src/core/index.js';
import { fractionOff } from './media.js';

/** Ultralytics' letterbox grey. */
export const PAD_GREY = 114;

/**
 * A 640x480 picture letterboxed to 320x320: scale 0.5 -> 320x240, 40 px grey (114 +-2)
 * bars above and below, a picture in between that is mostly not that grey.
 */
export function expectLetterboxed640x480(f: Frame, camera: string): void {
  expect(f.camera).toBe(camera);
  expect([f.width, f.height, f.format, f.data.length]).toEqual([320, 320, 'rgb24', 320 * 320 * 3]);
  // `+ 0` turns computeLetterbox's -0 (Math.round(-0.1)) into 0; toMatchObject tells them apart.
  const lb = f.letterbox;
  expect({ ...lb, padX: lb.padX + 0 }).toMatchObject({ srcWidth: 640, srcHeight: 480, innerWidth: 320, innerHeight: 240, padX: 0, padY: 40 });
  expect(fractionOff(f, 0, 40, PAD_GREY, 2)).toBe(0);
  expect(fractionOff(f, 280, 320, PAD_GREY, 2)).toBe(0);
  expect(fractionOff(f, 40, 280, PAD_GREY, 2)).toBeGreaterThan(0.5);
}

export function expectConsecutiveSeq(frames: readonly Frame[], first = 0): void {
  expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => first + i));
}
