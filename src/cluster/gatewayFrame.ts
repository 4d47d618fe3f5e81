import type { MaskCrop } from '../core/index.js';
import { clampToBox, maskPolygons, stringToCounts, type FramePayload } from '../publish/index.js';
import type { CocoRle, MaskFormat } from '../protocol/index.js';

/**
 * A frame message as a node published it (masks as COCO RLE, `node` set), served to the
 * gateway's clients in the format each asked for: `rle` is the node's text as it came; `none`
 * and `polygons` are made from it the first time a client asks (polygons traced from the
 * decoded mask exactly as a node would), then shared.
 */
export class GatewayFrame implements FramePayload {
  private parsed: Record<string, unknown> | undefined;
  private readonly texts = new Map<MaskFormat, string>();

  constructor(private readonly rle: string) {}

  json(format: MaskFormat): string {
    if (format === 'rle') return this.rle;
    let text = this.texts.get(format);
    if (text === undefined) this.texts.set(format, (text = JSON.stringify(this.convert(format))));
    return text;
  }

  private convert(format: 'none' | 'polygons'): Record<string, unknown> {
    const msg = (this.parsed ??= JSON.parse(this.rle) as Record<string, unknown>);
    const W = msg['width'] as number;
    const H = msg['height'] as number;
    const objects = (msg['objects'] as Record<string, unknown>[]).map((o) => {
      const { mask, ...rest } = o;
      if (format === 'none') return rest;
      const box = rest['box'] as [number, number, number, number];
      // The box came rounded to 0.1 px; a node's crop (floor/ceil of the unrounded box: a mask
      // warped onto a predicted box) may hold set pixels up to 0.05 px beyond it: cut with that
      // to spare, or a pixel column of the mask is lost (clampToBox keeps polygons in the box).
      const crop = mask ? rleCrop(mask as CocoRle, [box[0] - 0.05, box[1] - 0.05, box[2] + 0.05, box[3] + 0.05]) : null;
      return { ...rest, polygons: crop ? clampToBox(maskPolygons(crop, W, H), box) : [] };
    });
    return { ...msg, objects };
  }
}

/**
 * The part of a COCO RLE mask (column-major runs over the frame) inside a box, as a row-major
 * crop: only the set runs are walked, so a small object in a large frame costs little.
 */
export function rleCrop(rle: CocoRle, box: readonly [number, number, number, number]): MaskCrop {
  const [h, w] = rle.size;
  const x0 = Math.max(0, Math.floor(box[0]));
  const y0 = Math.max(0, Math.floor(box[1]));
  const x1 = Math.min(w, Math.ceil(box[2]));
  const y1 = Math.min(h, Math.ceil(box[3]));
  const width = Math.max(0, x1 - x0);
  const height = Math.max(0, y1 - y0);
  const data = new Uint8Array(width * height);
  const counts = stringToCounts(rle.counts);
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (i % 2 === 1) {
      for (let k = pos; k < pos + n; k++) {
        const x = Math.floor(k / h);
        if (x >= x1) break;
        if (x < x0) {
          k = x0 * h - 1;
          continue;
        }
        const y = k - x * h;
        if (y >= y0 && y < y1) data[(y - y0) * width + (x - x0)] = 1;
      }
    }
    pos += n;
  }
  return { x: x0, y: y0, width, height, data };
}
