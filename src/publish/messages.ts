import { clamp, type Detections, type Frame, type MaskCrop } from '../core/index.js';
import type { FrameMessage, MaskFormat, WireObject } from '../protocol/index.js';
import { maskPolygons } from './polygons.js';
import { encodeMaskWithArea } from './rle.js';

/** A frame message as built once per frame and format: everything but the per-client `clientDropped`. */
export type FrameBody = Omit<FrameMessage, 'clientDropped'>;

/** What a frame message is built from (core types only). */
export interface FrameInput {
  readonly frame: Frame;
  /** In source-frame px, with track ids (-1: untracked) and predicted flags. */
  readonly detections: Detections;
  /** Class names by class id (the model's). */
  readonly classNames: readonly string[];
  /** The frame skipped inference (motion gating): its objects are the last inferred frame's. */
  readonly gated?: boolean;
}

export interface FrameMessageOptions {
  /** The camera's pipeline drops so far (frames replaced in its slot by a newer one). */
  readonly dropped: number;
  /** When the message is built, ms epoch (latencyMs = now - capture time). */
  readonly now: number;
  /** Track id -> target id for this frame (from the prompt layer). */
  readonly targets?: ReadonlyMap<number, number>;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;
/** Scores to 4 decimals (a model score of 0.2504 is not published as 0.25). */
const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** Set pixels of a mask inside the frame (what RLE's `area` counts). */
function maskArea(mask: MaskCrop, W: number, H: number): number {
  let n = 0;
  const x0 = Math.max(0, mask.x);
  const y0 = Math.max(0, mask.y);
  const x1 = Math.min(W, mask.x + mask.width);
  const y1 = Math.min(H, mask.y + mask.height);
  for (let y = y0; y < y1; y++) {
    const row = (y - mask.y) * mask.width - mask.x;
    for (let x = x0; x < x1; x++) if (mask.data[row + x]) n++;
  }
  return n;
}

/**
 * A mask's pixels are in its box by their centres, so its contour, on the pixel edges, may
 * stand up to 1 px out of the (0.1 px rounded) box: clamped to it, so clients can rely on
 * polygons inside boxes.
 */
export function clampToBox(polygons: number[][], [x1, y1, x2, y2]: readonly [number, number, number, number]): number[][] {
  for (const p of polygons) {
    for (let i = 0; i < p.length; i += 2) {
      p[i] = clamp(p[i]!, x1, x2);
      p[i + 1] = clamp(p[i + 1]!, y1, y2);
    }
  }
  return polygons;
}

/** One frame message with masks in `format` (rle: COCO RLE, polygons: outer contours, none). */
export function frameMessage(input: FrameInput, options: FrameMessageOptions, format: MaskFormat = 'rle'): FrameBody {
  const { frame, detections: d, classNames } = input;
  const targets = options.targets ?? new Map<number, number>();
  const W = frame.letterbox.srcWidth;
  const H = frame.letterbox.srcHeight;
  const objects: WireObject[] = [];
  for (let i = 0; i < d.length; i++) {
    const cls = d.classIds[i]!;
    const mask = d.masks[i] ?? null;
    const [x1, y1, x2, y2] = d.box(i);
    const obj: WireObject = {
      label: classNames[cls] ?? `class${cls}`,
      classId: cls,
      score: round4(d.scores[i]!),
      box: [round1(clamp(x1, 0, W)), round1(clamp(y1, 0, H)), round1(clamp(x2, 0, W)), round1(clamp(y2, 0, H))],
      area: 0,
    };
    if (format === 'rle') {
      const encoded = mask ? encodeMaskWithArea(mask, W, H) : null;
      obj.mask = encoded?.rle ?? null;
      obj.area = encoded?.area ?? 0;
    } else {
      if (format === 'polygons') obj.polygons = mask ? clampToBox(maskPolygons(mask, W, H), obj.box) : [];
      obj.area = mask ? maskArea(mask, W, H) : 0;
    }
    if (mask?.stability !== undefined) obj.maskScore = Math.round(mask.stability * 1000) / 1000;
    const id = d.trackIds[i]!;
    if (id >= 0) obj.id = id;
    const target = id >= 0 ? targets.get(id) : undefined;
    if (target !== undefined) obj.target = target;
    if (d.predicted[i]) obj.predicted = true;
    objects.push(obj);
  }
  return {
    type: 'frame',
    camera: frame.camera,
    seq: frame.seq,
    pts: Math.round(frame.pts),
    timestamp: frame.timestamp,
    width: W,
    height: H,
    objects,
    dropped: options.dropped,
    latencyMs: Math.round(options.now - frame.timestamp),
    ...(input.gated ? { gated: true as const } : {}),
  };
}

/** A frame as the server sends it: its JSON for each mask format, serialised at most once each. */
export interface FramePayload {
  json(format: MaskFormat): string;
}

/**
 * One frame's messages, built lazily: each mask format is computed and serialised the first
 * time some client asks for it, then shared by every client that wants it.
 */
export class FrameMessages implements FramePayload {
  private readonly bodies = new Map<MaskFormat, FrameBody>();
  private readonly texts = new Map<MaskFormat, string>();

  constructor(
    private readonly input: FrameInput,
    private readonly options: FrameMessageOptions,
  ) {}

  message(format: MaskFormat): FrameBody {
    let body = this.bodies.get(format);
    if (!body) this.bodies.set(format, (body = frameMessage(this.input, this.options, format)));
    return body;
  }

  json(format: MaskFormat): string {
    let text = this.texts.get(format);
    if (text === undefined) this.texts.set(format, (text = JSON.stringify(this.message(format))));
    return text;
  }

  /** Formats built so far (for tests and benchmarks). */
  get built(): MaskFormat[] {
    return [...this.texts.keys()];
  }
}
