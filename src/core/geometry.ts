/**
 * Letterbox geometry, as Ultralytics' LetterBox(auto=False, center=True) computes it:
 * scale to fit, keep the aspect ratio, pad both sides equally with grey (114).
 */
export interface Letterbox {
  /** Source frame size, px. */
  readonly srcWidth: number;
  readonly srcHeight: number;
  /** Model input size, px. */
  readonly dstWidth: number;
  readonly dstHeight: number;
  /** Source px -> input px. */
  readonly scale: number;
  /** Size of the scaled picture inside the input, px. */
  readonly innerWidth: number;
  readonly innerHeight: number;
  /** Left and top padding, px. */
  readonly padX: number;
  readonly padY: number;
}

export function computeLetterbox(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
): Letterbox {
  for (const [name, v] of [
    ['srcWidth', srcWidth],
    ['srcHeight', srcHeight],
    ['dstWidth', dstWidth],
    ['dstHeight', dstHeight],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new TypeError(`letterbox ${name} must be a positive integer, got ${v}`);
    }
  }
  const scale = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
  const innerWidth = Math.min(dstWidth, Math.max(1, Math.round(srcWidth * scale)));
  const innerHeight = Math.min(dstHeight, Math.max(1, Math.round(srcHeight * scale)));
  // Ultralytics rounds (d - 0.1) so an odd total puts the extra pixel right/bottom.
  // `+ 0` turns Math.round(-0.1) === -0 into 0.
  const padX = Math.round((dstWidth - innerWidth) / 2 - 0.1) + 0;
  const padY = Math.round((dstHeight - innerHeight) / 2 - 0.1) + 0;
  return { srcWidth, srcHeight, dstWidth, dstHeight, scale, innerWidth, innerHeight, padX, padY };
}

/** Input-pixel x -> source-pixel x (not clamped). */
export function toSourceX(lb: Letterbox, x: number): number {
  return (x - lb.padX) * (lb.srcWidth / lb.innerWidth);
}

/** Input-pixel y -> source-pixel y (not clamped). */
export function toSourceY(lb: Letterbox, y: number): number {
  return (y - lb.padY) * (lb.srcHeight / lb.innerHeight);
}

/** Source-pixel x -> input-pixel x. */
export function toInputX(lb: Letterbox, x: number): number {
  return x * (lb.innerWidth / lb.srcWidth) + lb.padX;
}

/** Source-pixel y -> input-pixel y. */
export function toInputY(lb: Letterbox, y: number): number {
  return y * (lb.innerHeight / lb.srcHeight) + lb.padY;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * IoU of the x1,y1,x2,y2 boxes at offsets `ai` of `a` and `bi` of `b` (px). Degenerate boxes
 * (zero or negative area) give 0. The one box IoU of NMS, tracking and prompts.
 */
export function boxIou(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  const ax1 = a[ai]!, ay1 = a[ai + 1]!, ax2 = a[ai + 2]!, ay2 = a[ai + 3]!;
  const bx1 = b[bi]!, by1 = b[bi + 1]!, bx2 = b[bi + 2]!, by2 = b[bi + 3]!;
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = Math.max(0, ax2 - ax1) * Math.max(0, ay2 - ay1) + Math.max(0, bx2 - bx1) * Math.max(0, by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}
