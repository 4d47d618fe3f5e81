import sharp from 'sharp';
import { clipSegment, type Frame, type MaskCrop } from '../core/index.js';

/** What a snapshot shows besides the picture: the zone, the event's objects, what privacy hides. */
export interface SnapshotScene {
  /** The zone's polygon in source px (none for a camera health event). */
  readonly polygon: readonly (readonly [number, number])[] | null;
  /** The event's objects: mask tinted, box outlined (source px). */
  readonly objects: readonly { readonly box: readonly [number, number, number, number]; readonly mask: MaskCrop | null }[];
  /** Masks pixelated first (privacy: persons), source px. */
  readonly hidden: readonly MaskCrop[];
}

const ZONE_RGB = [255, 214, 0] as const;
const OBJECT_RGB = [255, 48, 48] as const;
/** Side of a privacy block, frame px: large enough that a face is unrecognisable at 720p. */
const PIXEL_BLOCK = 12;

/**
 * The frame with the scene drawn, as packed RGB of the frame's own size (a copy: the frame is
 * not touched). Source px are mapped to the frame's px (a source wider than the inference cap
 * arrives scaled down). Main thread, a few ms at 1280x720: it runs once per event start.
 */
export function drawSnapshot(frame: Frame, scene: SnapshotScene): Uint8Array {
  const { width, height } = frame;
  const rgb = new Uint8Array(frame.data.subarray(0, width * height * 3));
  const sx = width / frame.letterbox.srcWidth;
  const sy = height / frame.letterbox.srcHeight;
  for (const m of scene.hidden) pixelateMask(rgb, width, height, m, sx, sy);
  for (const o of scene.objects) {
    if (o.mask) tintMask(rgb, width, height, o.mask, sx, sy, OBJECT_RGB);
    const [x1, y1, x2, y2] = o.box;
    const box: [number, number][] = [
      [x1 * sx, y1 * sy],
      [x2 * sx, y1 * sy],
      [x2 * sx, y2 * sy],
      [x1 * sx, y2 * sy],
    ];
    drawPolyline(rgb, width, height, box, OBJECT_RGB, 2);
  }
  if (scene.polygon && scene.polygon.length >= 2) {
    drawPolyline(rgb, width, height, scene.polygon.map(([x, y]) => [x * sx, y * sy]), ZONE_RGB, Math.max(2, Math.round(width / 480)));
  }
  return rgb;
}

/**
 * JPEG of a drawn snapshot at the source's own size (scaled up by sharp when the frame was
 * capped), encoded by sharp on libuv's thread pool, off the main thread.
 */
export async function encodeSnapshot(rgb: Uint8Array, width: number, height: number, srcWidth: number, srcHeight: number, quality: number): Promise<Buffer> {
  let img = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (srcWidth !== width || srcHeight !== height) img = img.resize(srcWidth, srcHeight, { fit: 'fill' });
  return img.jpeg({ quality }).toBuffer();
}

/** Each frame pixel whose centre falls on a set mask pixel, blended half way to `color`. */
function tintMask(rgb: Uint8Array, width: number, height: number, m: MaskCrop, sx: number, sy: number, color: readonly [number, number, number]): void {
  forMaskPixels(width, height, m, sx, sy, (i) => {
    rgb[i] = (rgb[i]! + color[0]) >> 1;
    rgb[i + 1] = (rgb[i + 1]! + color[1]) >> 1;
    rgb[i + 2] = (rgb[i + 2]! + color[2]) >> 1;
  });
}

/** The mask's pixels set to the mean of their PIXEL_BLOCK x PIXEL_BLOCK block (over the whole block, so the outline shows no detail). */
function pixelateMask(rgb: Uint8Array, width: number, height: number, m: MaskCrop, sx: number, sy: number): void {
  const fx0 = Math.max(0, Math.floor(m.x * sx));
  const fy0 = Math.max(0, Math.floor(m.y * sy));
  const fx1 = Math.min(width, Math.ceil((m.x + m.width) * sx));
  const fy1 = Math.min(height, Math.ceil((m.y + m.height) * sy));
  for (let by = fy0; by < fy1; by += PIXEL_BLOCK) {
    for (let bx = fx0; bx < fx1; bx += PIXEL_BLOCK) {
      const ex = Math.min(bx + PIXEL_BLOCK, fx1);
      const ey = Math.min(by + PIXEL_BLOCK, fy1);
      let any = false;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = by; y < ey; y++) {
        const my = Math.floor((y + 0.5) / sy) - m.y;
        for (let x = bx; x < ex; x++) {
          const i = (y * width + x) * 3;
          r += rgb[i]!;
          g += rgb[i + 1]!;
          b += rgb[i + 2]!;
          const mx = Math.floor((x + 0.5) / sx) - m.x;
          if (!any && mx >= 0 && my >= 0 && mx < m.width && my < m.height && m.data[my * m.width + mx]) any = true;
        }
      }
      if (!any) continue;
      const n = (ex - bx) * (ey - by);
      for (let y = by; y < ey; y++) {
        for (let x = bx; x < ex; x++) {
          const i = (y * width + x) * 3;
          rgb[i] = r / n;
          rgb[i + 1] = g / n;
          rgb[i + 2] = b / n;
        }
      }
    }
  }
}

function forMaskPixels(width: number, height: number, m: MaskCrop, sx: number, sy: number, fn: (i: number) => void): void {
  const fx0 = Math.max(0, Math.floor(m.x * sx));
  const fy0 = Math.max(0, Math.floor(m.y * sy));
  const fx1 = Math.min(width, Math.ceil((m.x + m.width) * sx));
  const fy1 = Math.min(height, Math.ceil((m.y + m.height) * sy));
  for (let y = fy0; y < fy1; y++) {
    const my = Math.floor((y + 0.5) / sy) - m.y;
    if (my < 0 || my >= m.height) continue;
    for (let x = fx0; x < fx1; x++) {
      const mx = Math.floor((x + 0.5) / sx) - m.x;
      if (mx >= 0 && mx < m.width && m.data[my * m.width + mx]) fn((y * width + x) * 3);
    }
  }
}

/** A closed polyline `thickness` px wide (square brush along each segment), clipped to the picture. */
function drawPolyline(rgb: Uint8Array, width: number, height: number, pts: readonly (readonly [number, number])[], color: readonly [number, number, number], thickness: number): void {
  const half = Math.floor(thickness / 2);
  const plot = (x: number, y: number): void => {
    for (let dy = -half; dy < thickness - half; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= height) continue;
      for (let dx = -half; dx < thickness - half; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= width) continue;
        const i = (yy * width + xx) * 3;
        rgb[i] = color[0];
        rgb[i + 1] = color[1];
        rgb[i + 2] = color[2];
      }
    }
  };
  for (let k = 0; k < pts.length; k++) {
    const [px, py] = pts[k]!;
    const [qx, qy] = pts[(k + 1) % pts.length]!;
    if (![px, py, qx, qy].every(Number.isFinite)) continue;
    // Walk only the part of the edge near the picture, one step a px: a far-off vertex costs
    // nothing (a step cap alone spread the steps apart into gaps).
    const seg = clipSegment(px, py, qx, qy, -thickness, -thickness, width + thickness, height + thickness);
    if (!seg) continue;
    const [ax, ay, bx, by] = seg;
    const steps = Math.ceil(Math.max(Math.abs(bx - ax), Math.abs(by - ay)));
    for (let s = 0; s <= steps; s++) {
      const f = steps === 0 ? 0 : s / steps;
      plot(Math.round(ax + (bx - ax) * f), Math.round(ay + (by - ay) * f));
    }
  }
}

