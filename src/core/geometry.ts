/**
 * Letterbox geometry, as Ultralytics' LetterBox(auto=False, center=True) computes it for
 * prediction: scale to fit (sizes rounded half to even, as Python's round), keep the aspect
 * ratio, pad both sides with grey (114), the odd pixel right/bottom.
 *
 * The picture that is letterboxed (the "frame") is the source picture itself, or, for a
 * source wider than ingest's cap, that picture scaled down by ffmpeg first; either way
 * boxes and masks are reported in source pixels.
 */
export interface Letterbox {
  /** Source frame size, px: what detections are reported in. */
  readonly srcWidth: number;
  readonly srcHeight: number;
  /** Size of the picture that was letterboxed, px (the source size unless ingest capped it). */
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** Model input size, px. */
  readonly dstWidth: number;
  readonly dstHeight: number;
  /** Frame px -> input px: Ultralytics' gain, min(dst / frame) over both axes. */
  readonly scale: number;
  /** Size of the scaled picture inside the input, px. */
  readonly innerWidth: number;
  readonly innerHeight: number;
  /** Left and top padding, px. */
  readonly padX: number;
  readonly padY: number;
}

/** Python's round(): to the nearest integer, halves to the even one. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function computeLetterbox(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  frameWidth = srcWidth,
  frameHeight = srcHeight,
): Letterbox {
  for (const [name, v] of [
    ['srcWidth', srcWidth],
    ['srcHeight', srcHeight],
    ['dstWidth', dstWidth],
    ['dstHeight', dstHeight],
    ['frameWidth', frameWidth],
    ['frameHeight', frameHeight],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new TypeError(`letterbox ${name} must be a positive integer, got ${v}`);
    }
  }
  const scale = Math.min(dstWidth / frameWidth, dstHeight / frameHeight);
  const innerWidth = Math.min(dstWidth, Math.max(1, roundHalfEven(frameWidth * scale)));
  const innerHeight = Math.min(dstHeight, Math.max(1, roundHalfEven(frameHeight * scale)));
  // Ultralytics rounds (d - 0.1) so an odd total puts the extra pixel right/bottom (d is a
  // multiple of 0.5, so d - 0.1 is never a half). `+ 0` turns Math.round(-0.1) === -0 into 0.
  const padX = Math.round((dstWidth - innerWidth) / 2 - 0.1) + 0;
  const padY = Math.round((dstHeight - innerHeight) / 2 - 0.1) + 0;
  return { srcWidth, srcHeight, frameWidth, frameHeight, dstWidth, dstHeight, scale, innerWidth, innerHeight, padX, padY };
}

/**
 * Input-pixel x -> source-pixel x (not clamped), as Ultralytics' scale_boxes: the padding
 * taken off, divided by the gain (then frame px -> source px when ingest capped the frame).
 */
export function toSourceX(lb: Letterbox, x: number): number {
  return ((x - lb.padX) / lb.scale) * (lb.srcWidth / lb.frameWidth);
}

/** Input-pixel y -> source-pixel y (not clamped). */
export function toSourceY(lb: Letterbox, y: number): number {
  return ((y - lb.padY) / lb.scale) * (lb.srcHeight / lb.frameHeight);
}

/**
 * Source-pixel x -> input-pixel x: the exact inverse of the resize itself (source width onto
 * innerWidth pixels), which is what mask assembly samples the prototypes with.
 */
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

/** The part of segment (ax, ay)-(bx, by) inside [x0, x1] x [y0, y1] (Liang-Barsky), or null. */
export function clipSegment(ax: number, ay: number, bx: number, by: number, x0: number, y0: number, x1: number, y1: number): [number, number, number, number] | null {
  const dx = bx - ax;
  const dy = by - ay;
  let lo = 0;
  let hi = 1;
  for (const [p, q] of [
    [-dx, ax - x0],
    [dx, x1 - ax],
    [-dy, ay - y0],
    [dy, y1 - ay],
  ] as const) {
    if (p === 0) {
      if (q < 0) return null;
      continue;
    }
    const r = q / p;
    if (p < 0) lo = Math.max(lo, r);
    else hi = Math.min(hi, r);
    if (lo > hi) return null;
  }
  return [ax + lo * dx, ay + lo * dy, ax + hi * dx, ay + hi * dy];
}
