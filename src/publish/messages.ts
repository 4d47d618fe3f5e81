import { z } from 'zod';
import { clamp } from '../core/index.js';
import type { SegmentedFrame } from '../pipeline/index.js';
import { encodeMaskWithArea, type CocoRle } from './rle.js';

/** Wire protocol version, sent in `hello`. Bump on breaking changes (docs/protocol.md). */
export const PROTOCOL_VERSION = 1;

export interface WireObject {
  label: string;
  classId: number;
  score: number;
  /** x1, y1, x2, y2 in source-frame px. */
  box: [number, number, number, number];
  mask: CocoRle | null;
  /** Mask pixels. */
  area: number;
  /** Mask quality 0..1 (stability of the mask under a +-1 logit shift), unlike `score`, which rates the box. */
  maskScore?: number;
  /** Track id, stable while the tracker follows the object; absent while untracked. */
  id?: number;
  /** Target id when the object belongs to a prompted target. */
  target?: number;
  /** Present (true) when the object was not detected in this frame: box and mask are the tracker's prediction. */
  predicted?: true;
}

export interface FrameMessage {
  type: 'frame';
  camera: string;
  seq: number;
  /** Media time, ms from stream start. */
  pts: number;
  /** Wall-clock capture time, ms since the epoch. */
  timestamp: number;
  width: number;
  height: number;
  objects: WireObject[];
  /** Frames of this camera dropped so far because the pipeline was behind. */
  dropped: number;
  /** Capture -> message built, ms. */
  latencyMs: number;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** `targets`: track id -> target id for this frame (from the prompt layer). */
export function frameMessage(
  seg: SegmentedFrame,
  dropped: number,
  now: number,
  targets: ReadonlyMap<number, number> = new Map(),
): FrameMessage {
  const { frame, detections: d } = seg;
  const W = frame.letterbox.srcWidth;
  const H = frame.letterbox.srcHeight;
  const objects: WireObject[] = [];
  for (let i = 0; i < d.length; i++) {
    const cls = d.classIds[i]!;
    const mask = d.masks[i] ?? null;
    const encoded = mask ? encodeMaskWithArea(mask, W, H) : null;
    const [x1, y1, x2, y2] = d.box(i);
    const obj: WireObject = {
      label: seg.classNames[cls] ?? `class${cls}`,
      classId: cls,
      score: Math.round(d.scores[i]! * 1000) / 1000,
      box: [round1(clamp(x1, 0, W)), round1(clamp(y1, 0, H)), round1(clamp(x2, 0, W)), round1(clamp(y2, 0, H))],
      mask: encoded?.rle ?? null,
      area: encoded?.area ?? 0,
    };
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
    dropped,
    latencyMs: Math.round(now - frame.timestamp),
  };
}

/** Client -> server messages. Unknown keys are rejected so typos surface as errors. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ping'), id: z.union([z.string().max(64), z.number()]).optional() }),
  z.strictObject({
    type: z.literal('subscribe'),
    /** Camera ids to receive frames of; omitted or "*" = all. */
    cameras: z.union([z.literal('*'), z.array(z.string().min(1).max(64)).max(256)]).optional(),
  }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export const CLIENT_MESSAGE_TYPES = ['ping', 'subscribe'] as const;
