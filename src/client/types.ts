// The wire types come from the protocol's schemas (src/protocol): one source of truth for the
// server, this client and the dashboard. Type-only: nothing of zod reaches the browser.
export type {
  CameraState,
  ClientMessage,
  CocoRle,
  ErrorMessage,
  EventMessage,
  FrameMessage,
  HelloMessage,
  InferenceView,
  JpegHeader,
  JpegOptions,
  PongMessage,
  PromptClearedMessage,
  PromptOkMessage,
  RequestId,
  ServerMessage,
  ServerMessageType,
  StatusMessage,
  SubscribedMessage,
  TargetEndedMessage,
  TargetReattachedMessage,
  WireObject,
} from '../protocol/index.js';
import type { CameraView as WireCameraView, JpegHeader, ServerMessageType } from '../protocol/index.js';

/**
 * A camera as the client knows it: all that `hello` says of it, or at least its id and state
 * when a `status` announced it first.
 */
export type CameraView = Pick<WireCameraView, 'id' | 'state'> & Partial<Omit<WireCameraView, 'id' | 'state'>>;
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


/** A `{code, message, expected?, actual?}` error as the server sends it. */
export interface WireError {
  code: string;
  message: string;
  expected?: unknown;
  actual?: unknown;
}
















/** One JPEG frame: its header and the JPEG file's bytes. */
export interface JpegFrame {
  header: JpegHeader;
  jpeg: Uint8Array;
}




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
  'event',
] as const satisfies readonly ServerMessageType[];

/** A point: x, y (source px) and 1 = foreground, 0 = background. */
export type PromptPoint = [number, number, 0 | 1];

/** What a prompt asks for: exactly one of points, box, text. */
export type PromptRequest =
  | { camera: string; points: PromptPoint[]; box?: never; text?: never }
  | { camera: string; box: [number, number, number, number]; points?: never; text?: never }
  | { camera: string; text: string; points?: never; box?: never };

