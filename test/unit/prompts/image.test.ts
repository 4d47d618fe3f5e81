import { describe, expect, it } from 'vitest';
import { computeLetterbox, type MaskCrop } from '../../../src/core/index.js';
import { CLIP_MEAN, CLIP_STD, clipPreprocess, maskBounds, resizeAndCenterCrop, segmentCrop, type RgbImage } from '../../../src/prompts/image.js';

function image(width: number, height: number, px: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(px(x, y), (y * width + x) * 3);
  return { width, height, data };
}

const at = (img: RgbImage, x: number, y: number): number[] => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

function mask(x: number, y: number, width: number, height: number, set: (mx: number, my: number) => boolean): MaskCrop {
  const data = new Uint8Array(width * height);
  for (let my = 0; my < height; my++) for (let mx = 0; mx < width; mx++) data[my * width + mx] = set(mx, my) ? 1 : 0;
  return { x, y, width, height, data };
}

describe('maskBounds', () => {
  it('is the tight box of the set pixels (x2, y2 exclusive) with the area; null when empty', () => {
    expect(maskBounds(mask(10, 20, 8, 8, (x, y) => x >= 2 && x < 5 && y === 6))).toEqual({ x1: 12, y1: 26, x2: 15, y2: 27, area: 3 });
    expect(maskBounds(mask(0, 0, 4, 4, () => false))).toBeNull();
  });
});

describe('segmentCrop', () => {
  // Each pixel encodes its own coordinates: R = x, G = y.
  const src = image(40, 20, (x, y) => [x, y, 7]);

  it("cuts the mask's tight box and whitens pixels outside the mask", () => {
    // Box claims [0,0,40,20]; the mask covers an L in [10,5)-(14,8).
    const m = mask(8, 4, 10, 6, (x, y) => (x >= 2 && x < 6 && y === 1) || (x === 2 && y >= 1 && y < 4));
    const crop = segmentCrop(src, m, [0, 0, 40, 20])!;
    expect([crop.width, crop.height]).toEqual([4, 3]);
    expect(at(crop, 0, 0)).toEqual([10, 5, 7]);
    expect(at(crop, 3, 0)).toEqual([13, 5, 7]);
    expect(at(crop, 0, 2)).toEqual([10, 7, 7]);
    expect(at(crop, 1, 1)).toEqual([255, 255, 255]);
    expect(at(segmentCrop(src, m, [0, 0, 40, 20], { background: 114 })!, 1, 1)).toEqual([114, 114, 114]);
  });

  it('uses the detection box when there is no mask, clipped to the image', () => {
    const crop = segmentCrop(src, null, [35, 18, 50, 30])!;
    expect([crop.width, crop.height]).toEqual([5, 2]);
    expect(at(crop, 0, 0)).toEqual([35, 18, 7]);
    expect(segmentCrop(src, null, [50, 0, 60, 10])).toBeNull();
    expect(segmentCrop(src, mask(0, 0, 2, 2, () => false), [0, 0, 2, 2])).toBeNull();
  });

  it("maps source-px masks into a Frame's picture that ingest scaled down", () => {
    // Source 80x40 delivered as a 40x20 picture (half size), letterboxed from there.
    const lb = computeLetterbox(80, 40, 40, 40, 40, 20);
    const input: RgbImage = { ...image(40, 20, (x, y) => [x, y, 7]), letterbox: lb };
    // Source mask: full rectangle [20,10)-(28,18) -> picture [10,5)-(14,9).
    const crop = segmentCrop(input, mask(20, 10, 8, 8, () => true), [20, 10, 28, 18])!;
    expect([crop.width, crop.height]).toEqual([4, 4]);
    expect(at(crop, 0, 0)).toEqual([10, 5, 7]);
    expect(at(crop, 3, 3)).toEqual([13, 8, 7]);
    // Only the left source half of the mask set: the right picture half turns white.
    const half = segmentCrop(input, mask(20, 10, 8, 8, (x) => x < 4 || x === 7), [20, 10, 28, 18])!;
    expect(at(half, 1, 0)).toEqual([11, 5, 7]);
    expect(at(half, 2, 0)).toEqual([255, 255, 255]);
  });

  it("reads a Frame's picture at the source's own size pixel for pixel", () => {
    const lb = computeLetterbox(40, 20, 32, 32);
    const input: RgbImage = { ...image(40, 20, (x, y) => [x, y, 9]), letterbox: lb };
    const crop = segmentCrop(input, null, [3, 4, 6, 8])!;
    expect([crop.width, crop.height]).toEqual([3, 4]);
    expect(at(crop, 0, 0)).toEqual([3, 4, 9]);
    expect(at(crop, 2, 3)).toEqual([5, 7, 9]);
  });
});

describe('resizeAndCenterCrop (CLIP Resize(BICUBIC) + CenterCrop)', () => {
  it('keeps a uniform image uniform at any scale', () => {
    for (const [w, h] of [[3, 5], [300, 17], [224, 224]] as const) {
      const out = resizeAndCenterCrop(image(w, h, () => [37, 200, 0]), 224);
      expect([out.width, out.height]).toEqual([224, 224]);
      expect(new Set(out.data.filter((_, i) => i % 3 === 0))).toEqual(new Set([37]));
      expect(new Set(out.data.filter((_, i) => i % 3 === 1))).toEqual(new Set([200]));
    }
  });

  it('crops the centre of the shorter-side-scaled image (448x224: columns 112..335)', () => {
    const out = resizeAndCenterCrop(image(448, 224, (x) => (x < 224 ? [255, 0, 0] : [0, 0, 255])), 224);
    expect(at(out, 0, 0)).toEqual([255, 0, 0]);
    expect(at(out, 111, 100)).toEqual([255, 0, 0]);
    expect(at(out, 112, 100)).toEqual([0, 0, 255]);
    expect(at(out, 223, 223)).toEqual([0, 0, 255]);
  });

  it('antialiases when shrinking: a 1-px stripe pattern halves to grey, not to stripes', () => {
    const out = resizeAndCenterCrop(image(448, 448, (x) => (x % 2 === 0 ? [0, 0, 0] : [255, 255, 255])), 224);
    const mid = at(out, 100, 100)[0]!;
    expect(mid).toBeGreaterThanOrEqual(126);
    expect(mid).toBeLessThanOrEqual(129);
  });

  it('a very thin crop costs only the kept pixels (1 x 5000 -> 224 x 224)', () => {
    const out = resizeAndCenterCrop(image(1, 5000, (_, y) => [y % 256, 0, 0]), 224);
    expect([out.width, out.height]).toEqual([224, 224]);
  });
});

describe('clipPreprocess', () => {
  it('writes CHW floats normalised with CLIP mean and std, at an offset in a batch', () => {
    const white = image(10, 20, () => [255, 255, 255]);
    const batch = new Float32Array(2 * 3 * 4 * 4);
    clipPreprocess(white, 4, batch, 3 * 16);
    expect(batch[0]).toBe(0);
    for (let c = 0; c < 3; c++) {
      expect(batch[3 * 16 + c * 16]).toBeCloseTo((1 - CLIP_MEAN[c]!) / CLIP_STD[c]!, 5);
      expect(batch[3 * 16 + c * 16 + 15]).toBeCloseTo((1 - CLIP_MEAN[c]!) / CLIP_STD[c]!, 5);
    }
    expect(() => clipPreprocess(white, 4, new Float32Array(10))).toThrow(RangeError);
  });
});
