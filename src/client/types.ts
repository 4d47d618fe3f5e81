/**
 * The wire protocol (version 1) as the client sees it: docs/protocol.md, written against
 * src/publish/messages.ts, src/app.ts and src/cameraTargets.ts as they are today. This is the
 * client's only copy of the wire types, kept in one file so that it can become a re-export of
 * `src/protocol` (issue 9, part 1) without touching the rest of the client.
 *
 * No imports: this file compiles for Node and for the browser.
 */

/** Protocol version the client was written for (`hello.protocol`). */
export const PROTOCOL_VERSION = 1;

/** COCO compressed RLE over the whole source frame, column-major: `size` is [height, width]. */
export interface CocoRle {
  size: [number, number];
  counts: string;
}

/** A `{code, message, expected?, actual?}` error as the server sends it. */
export interface WireError {
  code: string;
  message: string;
  expected?: unknown;
  actual?: unknown;
}

export type CameraState = 'connecting' | 'streaming' | 'reconnecting' | 'ended' | 'failed' | 'disabled' | 'removed' | 'stopped';

/** A camera as `hello` and `GET /api/cameras` show it. */
export interface CameraView {
  id: string;
  kind?: string;
  /** The source, credentials shown as `***`. */
  url?: string;
  enabled?: boolean;
  state: CameraState;
  width?: number;
  height?: number;
  fps?: number;
  error?: WireError;
  restarts?: number;
  framesRead?: number;
  framesProcessed?: number;
  framesDropped?: number;
  frameAgeS?: number | null;
  origin?: string;
}

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  model: { file: string; classes: string[]; input: [number, number] };
  cameras: CameraView[];
  /**
   * What the server offers beyond the WebSocket (issue 9, part 1: WHEP, JPEG, polygons).
   * Not sent by today's server; its final name comes with `src/protocol`.
   */
  offers?: { whep?: boolean; jpeg?: boolean; polygons?: boolean };
}

export interface WireObject {
  label: string;
  classId: number;
  score: number;
  /** x1, y1, x2, y2 in source-frame px. */
  box: [number, number, number, number];
  mask: CocoRle | null;
  /** Mask pixels. */
  area: number;
  /** Mask quality 0..1. */
  maskScore?: number;
  /** Track id (per camera); absent while the tracker has not confirmed the object. */
  id?: number;
  /** Target id when the object belongs to a prompted target. */
  target?: number;
  /** The detector missed it this frame: box and mask are the tracker's prediction. */
  predicted?: true;
}

export interface FrameMessage {
  type: 'frame';
  camera: string;
  seq: number;
  /** Media time, ms. */
  pts: number;
  /** Capture time, ms since the epoch. */
  timestamp: number;
  width: number;
  height: number;
  /** Frames of this camera dropped so far because the pipeline was behind. */
  dropped: number;
  /** Capture -> message built, ms. */
  latencyMs: number;
  objects: WireObject[];
}

export interface StatusMessage {
  type: 'status';
  camera: string;
  state: CameraState;
  restarts: number;
  width?: number;
  height?: number;
  fps?: number;
  error?: WireError;
}

export type RequestId = string | number;

export interface PromptOkMessage {
  type: 'prompt.ok';
  camera: string;
  target: number;
  tracks: number[];
  method: string;
  seq: number;
  id?: RequestId;
}

export interface PromptClearedMessage {
  type: 'prompt.cleared';
  camera: string;
  targets: number[];
  id?: RequestId;
}

export interface TargetReattachedMessage {
  type: 'target.reattached';
  camera: string;
  target: number;
  from: number;
  to: number;
}

export interface TargetEndedMessage {
  type: 'target.ended';
  camera: string;
  target: number;
  /** lost, removed, restarted, resolution, ... */
  reason: string;
}

export interface PongMessage {
  type: 'pong';
  id?: RequestId;
  time: number;
}

export interface SubscribedMessage {
  type: 'subscribed';
  cameras: string[] | '*';
  /** The mask format of this client's frames (`rle`, `polygons`, `none`). */
  masks?: 'rle' | 'polygons' | 'none';
  /** The JPEG frames asked for; absent: none. */
  jpeg?: JpegOptions;
}

/** JPEG frames of the subscribed cameras: at most `fps` (0.2..30) a second each, overlay drawn in or clean. */
export interface JpegOptions {
  fps: number;
  overlay: boolean;
}

/** The header of a binary JPEG message (docs/protocol.md, "JPEG frames"). */
export interface JpegHeader {
  type: 'jpeg';
  camera: string;
  /** The frame message of the same seq carries this picture's objects. */
  seq: number;
  pts: number;
  timestamp: number;
  /** The JPEG's size, px (display size; source px scale by width / frame.width). */
  width: number;
  height: number;
  overlay: boolean;
}

/** One JPEG frame: its header and the JPEG file's bytes. */
export interface JpegFrame {
  header: JpegHeader;
  jpeg: Uint8Array;
}

/** An error reply; `id` echoes the request's id where the server knows it (prompt, prompt.clear). */
export interface ErrorMessage extends WireError {
  type: 'error';
  id?: RequestId;
}

export type ServerMessage =
  | HelloMessage
  | FrameMessage
  | StatusMessage
  | PromptOkMessage
  | PromptClearedMessage
  | TargetReattachedMessage
  | TargetEndedMessage
  | PongMessage
  | SubscribedMessage
  | ErrorMessage;

export type ServerMessageType = ServerMessage['type'];

export const SERVER_MESSAGE_TYPES = [
  'hello',
  'frame',
  'status',
  'prompt.ok',
  'prompt.cleared',
  'target.reattached',
  'target.ended',
  'pong',
  'subscribed',
  'error',
] as const satisfies readonly ServerMessageType[];

/** A point: x, y (source px) and 1 = foreground, 0 = background. */
export type PromptPoint = [number, number, 0 | 1];

/** What a prompt asks for: exactly one of points, box, text. */
export type PromptRequest =
  | { camera: string; points: PromptPoint[]; box?: never; text?: never }
  | { camera: string; box: [number, number, number, number]; points?: never; text?: never }
  | { camera: string; text: string; points?: never; box?: never };

export type ClientMessage =
  | { type: 'ping'; id?: RequestId }
  | { type: 'subscribe'; cameras?: string[] | '*'; jpeg?: JpegOptions }
  | ({ type: 'prompt'; id?: RequestId } & PromptRequest)
  | { type: 'prompt.clear'; camera: string; target?: number; id?: RequestId };
