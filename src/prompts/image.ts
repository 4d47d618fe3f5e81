import { maskHas, type Letterbox, type MaskCrop } from '../core/index.js';

/**
 * CLIP image preprocessing, pure: cut one object out of a frame the way FastSAM does before
 * CLIP scores it, then resize / centre-crop / normalise as CLIP's `preprocess` does.
 */

/** Packed RGB, row-major, width * height * 3 bytes. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /**
   * Set when the image is a segstream Frame's picture: the source picture, possibly scaled
   * down by ingest (`frameWidth` x `frameHeight`), while boxes and masks live in source px.
   */
  readonly letterbox?: Letterbox;
}

/** CLIP's normalisation (openai/CLIP clip.py `_transform`). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** Tight bounding box of the set pixels, source px, x2/y2 exclusive; null for an empty mask. */
export function maskBounds(mask: MaskCrop): { x1: number; y1: number; x2: number; y2: number; area: number } | null {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  let area = 0;
  for (let my = 0; my < mask.height; my++) {
    const row = my * mask.width;
    for (let mx = 0; mx < mask.width; mx++) {
      if (mask.data[row + mx] === 0) continue;
      area++;
      if (mx < x1) x1 = mx;
      if (mx > x2) x2 = mx;
      if (my < y1) y1 = my;
      if (my > y2) y2 = my;
    }
  }
  if (area === 0) return null;
  return { x1: mask.x + x1, y1: mask.y + y1, x2: mask.x + x2 + 1, y2: mask.y + y2 + 1, area };
}

export interface SegmentCropOptions {
  /** Value written to R, G and B outside the mask (FastSAM: white, 255). */
  readonly background?: number;
}

/**
 * The object's picture: the mask's tight bounding box cut from the image, every pixel outside
 * the mask set to `background`. FastSAM (`_crop_image` / `_segment_image`) takes the mask's
 * bounding box on a white canvas; we also blank the pixels outside the mask (its
 * `segment_image(image, mask)` variant) and cut the canvas to the box, so CLIP sees the
 * object and not its neighbours. Without a mask the detection box is used as is.
 * Returns null when the region is empty (an empty mask, or a box outside the image).
 */
export function segmentCrop(
  image: RgbImage,
  mask: MaskCrop | null,
  box: readonly [number, number, number, number],
  options: SegmentCropOptions = {},
): RgbImage | null {
  const bg = options.background ?? 255;
  let sx1: number, sy1: number, sx2: number, sy2: number;
  if (mask !== null) {
    const b = maskBounds(mask);
    if (b === null) return null;
    ({ x1: sx1, y1: sy1, x2: sx2, y2: sy2 } = b);
  } else {
    [sx1, sy1, sx2, sy2] = box;
  }
  const lb = image.letterbox;
  // Source px -> image px.
  const kx = lb ? image.width / lb.srcWidth : 1;
  const ky = lb ? image.height / lb.srcHeight : 1;
  const toImgX = (x: number): number => x * kx;
  const toImgY = (y: number): number => y * ky;
  const ix1 = Math.max(0, Math.floor(toImgX(sx1)));
  const iy1 = Math.max(0, Math.floor(toImgY(sy1)));
  const ix2 = Math.min(image.width, Math.ceil(toImgX(sx2)));
  const iy2 = Math.min(image.height, Math.ceil(toImgY(sy2)));
  const w = ix2 - ix1;
  const h = iy2 - iy1;
  if (w <= 0 || h <= 0) return null;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const iy = iy1 + y;
    // Image pixel centre -> the source pixel it shows.
    const srcY = Math.floor(lb ? (iy + 0.5) / ky : iy);
    for (let x = 0; x < w; x++) {
      const ix = ix1 + x;
      const o = (y * w + x) * 3;
      const inMask = mask === null || maskHas(mask, Math.floor(lb ? (ix + 0.5) / kx : ix), srcY);
      if (inMask) {
        const s = (iy * image.width + ix) * 3;
        out[o] = image.data[s]!;
        out[o + 1] = image.data[s + 1]!;
        out[o + 2] = image.data[s + 2]!;
      } else {
        out[o] = bg;
        out[o + 1] = bg;
        out[o + 2] = bg;
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** PIL's bicubic kernel (a = -0.5). */
function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

interface Coeffs {
  /** First input index per output index. */
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** `taps` weights per output index. */
  readonly weights: Float64Array;
  readonly taps: number;
}

/**
 * Resampling weights as Pillow's `precompute_coeffs` computes them: the kernel widens by the
 * scale when downsizing (antialiasing), weights are normalised per output pixel. Only the
 * output indices [from, from + n) of a full output of size `outSize` are computed.
 */
function coeffs(inSize: number, outSize: number, from: number, n: number): Coeffs {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Float64Array(n * taps);
  for (let k = 0; k < n; k++) {
    const center = (from + k + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let j = 0; j < xmax; j++) {
      const w = bicubic((j + xmin - center + 0.5) / filterScale);
      weights[k * taps + j] = w;
      sum += w;
    }
    if (sum !== 0) for (let j = 0; j < xmax; j++) weights[k * taps + j]! /= sum;
    start[k] = xmin;
    count[k] = xmax;
  }
  return { start, count, weights, taps };
}

const clampByte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/**
 * CLIP's `Resize(size, BICUBIC)` then `CenterCrop(size)`: the shorter side becomes `size`, the
 * longer `floor(size * long / short)` (torchvision), and the centre `size` x `size` is kept
 * (offset `round((len - size) / 2)`). Resampling is Pillow-style separable bicubic with
 * antialiasing, horizontal pass first, rounded to bytes after each pass. Only the kept pixels
 * are computed, so a thin, long crop costs no more than a square one.
 */
export function resizeAndCenterCrop(img: RgbImage, size: number): RgbImage {
  if (!Number.isInteger(size) || size <= 0) throw new TypeError(`resizeAndCenterCrop: size must be a positive integer, got ${size}`);
  if (img.width <= 0 || img.height <= 0) throw new TypeError(`resizeAndCenterCrop: empty image ${img.width}x${img.height}`);
  let outW: number, outH: number;
  if (img.width <= img.height) {
    outW = size;
    outH = Math.floor((size * img.height) / img.width);
  } else {
    outH = size;
    outW = Math.floor((size * img.width) / img.height);
  }
  const left = Math.round((outW - size) / 2);
  const top = Math.round((outH - size) / 2);
  const cx = coeffs(img.width, outW, left, size);
  const cy = coeffs(img.height, outH, top, size);
  // Rows of the input the vertical pass needs.
  let rowLo = img.height;
  let rowHi = 0;
  for (let k = 0; k < size; k++) {
    rowLo = Math.min(rowLo, cy.start[k]!);
    rowHi = Math.max(rowHi, cy.start[k]! + cy.count[k]!);
  }
  const rows = Math.max(0, rowHi - rowLo);
  // Horizontal pass: rows x size.
  const mid = new Uint8Array(rows * size * 3);
  for (let r = 0; r < rows; r++) {
    const srcRow = (rowLo + r) * img.width * 3;
    for (let k = 0; k < size; k++) {
      let R = 0, G = 0, B = 0;
      const s0 = cx.start[k]!;
      const n = cx.count[k]!;
      for (let j = 0; j < n; j++) {
        const w = cx.weights[k * cx.taps + j]!;
        const s = srcRow + (s0 + j) * 3;
        R += w * img.data[s]!;
        G += w * img.data[s + 1]!;
        B += w * img.data[s + 2]!;
      }
      const o = (r * size + k) * 3;
      mid[o] = clampByte(R);
      mid[o + 1] = clampByte(G);
      mid[o + 2] = clampByte(B);
    }
  }
  // Vertical pass: size x size.
  const out = new Uint8Array(size * size * 3);
  for (let k = 0; k < size; k++) {
    const s0 = cy.start[k]! - rowLo;
    const n = cy.count[k]!;
    for (let x = 0; x < size; x++) {
      let R = 0, G = 0, B = 0;
      for (let j = 0; j < n; j++) {
        const w = cy.weights[k * cy.taps + j]!;
        const s = ((s0 + j) * size + x) * 3;
        R += w * mid[s]!;
        G += w * mid[s + 1]!;
        B += w * mid[s + 2]!;
      }
      const o = (k * size + x) * 3;
      out[o] = clampByte(R);
      out[o + 1] = clampByte(G);
      out[o + 2] = clampByte(B);
    }
  }
  return { width: size, height: size, data: out };
}

/**
 * CLIP `preprocess`: resize + centre crop to `size`, then CHW float32 scaled to [0, 1] and
 * normalised with CLIP's mean and std. Writes into `out` at `offset` when given (a batch).
 */
export function clipPreprocess(img: RgbImage, size = 224, out?: Float32Array, offset = 0): Float32Array {
  const sq = resizeAndCenterCrop(img, size);
  const plane = size * size;
  const dst = out ?? new Float32Array(3 * plane);
  if (dst.length < offset + 3 * plane) throw new RangeError(`clipPreprocess: output holds ${dst.length} floats, needs ${offset + 3 * plane}`);
  for (let c = 0; c < 3; c++) {
    const m = CLIP_MEAN[c]!;
    const s = CLIP_STD[c]!;
    const base = offset + c * plane;
    for (let p = 0; p < plane; p++) dst[base + p] = (sq.data[p * 3 + c]! / 255 - m) / s;
  }
  return dst;
}
