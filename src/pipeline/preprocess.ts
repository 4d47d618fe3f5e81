import type { Letterbox } from '../core/index.js';

/**
 * The model input, as Ultralytics' LetterBox makes it: the RGB frame resized into the
 * letterbox's inner rectangle the way OpenCV's `cv2.resize(..., INTER_LINEAR)` does it for
 * 8-bit pictures (two taps per axis, half-pixel centres, no antialiasing, fixed-point weights
 * of 11 bits and the same rounding, so the bytes are OpenCV's), grey 114 around it, then
 * planar float32 (CHW) divided by 255.
 *
 * OpenCV's 8-bit path: horizontal taps weighted by round(w * 2048) into ints, the vertical
 * pass as its SIMD kernel computes it: ((h0 >> 4) * b0 >> 16) + ((h1 >> 4) * b1 >> 16),
 * then (+ 2) >> 2. An exact 2x reduction on both axes is done as OpenCV does it (its fast
 * area path: the mean of 2 x 2 pixels, rounded).
 */

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;
/** v / 255 as float32, for v = 0..255 (exactly torch's float32 division). */
const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);
const PAD = UNIT[114]!;

/** Per-axis taps of one resize: source index and the two fixed-point weights per output index. */
interface AxisTaps {
  index: Int32Array;
  w0: Int32Array;
  w1: Int32Array;
}

/** Column taps as byte offsets into an RGB row (the second tap clamped to the last column). */
interface ColumnTaps extends AxisTaps {
  p0: Int32Array;
  p1: Int32Array;
}

/** What a letterbox of one frame size needs, computed once per size. */
export interface LetterboxPlan {
  readonly lb: Letterbox;
  /** Exact 2x reduction on both axes (OpenCV's fast area path). */
  readonly half: boolean;
  /** Same size: the frame is copied. */
  readonly copy: boolean;
  readonly x: ColumnTaps;
  readonly y: AxisTaps;
}

/** OpenCV's cvRound: to nearest, halves to even. */
function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function axisTaps(src: number, dst: number, clampLow: boolean): AxisTaps {
  // OpenCV: inv_scale = dst / src (double), scale = 1 / inv_scale, fx = (float)((d + 0.5) * scale - 0.5).
  const scale = 1 / (dst / src);
  const index = new Int32Array(dst);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    // Columns: OpenCV clamps the tap and zeroes the weight at both borders. Rows: it keeps
    // the weights and clamps the rows it reads (so both taps read the border row).
    if (clampLow) {
      if (s < 0) {
        s = 0;
        f = 0;
      }
      if (s >= src - 1) {
        s = src - 1;
        f = 0;
      }
    }
    index[d] = s;
    w0[d] = cvRound(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = cvRound(f * COEF_SCALE);
  }
  return { index, w0, w1 };
}

function columnTaps(src: number, dst: number): ColumnTaps {
  const taps = axisTaps(src, dst, true);
  const p0 = new Int32Array(dst);
  const p1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    p0[d] = taps.index[d]! * 3;
    p1[d] = Math.min(taps.index[d]! + 1, src - 1) * 3;
  }
  return { ...taps, p0, p1 };
}

export function planLetterbox(lb: Letterbox): LetterboxPlan {
  const { frameWidth: fw, frameHeight: fh, innerWidth: iw, innerHeight: ih } = lb;
  return {
    lb,
    half: fw === 2 * iw && fh === 2 * ih,
    copy: fw === iw && fh === ih,
    x: columnTaps(fw, iw),
    y: axisTaps(fh, ih, false),
  };
}

/**
 * Writes the letterboxed model input of `rgb` (packed RGB, `lb.frameWidth` x `lb.frameHeight`)
 * into `out` at `offset`: 3 planes of dstWidth x dstHeight floats.
 */
export function letterboxInto(rgb: Uint8Array, plan: LetterboxPlan, out: Float32Array, offset = 0): void {
  const { lb } = plan;
  const { frameWidth: fw, frameHeight: fh, dstWidth: dw, dstHeight: dh, innerWidth: iw, innerHeight: ih, padX, padY } = lb;
  if (rgb.length !== fw * fh * 3) {
    throw new TypeError(`letterbox: expected ${fw * fh * 3} bytes for ${fw}x${fh} rgb24, got ${rgb.length}`);
  }
  const plane = dw * dh;
  if (out.length < offset + 3 * plane) {
    throw new TypeError(`letterbox: output holds ${out.length} floats, needs ${offset + 3 * plane}`);
  }
  const r = offset;
  const g = offset + plane;
  const b = offset + 2 * plane;
  if (iw !== dw || ih !== dh) out.fill(PAD, offset, offset + 3 * plane);
  const stride = fw * 3;
  if (plan.copy || plan.half) {
    for (let y = 0; y < ih; y++) {
      const o = (padY + y) * dw + padX;
      if (plan.copy) {
        let s = y * stride;
        for (let x = 0; x < iw; x++, s += 3) {
          out[r + o + x] = UNIT[rgb[s]!]!;
          out[g + o + x] = UNIT[rgb[s + 1]!]!;
          out[b + o + x] = UNIT[rgb[s + 2]!]!;
        }
      } else {
        let s0 = 2 * y * stride;
        let s1 = s0 + stride;
        for (let x = 0; x < iw; x++, s0 += 6, s1 += 6) {
          out[r + o + x] = UNIT[(rgb[s0]! + rgb[s0 + 3]! + rgb[s1]! + rgb[s1 + 3]! + 2) >> 2]!;
          out[g + o + x] = UNIT[(rgb[s0 + 1]! + rgb[s0 + 4]! + rgb[s1 + 1]! + rgb[s1 + 4]! + 2) >> 2]!;
          out[b + o + x] = UNIT[(rgb[s0 + 2]! + rgb[s0 + 5]! + rgb[s1 + 2]! + rgb[s1 + 5]! + 2) >> 2]!;
        }
      }
    }
    return;
  }
  const { p0: xp0, p1: xp1, w0: xa, w1: xb } = plan.x;
  const { index: yi, w0: ya, w1: yb } = plan.y;
  const lastRow = fh - 1;
  for (let y = 0; y < ih; y++) {
    const sy = yi[y]!;
    const row0 = Math.min(Math.max(sy, 0), lastRow) * stride;
    const row1 = Math.min(Math.max(sy + 1, 0), lastRow) * stride;
    const b0 = ya[y]!;
    const b1 = yb[y]!;
    const o = (padY + y) * dw + padX;
    for (let x = 0; x < iw; x++) {
      const a0 = xa[x]!;
      const a1 = xb[x]!;
      const t0 = row0 + xp0[x]!;
      const t1 = row0 + xp1[x]!;
      const u0 = row1 + xp0[x]!;
      const u1 = row1 + xp1[x]!;
      // Weights are >= 0, so only the top can overflow (their rounded sum may be 2049).
      let v = ((((rgb[t0]! * a0 + rgb[t1]! * a1) >> 4) * b0) >> 16) + ((((rgb[u0]! * a0 + rgb[u1]! * a1) >> 4) * b1) >> 16);
      out[r + o + x] = UNIT[(v = (v + 2) >> 2) > 255 ? 255 : v]!;
      v = ((((rgb[t0 + 1]! * a0 + rgb[t1 + 1]! * a1) >> 4) * b0) >> 16) + ((((rgb[u0 + 1]! * a0 + rgb[u1 + 1]! * a1) >> 4) * b1) >> 16);
      out[g + o + x] = UNIT[(v = (v + 2) >> 2) > 255 ? 255 : v]!;
      v = ((((rgb[t0 + 2]! * a0 + rgb[t1 + 2]! * a1) >> 4) * b0) >> 16) + ((((rgb[u0 + 2]! * a0 + rgb[u1 + 2]! * a1) >> 4) * b1) >> 16);
      out[b + o + x] = UNIT[(v = (v + 2) >> 2) > 255 ? 255 : v]!;
    }
  }
}

/** The letterboxed input as packed RGB bytes (HWC), for checks against OpenCV and for tests. */
export function letterboxRgb(rgb: Uint8Array, plan: LetterboxPlan): Uint8Array {
  const { dstWidth: dw, dstHeight: dh } = plan.lb;
  const plane = dw * dh;
  const f = new Float32Array(3 * plane);
  letterboxInto(rgb, plan, f);
  const out = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i * 3] = Math.round(f[i]! * 255);
    out[i * 3 + 1] = Math.round(f[plane + i]! * 255);
    out[i * 3 + 2] = Math.round(f[2 * plane + i]! * 255);
  }
  return out;
}
