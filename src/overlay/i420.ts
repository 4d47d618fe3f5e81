import { clipSegment } from '../core/geometry.js';
import { glyph, GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH } from './font.js';

/** An I420 picture: Y plane (width x height), then U and V (width/2 x height/2 each); even sides. */
export interface I420Image {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A colour in limited-range BT.601 Y'CbCr (what the camera's I420 is in). */
export interface Yuv {
  readonly y: number;
  readonly u: number;
  readonly v: number;
}

/** sRGB 0..255 -> limited-range BT.601 (Y 16..235, Cb/Cr 16..240). */
export function rgbToYuv(r: number, g: number, b: number): Yuv {
  return {
    y: Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255),
    u: Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255),
    v: Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255),
  };
}

/** Checks the buffer holds an I420 picture of its stated (even) size. */
export function checkI420(img: I420Image): void {
  const { width: w, height: h } = img;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 2 || h < 2 || w % 2 || h % 2) throw new TypeError(`I420 sides must be even integers >= 2, got ${w}x${h}`);
  if (img.data.length !== w * h * 1.5) throw new TypeError(`I420 ${w}x${h}: expected ${w * h * 1.5} bytes, got ${img.data.length}`);
}

const clampInt = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v | 0);

/** Fills [x0, x1) x [y0, y1) (clipped to the picture) with `c`. Chroma: every 2x2 block the rectangle touches. */
export function fillRect(img: I420Image, x0: number, y0: number, x1: number, y1: number, c: Yuv): void {
  const { width: w, height: h, data } = img;
  const ax = clampInt(Math.floor(x0), 0, w);
  const bx = clampInt(Math.ceil(x1), 0, w);
  const ay = clampInt(Math.floor(y0), 0, h);
  const by = clampInt(Math.ceil(y1), 0, h);
  if (ax >= bx || ay >= by) return;
  for (let y = ay; y < by; y++) data.fill(c.y, y * w + ax, y * w + bx);
  const cw = w >> 1;
  const uOff = w * h;
  const vOff = uOff + cw * (h >> 1);
  for (let cy = ay >> 1; cy < (by + 1) >> 1; cy++) {
    data.fill(c.u, uOff + cy * cw + (ax >> 1), uOff + cy * cw + ((bx + 1) >> 1));
    data.fill(c.v, vOff + cy * cw + (ax >> 1), vOff + cy * cw + ((bx + 1) >> 1));
  }
}

/** A rectangle's outline, `t` px thick, drawn inside [x0, x1) x [y0, y1). */
export function strokeRect(img: I420Image, x0: number, y0: number, x1: number, y1: number, t: number, c: Yuv): void {
  fillRect(img, x0, y0, x1, y0 + t, c);
  fillRect(img, x0, y1 - t, x1, y1, c);
  fillRect(img, x0, y0, x0 + t, y1, c);
  fillRect(img, x1 - t, y0, x1, y1, c);
}

/**
 * Draws `text` with its top-left corner at (x, y), each font pixel `scale` x `scale`, in
 * luma only (`y` of the colour: the chroma under it stays, so text keeps its background's hue).
 */
export function drawText(img: I420Image, text: string, x: number, y: number, scale: number, luma: number): void {
  const { width: w, height: h, data } = img;
  for (let i = 0; i < text.length; i++) {
    const rows = glyph(text[i]!);
    const gx = x + i * GLYPH_ADVANCE * scale;
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      const bits = rows[r]!;
      if (bits === 0) continue;
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (!(bits & (1 << (GLYPH_WIDTH - 1 - col)))) continue;
        for (let sy = 0; sy < scale; sy++) {
          const py = y + r * scale + sy;
          if (py < 0 || py >= h) continue;
          const px0 = gx + col * scale;
          const a = Math.max(0, px0);
          const b = Math.min(w, px0 + scale);
          if (a < b) data.fill(luma, py * w + a, py * w + b);
        }
      }
    }
  }
}

/** A binary mask over part of the source picture (MaskCrop's shape). */
export interface MaskBitmap {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Tints the display pixels whose source pixel is in `mask` towards `c` by `alpha` (0..1);
 * (sx, sy) = display px per source px. Each display pixel looks up the source pixel under its
 * centre (nearest), so the tint covers exactly the mask scaled to the display. Chroma is
 * tinted per 2x2 block by the block's top-left pixel.
 */
export function tintMask(img: I420Image, mask: MaskBitmap, sx: number, sy: number, c: Yuv, alpha: number): void {
  const { width: w, height: h, data } = img;
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 256);
  if (a === 0 || mask.width <= 0 || mask.height <= 0) return;
  const dx0 = clampInt(Math.floor(mask.x * sx), 0, w);
  const dx1 = clampInt(Math.ceil((mask.x + mask.width) * sx), 0, w);
  const dy0 = clampInt(Math.floor(mask.y * sy), 0, h);
  const dy1 = clampInt(Math.ceil((mask.y + mask.height) * sy), 0, h);
  if (dx0 >= dx1 || dy0 >= dy1) return;
  // Mask column of each display column (-1: outside the crop).
  const cols = new Int32Array(dx1 - dx0);
  for (let dx = dx0; dx < dx1; dx++) {
    const m = Math.floor((dx + 0.5) / sx) - mask.x;
    cols[dx - dx0] = m >= 0 && m < mask.width ? m : -1;
  }
  const na = 256 - a;
  const cy = c.y * a;
  const cu = c.u * a;
  const cv = c.v * a;
  const cw = w >> 1;
  const uOff = w * h;
  const vOff = uOff + cw * (h >> 1);
  for (let dy = dy0; dy < dy1; dy++) {
    const my = Math.floor((dy + 0.5) / sy) - mask.y;
    if (my < 0 || my >= mask.height) continue;
    const mrow = my * mask.width;
    const yrow = dy * w;
    const chromaRow = (dy & 1) === 0;
    const crow = (dy >> 1) * cw;
    for (let dx = dx0; dx < dx1; dx++) {
      const m = cols[dx - dx0]!;
      if (m < 0 || mask.data[mrow + m] === 0) continue;
      const i = yrow + dx;
      data[i] = (data[i]! * na + cy) >> 8;
      if (chromaRow && (dx & 1) === 0) {
        const j = crow + (dx >> 1);
        data[uOff + j] = (data[uOff + j]! * na + cu) >> 8;
        data[vOff + j] = (data[vOff + j]! * na + cv) >> 8;
      }
    }
  }
}

/**
 * Privacy: every `block` x `block` cell (even, so chroma cells align) that the mask touches,
 * scaled to the display as tintMask does, takes the cell's mean luma and chroma: no detail of
 * the object is left, only its coarse colours.
 */
export function pixelateMask(img: I420Image, mask: MaskBitmap, sx: number, sy: number, block: number): void {
  const { width: w, height: h, data } = img;
  const b = Math.max(2, block & ~1);
  if (mask.width <= 0 || mask.height <= 0) return;
  const dx0 = clampInt(Math.floor((mask.x * sx) / b) * b, 0, w);
  const dx1 = clampInt(Math.ceil((mask.x + mask.width) * sx), 0, w);
  const dy0 = clampInt(Math.floor((mask.y * sy) / b) * b, 0, h);
  const dy1 = clampInt(Math.ceil((mask.y + mask.height) * sy), 0, h);
  const cw = w >> 1;
  const uOff = w * h;
  const vOff = uOff + cw * (h >> 1);
  for (let by = dy0; by < dy1; by += b) {
    const ey = Math.min(by + b, h);
    for (let bx = dx0; bx < dx1; bx += b) {
      const ex = Math.min(bx + b, w);
      let hit = false;
      for (let y = by; y < ey && !hit; y++) {
        const my = Math.floor((y + 0.5) / sy) - mask.y;
        if (my < 0 || my >= mask.height) continue;
        for (let x = bx; x < ex; x++) {
          const mx = Math.floor((x + 0.5) / sx) - mask.x;
          if (mx >= 0 && mx < mask.width && mask.data[my * mask.width + mx] !== 0) {
            hit = true;
            break;
          }
        }
      }
      if (!hit) continue;
      let sum = 0;
      for (let y = by; y < ey; y++) for (let x = bx; x < ex; x++) sum += data[y * w + x]!;
      const mean = Math.round(sum / ((ey - by) * (ex - bx)));
      for (let y = by; y < ey; y++) data.fill(mean, y * w + bx, y * w + ex);
      let su = 0;
      let sv = 0;
      let n = 0;
      for (let cy = by >> 1; cy < ey >> 1; cy++) {
        for (let cx = bx >> 1; cx < ex >> 1; cx++) {
          su += data[uOff + cy * cw + cx]!;
          sv += data[vOff + cy * cw + cx]!;
          n++;
        }
      }
      if (n === 0) continue;
      const mu = Math.round(su / n);
      const mv = Math.round(sv / n);
      for (let cy = by >> 1; cy < ey >> 1; cy++) {
        data.fill(mu, uOff + cy * cw + (bx >> 1), uOff + cy * cw + (ex >> 1));
        data.fill(mv, vOff + cy * cw + (bx >> 1), vOff + cy * cw + (ex >> 1));
      }
    }
  }
}

/** A closed polygon's outline, `t` px thick (squares along each edge), clipped to the picture. */
export function strokePolygon(img: I420Image, pts: readonly (readonly [number, number])[], t: number, c: Yuv): void {
  for (let k = 0; k < pts.length; k++) {
    const [px, py] = pts[k]!;
    const [qx, qy] = pts[(k + 1) % pts.length]!;
    if (![px, py, qx, qy].every(Number.isFinite)) continue;
    // Walk only the part of the edge near the picture: a far-off vertex costs nothing, and the
    // steps stay one per t/2 px (a step cap alone spread them apart into gaps).
    const seg = clipSegment(px, py, qx, qy, -t, -t, img.width + t, img.height + t);
    if (!seg) continue;
    const [ax, ay, bx, by] = seg;
    const steps = Math.ceil(Math.max(Math.abs(bx - ax), Math.abs(by - ay)) / Math.max(1, t / 2));
    for (let s = 0; s <= steps; s++) {
      const f = steps === 0 ? 0 : s / steps;
      const x = ax + (bx - ax) * f;
      const y = ay + (by - ay) * f;
      fillRect(img, x - t / 2, y - t / 2, x + t / 2, y + t / 2, c);
    }
  }
}


const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * Limited-range BT.601 I420 -> packed sRGB (3 bytes a pixel, rows top to bottom): what sharp
 * takes as raw input. Each chroma sample serves its 2x2 block (nearest, no interpolation).
 * Integer arithmetic, 16-bit fixed point.
 */
export function i420ToRgb(img: I420Image, out: Uint8Array = new Uint8Array(img.width * img.height * 3)): Uint8Array {
  checkI420(img);
  const { width: w, height: h, data } = img;
  if (out.length !== w * h * 3) throw new TypeError(`RGB ${w}x${h}: expected ${w * h * 3} bytes, got ${out.length}`);
  const cw = w >> 1;
  const uOff = w * h;
  const vOff = uOff + cw * (h >> 1);
  // 65536 * (255/219, 1.596, 0.392, 0.813, 2.017) scaled for limited range.
  const KY = 76309;
  const KRV = 104597;
  const KGU = 25675;
  const KGV = 53279;
  const KBU = 132201;
  let o = 0;
  for (let y = 0; y < h; y++) {
    const crow = (y >> 1) * cw;
    const yrow = y * w;
    for (let x = 0; x < w; x++) {
      const c = crow + (x >> 1);
      const yy = (data[yrow + x]! - 16) * KY;
      const u = data[uOff + c]! - 128;
      const v = data[vOff + c]! - 128;
      out[o++] = clamp255((yy + KRV * v + 32768) >> 16);
      out[o++] = clamp255((yy - KGU * u - KGV * v + 32768) >> 16);
      out[o++] = clamp255((yy + KBU * u + 32768) >> 16);
    }
  }
  return out;
}
