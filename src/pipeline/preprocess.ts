/**
 * Packed RGB bytes (HWC) -> planar float32 (CHW) in 0..1, written into `out` at `offset`.
 * ffmpeg already letterboxed the picture; this is the only per-pixel pass in JavaScript.
 */
export function rgbToChwFloat(rgb: Uint8Array, width: number, height: number, out: Float32Array, offset = 0): void {
  const plane = width * height;
  if (rgb.length !== plane * 3) {
    throw new TypeError(`rgbToChwFloat: expected ${plane * 3} bytes for ${width}x${height}, got ${rgb.length}`);
  }
  if (out.length < offset + plane * 3) {
    throw new TypeError(`rgbToChwFloat: output holds ${out.length} floats, needs ${offset + plane * 3}`);
  }
  const r = offset;
  const g = offset + plane;
  const b = offset + 2 * plane;
  const k = 1 / 255;
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    out[r + i] = rgb[j]! * k;
    out[g + i] = rgb[j + 1]! * k;
    out[b + i] = rgb[j + 2]! * k;
  }
}
