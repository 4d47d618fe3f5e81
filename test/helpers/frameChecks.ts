import { expect } from 'vitest';
import type { Frame } from '../../src/core/index.js';
import { fractionOff } from './media.js';

/** Ultralytics' letterbox grey. */
export const PAD_GREY = 114;

/**
 * A 640x480 picture as ingest delivers it: at its own size, rgb24, a real picture (mostly not
 * one grey), with the letterbox the worker will apply (scale 0.5 -> 320x240, 40 px bars).
 */
export function expectPicture640x480(f: Frame, camera: string): void {
  expect(f.camera).toBe(camera);
  expect([f.width, f.height, f.format, f.data.length]).toEqual([640, 480, 'rgb24', 640 * 480 * 3]);
  // `+ 0` turns computeLetterbox's -0 (Math.round(-0.1)) into 0; toMatchObject tells them apart.
  const lb = f.letterbox;
  expect({ ...lb, padX: lb.padX + 0 }).toMatchObject({ srcWidth: 640, srcHeight: 480, frameWidth: 640, frameHeight: 480, innerWidth: 320, innerHeight: 240, padX: 0, padY: 40 });
  expect(fractionOff(f, 0, 480, PAD_GREY, 2)).toBeGreaterThan(0.5);
}

export function expectConsecutiveSeq(frames: readonly Frame[], first = 0): void {
  expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => first + i));
}
