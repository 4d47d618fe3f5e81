/**
 * Small grey thumbnails and the measures the health checks read from them. A cell is the mean
 * BT.601 luma of its box, rounded to a grey level 0..255, so sensor and compression noise of a
 * live camera (1 to 3 levels on box means) shows, and a bit-identical repeated frame gives an
 * identical thumbnail.
 */
export interface GreyThumbnail {
  readonly width: number;
  readonly height: number;
  /** Row-major grey levels, width * height. */
  readonly data: Uint8Array;
}

/**
 * The grey thumbnail of packed rgb24 (`width` x `height`): `cols` cells wide (the picture's width
 * when narrower), as many rows as keep the aspect ratio (at least 1); cell (c, r) the mean of
 * (77 R + 150 G + 29 B) / 256 over columns [floor(c W / cols), floor((c + 1) W / cols)) and the
 * rows likewise. One pass over the pixels in integer sums (exact in doubles).
 */
export function greyThumbnail(rgb: Uint8Array, width: number, height: number, cols = 64): GreyThumbnail {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new TypeError(`greyThumbnail: width and height must be positive integers, got ${width}x${height}`);
  }
  if (!Number.isInteger(cols) || cols <= 0) throw new TypeError(`greyThumbnail: cols must be a positive integer, got ${cols}`);
  if (!(rgb instanceof Uint8Array) || rgb.length < width * height * 3) {
    throw new TypeError(`greyThumbnail: ${width}x${height} rgb24 needs ${width * height * 3} bytes, got ${rgb?.length}`);
  }
  const tw = Math.min(cols, width);
  const th = Math.max(1, Math.min(height, Math.round((tw * height) / width)));
  const colEdge = new Int32Array(tw + 1);
  for (let c = 0; c <= tw; c++) colEdge[c] = Math.floor((c * width) / tw);
  const sums = new Float64Array(tw * th);
  for (let r = 0; r < th; r++) {
    const y0 = Math.floor((r * height) / th);
    const y1 = Math.floor(((r + 1) * height) / th);
    const base = r * tw;
    for (let y = y0; y < y1; y++) {
      const row = y * width * 3;
      for (let c = 0; c < tw; c++) {
        let acc = 0;
        for (let p = row + colEdge[c]! * 3, end = row + colEdge[c + 1]! * 3; p < end; p += 3) acc += 77 * rgb[p]! + 150 * rgb[p + 1]! + 29 * rgb[p + 2]!;
        sums[base + c]! += acc;
      }
    }
  }
  const data = new Uint8Array(tw * th);
  for (let r = 0; r < th; r++) {
    const rows = Math.floor(((r + 1) * height) / th) - Math.floor((r * height) / th);
    for (let c = 0; c < tw; c++) {
      const d = 256 * rows * (colEdge[c + 1]! - colEdge[c]!);
      data[r * tw + c] = Math.floor((sums[r * tw + c]! + d / 2) / d);
    }
  }
  return { width: tw, height: th, data };
}

/** Mean and largest absolute difference of two equally long grey pictures, grey levels. */
export function thumbDiff(a: Uint8Array, b: Uint8Array): { mean: number; max: number } {
  const n = Math.min(a.length, b.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: n === 0 ? 0 : sum / n, max };
}

/**
 * Spatial detail: the share (0..1) of horizontally and vertically neighbouring cells whose grey
 * differs by more than `level`. Noise alone (a few levels) makes no edges, a visible outline
 * (a lane marking, a lamp at night) does, whatever the picture's brightness.
 */
export function edgeShare(data: Uint8Array, width: number, height: number, level: number): number {
  let edges = 0;
  let pairs = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const v = data[row + x]!;
      if (x + 1 < width) {
        pairs++;
        if (Math.abs(v - data[row + x + 1]!) > level) edges++;
      }
      if (y + 1 < height) {
        pairs++;
        if (Math.abs(v - data[row + width + x]!) > level) edges++;
      }
    }
  }
  return pairs === 0 ? 0 : edges / pairs;
}
