import type { Detections } from '../core/index.js';
import { textWidth, GLYPH_HEIGHT } from './font.js';
import { drawText, fillRect, pixelateMask, rgbToYuv, strokePolygon, strokeRect, tintMask, type I420Image, type MaskBitmap, type Yuv } from './i420.js';

/** One object to draw, in source pixels. Plain data: it crosses to the overlay worker. */
export interface OverlayObject {
  /** x1, y1, x2, y2, source px. */
  readonly box: readonly [number, number, number, number];
  readonly mask: MaskBitmap | null;
  readonly label: string;
  readonly classId: number;
  readonly trackId: number;
  /** The prompted target this object is, or -1. */
  readonly targetId: number;
  /** A tracker prediction (not detected in this frame). */
  readonly predicted: boolean;
  /** Privacy: its mask is pixelated, not tinted. */
  readonly hidden?: boolean;
}

/** A camera zone to outline, source px; `active` while one of its events is open. */
export interface OverlayZone {
  readonly name: string;
  readonly polygon: readonly (readonly [number, number])[];
  readonly active: boolean;
}

/** What sceneOf adds besides the objects: zones, and the classes privacy hides. */
export interface SceneExtras {
  readonly zones?: readonly OverlayZone[];
  readonly hidden?: ReadonlySet<string> | null;
}

/** What is drawn on one frame: its objects and the source size their pixels are in. */
export interface OverlayScene {
  readonly srcWidth: number;
  readonly srcHeight: number;
  readonly objects: readonly OverlayObject[];
  readonly zones?: readonly OverlayZone[];
  /** Only pixelate the hidden objects (privacy on a clean picture): no boxes, labels or zones. */
  readonly privacyOnly?: boolean;
}

/** Class colours (objects that are not targets): muted, so targets stand out. */
const CLASS_RGB: readonly (readonly [number, number, number])[] = [
  [86, 180, 233], [0, 158, 115], [240, 228, 66], [0, 114, 178], [213, 94, 0], [204, 121, 167], [120, 200, 80], [180, 180, 180],
];
/** Target colours, by target id: saturated and distinct from each other. */
const TARGET_RGB: readonly (readonly [number, number, number])[] = [
  [255, 0, 64], [255, 140, 0], [0, 255, 128], [255, 0, 255], [0, 200, 255], [255, 255, 0], [140, 80, 255], [255, 255, 255],
];
const CLASS_YUV = CLASS_RGB.map(([r, g, b]) => rgbToYuv(r, g, b));
const TARGET_YUV = TARGET_RGB.map(([r, g, b]) => rgbToYuv(r, g, b));

/** The colour a target keeps for its whole life (by its id, so every viewer sees the same). */
export function targetColour(targetId: number): Yuv {
  return TARGET_YUV[((targetId % TARGET_YUV.length) + TARGET_YUV.length) % TARGET_YUV.length]!;
}

export function classColour(classId: number): Yuv {
  return CLASS_YUV[((classId % CLASS_YUV.length) + CLASS_YUV.length) % CLASS_YUV.length]!;
}

/**
 * A frame's published objects as a scene: label `<class> <track id>` (`*T<target> ...` for
 * targets), masks as they are (MaskCrop, source px). `targets`: track id -> target id.
 */
export function sceneOf(detections: Detections, classNames: readonly string[], targets: ReadonlyMap<number, number>, srcWidth: number, srcHeight: number, extras: SceneExtras = {}): OverlayScene {
  const objects: OverlayObject[] = [];
  for (let i = 0; i < detections.length; i++) {
    const classId = detections.classIds[i]!;
    const trackId = detections.trackIds[i]!;
    const targetId = trackId >= 0 ? (targets.get(trackId) ?? -1) : -1;
    const name = classNames[classId] ?? `class ${classId}`;
    const label = `${targetId >= 0 ? `*T${targetId} ` : ''}${name}${trackId >= 0 ? ` ${trackId}` : ''}`;
    const m = detections.masks[i] ?? null;
    objects.push({
      box: detections.box(i),
      mask: m === null ? null : { x: m.x, y: m.y, width: m.width, height: m.height, data: m.data },
      label,
      classId,
      trackId,
      targetId,
      predicted: detections.predicted[i] === 1,
      ...(extras.hidden?.has(name) ? { hidden: true } : {}),
    });
  }
  return { srcWidth, srcHeight, objects, ...(extras.zones && extras.zones.length > 0 ? { zones: extras.zones } : {}) };
}

/** Zones: amber while nothing happens in them, red while one of their events is open. */
const ZONE_IDLE = rgbToYuv(255, 200, 0);
const ZONE_ACTIVE = rgbToYuv(255, 32, 32);
/** Privacy cell side at 1x, display px (even). */
const PRIVACY_BLOCK = 8;

/** Luma of white and black text, limited range. */
const WHITE = 235;
const BLACK = 16;

/**
 * Burns `scene` into `img` (the display picture of the same frame): masks tinted, boxes,
 * labels with track ids; targets in their own colour, thicker and more strongly tinted.
 * Ordinary objects first, so targets are drawn on top.
 */
export function drawScene(img: I420Image, scene: OverlayScene): void {
  const sx = img.width / scene.srcWidth;
  const sy = img.height / scene.srcHeight;
  // Font and lines grow with the picture: 1x up to 480 px high, 2x from 720.
  const scale = img.height >= 600 ? 2 : 1;
  for (const o of scene.objects) if (o.hidden && o.mask) pixelateMask(img, o.mask, sx, sy, PRIVACY_BLOCK * scale);
  if (scene.privacyOnly) return;
  for (const z of scene.zones ?? []) {
    const pts = z.polygon.map(([x, y]) => [x * sx, y * sy] as const);
    strokePolygon(img, pts, 2 * scale, z.active ? ZONE_ACTIVE : ZONE_IDLE);
    const [lx, ly] = pts[0] ?? [0, 0];
    const tw = textWidth(z.name, scale) + 4 * scale;
    const th = (GLYPH_HEIGHT + 4) * scale;
    const x = Math.max(0, Math.min(Math.round(lx), img.width - tw));
    const y = Math.max(0, Math.min(Math.round(ly), img.height - th));
    fillRect(img, x, y, x + tw, y + th, z.active ? ZONE_ACTIVE : ZONE_IDLE);
    drawText(img, z.name, x + 2 * scale, y + 2 * scale, scale, BLACK);
  }
  const ordered = [...scene.objects].sort((a, b) => Number(a.targetId >= 0) - Number(b.targetId >= 0));
  for (const o of ordered) {
    const target = o.targetId >= 0;
    const c = target ? targetColour(o.targetId) : classColour(o.classId);
    if (o.mask && !o.hidden) tintMask(img, o.mask, sx, sy, c, target ? 0.55 : o.predicted ? 0.2 : 0.35);
    const x0 = Math.round(o.box[0] * sx);
    const y0 = Math.round(o.box[1] * sy);
    const x1 = Math.round(o.box[2] * sx);
    const y1 = Math.round(o.box[3] * sy);
    const t = (target ? 3 : o.predicted ? 1 : 2) * scale;
    strokeRect(img, x0, y0, x1, y1, t, c);
    const tw = textWidth(o.label, scale) + 4 * scale;
    const th = (GLYPH_HEIGHT + 4) * scale;
    // The label sits on the box's top edge, inside the picture.
    const lx = Math.max(0, Math.min(x0, img.width - tw));
    const ly = y0 - th >= 0 ? y0 - th : Math.min(img.height - th, y0);
    fillRect(img, lx, ly, lx + tw, ly + th, c);
    drawText(img, o.label, lx + 2 * scale, ly + 2 * scale, scale, c.y > 128 ? BLACK : WHITE);
  }
}
