import type { MaskCrop } from '../core/index.js';
import type { CocoRle } from '../protocol/index.js';

/**
 * COCO run-length encoding. Runs are counted over the frame in column-major order
 * (x outer, y inner), starting with a run of zeros, exactly as pycocotools' `encode`.
 */
export function maskCropToCounts(mask: MaskCrop, frameWidth: number, frameHeight: number): number[] {
  const { x: cx, y: cy, width: w, height: h, data } = mask;
  if (cx < 0 || cy < 0 || cx + w > frameWidth || cy + h > frameHeight) {
    throw new RangeError(`mask crop ${w}x${h}@${cx},${cy} exceeds frame ${frameWidth}x${frameHeight}`);
  }
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  /** Appends `n` pixels of `bit` to the runs. */
  const add = (bit: number, n: number): void => {
    if (n === 0) return;
    if (bit === value) run += n;
    else {
      counts.push(run);
      value = bit;
      run = n;
    }
  };
  if (w === 0 || h === 0) {
    add(0, frameWidth * frameHeight);
  } else {
    // Background before the crop's first pixel in column-major order.
    add(0, cx * frameHeight + cy);
    for (let i = 0; i < w; i++) {
      if (i > 0) add(0, frameHeight - h); // bottom of the previous column + top of this one
      for (let j = 0; j < h; j++) add(data[j * w + i]! ? 1 : 0, 1);
    }
    add(0, frameWidth * frameHeight - ((cx + w - 1) * frameHeight + cy + h));
  }
  counts.push(run);
  return counts;
}

/** pycocotools' rleToString: delta against counts[i-2], 5 bits a char, offset 48. */
export function countsToString(counts: readonly number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** pycocotools' rleFrString. */
export function stringToCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new SyntaxError('truncated COCO RLE string');
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new SyntaxError(`invalid COCO RLE character at ${p}`);
      x += (c & 0x1f) * 32 ** k;
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 32 ** k;
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    counts.push(x);
  }
  return counts;
}

export type { CocoRle };

/** Encodes a crop, first cutting away any part outside the frame (a predicted mask may stick out). */
export function encodeMask(mask: MaskCrop, frameWidth: number, frameHeight: number): CocoRle {
  return encodeMaskWithArea(mask, frameWidth, frameHeight).rle;
}

/** encodeMask, plus the mask's pixel count inside the frame (read off the runs, no extra pass). */
export function encodeMaskWithArea(mask: MaskCrop, frameWidth: number, frameHeight: number): { rle: CocoRle; area: number } {
  const counts = maskCropToCounts(clipMask(mask, frameWidth, frameHeight), frameWidth, frameHeight);
  // Runs alternate 0s and 1s starting with 0s: the odd runs are the mask's pixels.
  let area = 0;
  for (let k = 1; k < counts.length; k += 2) area += counts[k]!;
  return { rle: { size: [frameHeight, frameWidth], counts: countsToString(counts) }, area };
}

/** The part of a crop inside a frame (the crop itself when it already fits). */
export function clipMask(mask: MaskCrop, frameWidth: number, frameHeight: number): MaskCrop {
  const x0 = Math.max(0, mask.x);
  const y0 = Math.max(0, mask.y);
  const x1 = Math.min(frameWidth, mask.x + mask.width);
  const y1 = Math.min(frameHeight, mask.y + mask.height);
  if (x0 === mask.x && y0 === mask.y && x1 === mask.x + mask.width && y1 === mask.y + mask.height) return mask;
  const width = Math.max(0, x1 - x0);
  const height = Math.max(0, y1 - y0);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const src = (y + y0 - mask.y) * mask.width + (x0 - mask.x);
    data.set(mask.data.subarray(src, src + width), y * width);
  }
  return { ...mask, x: width > 0 && height > 0 ? x0 : 0, y: width > 0 && height > 0 ? y0 : 0, width, height, data };
}

/** Decodes a COCO RLE to a full-frame row-major bitmap (height * width bytes). */
export function decodeRle(rle: CocoRle): Uint8Array {
  const [h, w] = rle.size;
  const counts = stringToCounts(rle.counts);
  const out = new Uint8Array(h * w);
  let pos = 0;
  let value = 0;
  for (const n of counts) {
    if (pos + n > h * w) throw new RangeError(`RLE runs exceed ${h}x${w}`);
    if (value === 1) {
      for (let k = pos; k < pos + n; k++) {
        const x = Math.floor(k / h);
        const y = k - x * h;
        out[y * w + x] = 1;
      }
    }
    pos += n;
    value ^= 1;
  }
  if (pos !== h * w) throw new RangeError(`RLE covers ${pos} pixels, frame has ${h * w}`);
  return out;
}
