import { clamp, toInputX, toInputY, toSourceX, toSourceY, type Letterbox, type MaskCrop } from '../core/index.js';

/** Prototype masks of one image: [numMasks, height, width] floats (output1 of the model). */
export interface Prototypes {
  readonly data: Float32Array;
  readonly numMasks: number;
  readonly width: number;
  readonly height: number;
  /** Model input size the prototypes cover, px (prototypes are input / 4 for YOLOv8). */
  readonly inputWidth: number;
  readonly inputHeight: number;
}

/** Logit margin around the 0.5 threshold for the stability score (SAM uses 1.0). */
export const STABILITY_OFFSET = 1;

/** An input-px box -> source-px box, clamped to the source frame. */
export function boxToSource(lb: Letterbox, box: ArrayLike<number>, offset = 0): [number, number, number, number] {
  return [
    clamp(toSourceX(lb, box[offset]!), 0, lb.srcWidth),
    clamp(toSourceY(lb, box[offset + 1]!), 0, lb.srcHeight),
    clamp(toSourceX(lb, box[offset + 2]!), 0, lb.srcWidth),
    clamp(toSourceY(lb, box[offset + 3]!), 0, lb.srcHeight),
  ];
}

/**
 * Assembles one instance mask directly at source resolution, inside its box only:
 * logits = coefficients . prototypes on the few prototype cells under the box, bilinearly
 * sampled at each source pixel centre (align_corners=false, as Ultralytics' upsampling),
 * and thresholded at 0 (sigmoid > 0.5). Pixels whose centre is outside the box are 0.
 * Also scores the mask's stability (see MaskCrop.stability) from the same logits.
 * Cost: O(box area in source px + box area in prototype cells * numMasks).
 */
export function assembleMask(
  coefficients: Float32Array,
  coefOffset: number,
  protos: Prototypes,
  lb: Letterbox,
  srcBox: readonly [number, number, number, number],
): MaskCrop {
  const [sx1, sy1, sx2, sy2] = srcBox;
  const x0 = clamp(Math.round(sx1), 0, lb.srcWidth);
  const y0 = clamp(Math.round(sy1), 0, lb.srcHeight);
  const x1 = clamp(Math.round(sx2), x0, lb.srcWidth);
  const y1 = clamp(Math.round(sy2), y0, lb.srcHeight);
  const width = x1 - x0;
  const height = y1 - y0;
  const data = new Uint8Array(width * height);
  if (width === 0 || height === 0) return { x: x0, y: y0, width, height, data, stability: 0 };

  const { numMasks: nm, width: pw, height: ph } = protos;
  const kx = pw / protos.inputWidth;
  const ky = ph / protos.inputHeight;
  // Prototype-space sample positions of each column / row centre.
  const u = new Float32Array(width);
  const v = new Float32Array(height);
  for (let i = 0; i < width; i++) u[i] = clamp(toInputX(lb, x0 + i + 0.5) * kx - 0.5, 0, pw - 1);
  for (let j = 0; j < height; j++) v[j] = clamp(toInputY(lb, y0 + j + 0.5) * ky - 0.5, 0, ph - 1);
  const cu0 = Math.floor(u[0]!);
  const cu1 = Math.min(pw - 1, Math.floor(u[width - 1]!) + 1);
  const cv0 = Math.floor(v[0]!);
  const cv1 = Math.min(ph - 1, Math.floor(v[height - 1]!) + 1);
  const gw = cu1 - cu0 + 1;
  const gh = cv1 - cv0 + 1;

  // Logits on the prototype cells under the box.
  const grid = new Float32Array(gw * gh);
  const plane = pw * ph;
  const pdata = protos.data;
  for (let c = 0; c < nm; c++) {
    const w = coefficients[coefOffset + c]!;
    if (w === 0) continue;
    const pbase = c * plane;
    for (let gy = 0; gy < gh; gy++) {
      const row = pbase + (cv0 + gy) * pw + cu0;
      const grow = gy * gw;
      for (let gx = 0; gx < gw; gx++) grid[grow + gx]! += w * pdata[row + gx]!;
    }
  }

  // Separable bilinear weights.
  const ui = new Int32Array(width);
  const uf = new Float32Array(width);
  for (let i = 0; i < width; i++) {
    const g = u[i]! - cu0;
    const fi = Math.min(Math.floor(g), gw - 1);
    ui[i] = fi;
    uf[i] = g - fi;
  }
  // Pixels above logit +1 and above -1, for the stability score.
  let strong = 0;
  let weak = 0;
  for (let j = 0; j < height; j++) {
    const g = v[j]! - cv0;
    const fj = Math.min(Math.floor(g), gh - 1);
    const wy = g - fj;
    const r0 = fj * gw;
    const r1 = Math.min(fj + 1, gh - 1) * gw;
    const out = j * width;
    for (let i = 0; i < width; i++) {
      const a = ui[i]!;
      const b = Math.min(a + 1, gw - 1);
      const wx = uf[i]!;
      const top = grid[r0 + a]! + (grid[r0 + b]! - grid[r0 + a]!) * wx;
      const bot = grid[r1 + a]! + (grid[r1 + b]! - grid[r1 + a]!) * wx;
      const logit = top + (bot - top) * wy;
      if (logit > -STABILITY_OFFSET) {
        weak++;
        if (logit > 0) data[out + i] = 1;
        if (logit > STABILITY_OFFSET) strong++;
      }
    }
  }
  return { x: x0, y: y0, width, height, data, stability: weak > 0 ? strong / weak : 0 };
}
