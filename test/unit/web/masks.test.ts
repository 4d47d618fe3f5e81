import { describe, expect, it } from 'vitest';
import type { MaskCrop } from '../../../src/core/detections.js';
import { encodeMask } from '../../../src/publish/rle.js';
import type { WireObject } from '../../../src/client/index.js';
import { OBJECT_ALPHA, TARGET_ALPHA, targetColor, trackColor, hslToRgb } from '../../../web/colors.js';
import { paintMasks } from '../../../web/masks.js';

const W = 8;
const H = 6;
function object(crop: MaskCrop, extra: Partial<WireObject> = {}): WireObject {
  return { label: 'car', classId: 2, score: 0.9, box: [crop.x, crop.y, crop.x + crop.width, crop.y + crop.height], mask: encodeMask(crop, W, H), area: 0, ...extra };
}
const at = (rgba: Uint8ClampedArray, x: number, y: number): number[] => [...rgba.subarray((y * W + x) * 4, (y * W + x) * 4 + 4)];

describe('dashboard overlay colours and masks', () => {
  it('gives each target id one colour, the same every time, and different ids different colours', () => {
    expect(targetColor(3)).toEqual(targetColor(3));
    expect(new Set(Array.from({ length: 8 }, (_, i) => targetColor(i + 1).join())).size).toBe(8);
    expect(targetColor(9)).toEqual(targetColor(1));
    expect(trackColor(undefined)).toEqual([170, 170, 170]);
    expect(trackColor(5)).toEqual(trackColor(5));
    expect(hslToRgb(0, 1, 0.5)).toEqual([255, 0, 0]);
    expect(hslToRgb(120, 1, 0.5)).toEqual([0, 255, 0]);
    expect(hslToRgb(240, 1, 0.25)).toEqual([0, 0, 128]);
  });

  it('paints each mask where its pixels are (column-major RLE to row-major RGBA), targets on top, transparent elsewhere', () => {
    const rgba = new Uint8ClampedArray(W * H * 4).fill(7);
    const a = object({ x: 1, y: 1, width: 3, height: 2, data: new Uint8Array(6).fill(1) }, { id: 4 });
    const t = object({ x: 3, y: 2, width: 2, height: 2, data: Uint8Array.of(1, 0, 1, 1) }, { id: 5, target: 2 });
    // The target comes first in the list but is painted last.
    expect(paintMasks(rgba, W, H, [t, a])).toBe(2);
    const objA = [...trackColor(4), Math.round(OBJECT_ALPHA * 255)];
    const tgt = [...targetColor(2), Math.round(TARGET_ALPHA * 255)];
    expect(at(rgba, 1, 1)).toEqual(objA);
    expect(at(rgba, 3, 1)).toEqual(objA);
    expect(at(rgba, 3, 2)).toEqual(tgt); // overlap: the target wins
    expect(at(rgba, 4, 2)).toEqual([0, 0, 0, 0]); // a hole in the target's crop
    expect(at(rgba, 4, 3)).toEqual(tgt);
    expect(at(rgba, 0, 0)).toEqual([0, 0, 0, 0]);
    expect(at(rgba, 7, 5)).toEqual([0, 0, 0, 0]);
  });

  it('skips masks of another frame size, missing masks and broken ones', () => {
    const rgba = new Uint8ClampedArray(W * H * 4);
    const other = { ...object({ x: 0, y: 0, width: 1, height: 1, data: Uint8Array.of(1) }), mask: { size: [H + 1, W] as [number, number], counts: '0' } };
    const none = { ...object({ x: 0, y: 0, width: 1, height: 1, data: Uint8Array.of(1) }), mask: null };
    const broken = { ...object({ x: 0, y: 0, width: 1, height: 1, data: Uint8Array.of(1) }), mask: { size: [H, W] as [number, number], counts: '~~~' } };
    expect(paintMasks(rgba, W, H, [other, none, broken])).toBe(0);
  });
});
