import type { CocoRle } from './types.js';

/** A mask the server sent that cannot be decoded (broken string, runs that do not fill the frame). */
export class RleError extends Error {
  override readonly name = 'RleError';
}

/**
 * pycocotools' rleFrString: the run lengths of a compressed COCO RLE string (6 bits a
 * character offset by 48, each count after the second a delta against the one two before).
 */
export function rleCounts(counts: string): number[] {
  const out: number[] = [];
  let p = 0;
  while (p < counts.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= counts.length) throw new RleError('truncated COCO RLE string');
      const c = counts.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new RleError(`invalid COCO RLE character at ${p}`);
      x += (c & 0x1f) * 32 ** k;
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 32 ** k;
    }
    if (out.length > 2) x += out[out.length - 2]!;
    if (x < 0) throw new RleError(`negative COCO RLE run at ${out.length}`);
    out.push(x);
  }
  return out;
}

/**
 * Calls `fill(start, length)` for each run of mask pixels, in column-major pixel indices
 * (index = x * height + y). Checks that the runs cover the frame exactly.
 */
export function forEachRleRun(rle: CocoRle, fill: (start: number, length: number) => void): void {
  const [h, w] = rle.size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) throw new RleError(`invalid RLE size ${String(rle.size)}`);
  const total = h * w;
  let pos = 0;
  let value = 0;
  for (const n of rleCounts(rle.counts)) {
    if (pos + n > total) throw new RleError(`RLE runs exceed ${h}x${w}`);
    if (value === 1 && n > 0) fill(pos, n);
    pos += n;
    value ^= 1;
  }
  if (pos !== total) throw new RleError(`RLE covers ${pos} pixels, the frame has ${total}`);
}

/**
 * Decodes a COCO compressed RLE (column-major, as the server and pycocotools encode it) to a
 * row-major bitmap of height * width bytes, 1 inside the mask: pixel (x, y) is `bits[y * width + x]`.
 * Throws RleError on a broken mask.
 */
export function decodeRle(rle: CocoRle): Uint8Array {
  const [h, w] = rle.size;
  const out = new Uint8Array(Math.max(0, h * w));
  forEachRleRun(rle, (start, length) => {
    for (let k = start; k < start + length; k++) {
      const x = Math.floor(k / h);
      out[(k - x * h) * w + x] = 1;
    }
  });
  return out;
}
