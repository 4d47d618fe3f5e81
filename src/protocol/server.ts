import { z } from 'zod';
import { INFERENCE_DEVICES } from '../core/devices.js';
import { EVENT_KINDS, EVENT_STATES } from '../core/eventKinds.js';
import { boxSchema, countSchema, errorBodySchema, intSchema, MASK_FORMATS, maskFormatSchema, requestIdSchema } from './common.js';
import { jpegOptionsSchema } from './jpeg.js';
import { PROTOCOL_VERSION } from './limits.js';

/**
 * Server -> client messages, exactly as sent: every object is strict, so a field the server
 * sends and this file does not describe fails the round-trip tests (test/integration/protocol.test.ts).
 */

/** A camera's state: its source's, or `disabled` (configured, not opened), or `removed`. */
export const CAMERA_STATES = ['connecting', 'streaming', 'reconnecting', 'ended', 'failed', 'disabled', 'removed', 'unclaimed'] as const;
export type CameraState = (typeof CAMERA_STATES)[number];

export const SOURCE_KINDS = ['file', 'rtsp', 'rtmp', 'http', 'webcam'] as const;
export const SELECTION_METHODS = ['points', 'box', 'class', 'clip'] as const;
export const TARGET_END_REASONS = ['lost', 'replaced', 'resolution', 'removed', 'restarted', 'failover'] as const;
export type TargetEndReason = (typeof TARGET_END_REASONS)[number];

const camera = z.string().min(1);
const nodeName = z.string().min(1).max(64);
const trackId = countSchema;
const targetId = z.number().int().min(1);

/** COCO compressed RLE over the whole source frame, column-major (pycocotools' `mask.decode`). */
export const cocoRleSchema = z.strictObject({
  size: z.tuple([countSchema, countSchema]).describe('[height, width], as COCO writes it.'),
  counts: z.string(),
}).describe('COCO compressed RLE over the whole source frame, column-major.');
export type CocoRle = z.infer<typeof cocoRleSchema>;

/** One outer contour, flat `[x0, y0, x1, y1, ...]` in source px, implicitly closed (last point joins the first). */
export const polygonSchema = z.array(z.number()).min(6);

export const wireObjectSchema = z.strictObject({
  id: trackId.describe('Track id, stable while the tracker follows the object; absent while untracked.').optional(),
  target: targetId.describe('Target id when the object belongs to a prompted target.').optional(),
  predicted: z.literal(true).describe('Present (true) when the object was not detected in this frame: box and mask are the tracker\'s prediction.').optional(),
  label: z.string(),
  classId: countSchema,
  score: z.number().min(0).max(1).describe('Box score, 0..1, rounded to 4 decimals.'),
  box: boxSchema,
  mask: cocoRleSchema.nullable().describe('Subscriptions with masks `rle` (default): the mask, or null where none was decoded.').optional(),
  polygons: z.array(polygonSchema).describe('Subscriptions with masks `polygons`: the mask\'s outer contours, simplified (empty where there is no mask).').optional(),
  area: countSchema.describe('Mask pixels (0 without a mask), whatever the mask format.'),
  maskScore: z.number().min(0).max(1).describe('Mask quality 0..1 (stability of the mask under a +-1 logit shift), unlike `score`, which rates the box.').optional(),
}).describe('One object of a frame.');
export type WireObject = z.infer<typeof wireObjectSchema>;

export const frameMessageSchema = z.strictObject({
  type: z.literal('frame'),
  camera,
  seq: countSchema.describe('Counts every frame the camera delivered; gaps are frames dropped.'),
  pts: countSchema.describe('Media time, ms from stream start, never going back.'),
  timestamp: z.number().describe('Wall-clock capture time, ms since the epoch.'),
  width: countSchema.describe('Source frame size, px.'),
  height: countSchema,
  objects: z.array(wireObjectSchema),
  dropped: countSchema.describe('Frames of this camera dropped so far because the pipeline was behind (the camera\'s, the same for every client).'),
  latencyMs: intSchema.describe('Capture -> message built, ms.'),
  gated: z
    .literal(true)
    .describe("Present (true) when motion gating kept this frame from inference (the camera's picture had not changed): its objects are the last inferred frame's, carried forward unchanged (boxes, masks, ids, labels; targets as they are now).")
    .optional(),
  node: nodeName.describe('At a gateway: the node that produced it (segstream node --name).').optional(),
  clientDropped: countSchema.describe('Messages (frames, events, replies) this client missed so far because its send buffer was full.'),
}).describe('One per processed frame and camera the client subscribes to.');
export type FrameMessage = z.infer<typeof frameMessageSchema>;

/** A camera as `hello`, `GET /api/cameras` and `/healthz` show it (credentials in `url` as `***`). */
export const cameraViewSchema = z.strictObject({
  id: camera,
  kind: z.enum(SOURCE_KINDS),
  url: z.string(),
  enabled: z.boolean(),
  state: z.enum(CAMERA_STATES),
  width: countSchema.optional(),
  height: countSchema.optional(),
  fps: z.number().min(0).optional(),
  error: errorBodySchema.optional(),
  restarts: countSchema,
  framesRead: countSchema,
  framesProcessed: countSchema,
  framesDropped: countSchema,
  framesGated: countSchema.describe('Of framesProcessed, those motion gating published without inference (objects carried forward).'),
  frameAgeS: z.number().min(0).nullable().describe('Age of the newest published frame, s; null before the first.'),
  origin: z.enum(['config', 'api']),
  node: nodeName.describe('At a gateway: the node running the camera; absent while no node has claimed it (state unclaimed).').optional(),
}).describe('A camera as hello, GET /api/cameras and /healthz show it (credentials in url as ***).');
export type CameraView = z.infer<typeof cameraViewSchema>;

export const offersSchema = z.strictObject({
  masks: z.array(maskFormatSchema).describe('Mask formats a subscription may ask for.'),
  jpeg: z.boolean().describe('JPEG frames over the WebSocket (binary messages; subscribe with `jpeg`).'),
  whep: z.boolean().describe('WebRTC overlay video, signalled by WHEP (`POST /whep/<camera>`).'),
}).describe('What the server offers a client.');
export type Offers = z.infer<typeof offersSchema>;
export const DEFAULT_OFFERS: Offers = { masks: [...MASK_FORMATS], jpeg: false, whep: false };

const deviceSchema = z.enum(INFERENCE_DEVICES);

export const inferenceViewSchema = z.strictObject({
  device: deviceSchema.describe('The device inference runs on (every worker).'),
  requested: z.array(deviceSchema).min(1).describe('The devices asked for (`--device`, `inference.device`), in order of preference.'),
  unavailable: z
    .array(z.strictObject({ device: deviceSchema, reason: z.string().describe("onnxruntime's reason, one line.") }))
    .describe('The requested devices tried before `device` that could not be used; empty when the first one runs (no fallback).'),
}).describe('Where inference runs, and the fallback if one happened.');
export type InferenceView = z.infer<typeof inferenceViewSchema>;

export const helloMessageSchema = z.strictObject({
  type: z.literal('hello'),
  protocol: z.literal(PROTOCOL_VERSION),
  model: z.strictObject({
    file: z.string().describe('The model file\'s name (no directory).'),
    classes: z.array(z.string()).describe('Class names by class id.'),
    input: z.tuple([countSchema, countSchema]).describe('Model input size [width, height], px.'),
  }),
  inference: inferenceViewSchema,
  cameras: z.array(cameraViewSchema).describe('The cameras running now.'),
  offers: offersSchema,
}).describe('Sent once on connect.');
export type HelloMessage = z.infer<typeof helloMessageSchema>;

export const statusMessageSchema = z.strictObject({
  type: z.literal('status'),
  camera,
  state: z.enum(CAMERA_STATES),
  restarts: countSchema,
  width: countSchema.optional(),
  height: countSchema.optional(),
  fps: z.number().min(0).optional(),
  error: errorBodySchema.optional(),
  node: nodeName.describe('At a gateway: the node that produced it (segstream node --name).').optional(),
}).describe('A camera state change.');
export type StatusMessage = z.infer<typeof statusMessageSchema>;

export const promptOkMessageSchema = z.strictObject({
  type: z.literal('prompt.ok'),
  camera,
  target: targetId,
  tracks: z.array(trackId),
  method: z.enum(SELECTION_METHODS),
  seq: countSchema.describe('The frame the prompt was evaluated on.'),
  id: requestIdSchema.optional(),
}).describe('The answer to a prompt: the target it made and the tracks it follows.');
export type PromptOkMessage = z.infer<typeof promptOkMessageSchema>;

export const promptClearedMessageSchema = z.strictObject({
  type: z.literal('prompt.cleared'),
  camera,
  targets: z.array(targetId),
  id: requestIdSchema.optional(),
}).describe('The answer to prompt.clear: the targets it ended.');
export type PromptClearedMessage = z.infer<typeof promptClearedMessageSchema>;

export const targetReattachedMessageSchema = z.strictObject({
  type: z.literal('target.reattached'),
  camera,
  target: targetId,
  from: trackId,
  to: trackId,
}).describe('A target\'s track was lost and a new track appeared where the prediction said it would be.');
export type TargetReattachedMessage = z.infer<typeof targetReattachedMessageSchema>;

export const targetEndedMessageSchema = z.strictObject({
  type: z.literal('target.ended'),
  camera,
  target: targetId,
  reason: z.enum(TARGET_END_REASONS),
}).describe('A target ended.');
export type TargetEndedMessage = z.infer<typeof targetEndedMessageSchema>;

export const errorMessageSchema = z
  .strictObject({
    type: z.literal('error'),
    ...errorBodySchema.shape,
    id: requestIdSchema.optional().describe("The refused message's id, when it had one (so errors pair with requests)."),
  })
  .describe('A refused client message or request (codes: docs/errors.md).');
export type ErrorMessage = z.infer<typeof errorMessageSchema>;

export const pongMessageSchema = z.strictObject({
  type: z.literal('pong'),
  id: requestIdSchema.optional(),
  time: z.number().describe('Server time, ms since the epoch.'),
}).describe('The answer to a JSON ping.');
export type PongMessage = z.infer<typeof pongMessageSchema>;

export const subscribedMessageSchema = z.strictObject({
  type: z.literal('subscribed'),
  cameras: z.union([z.literal('*'), z.array(camera)]),
  masks: maskFormatSchema,
  jpeg: jpegOptionsSchema.optional().describe('The JPEG frames asked for; absent: none.'),
}).describe('The answer to subscribe: the subscription now in force.');
export type SubscribedMessage = z.infer<typeof subscribedMessageSchema>;

export const eventMessageSchema = z.strictObject({
  type: z.literal('event'),
  state: z.enum(EVENT_STATES).describe('`start` once the condition held for its rule\'s seconds, `update` when its objects change, `end` once it has been false for the end time (or the camera, its zones or the service stopped).'),
  id: z.string().min(1).describe('The event\'s id: the same in every message of it, in GET /events/<id> and in the webhook\'s body.'),
  camera,
  zone: z.string().nullable().describe('The zone\'s name; null for camera health events (frozen, video_lost, obstructed, moved).'),
  rule: countSchema.nullable().describe('The rule\'s index in its zone\'s `rules`; null for camera health events.'),
  kind: z.enum(EVENT_KINDS),
  tracks: z.array(trackId).describe('The track ids the event is about (one for stopped, presence and unknown; those counted for count; none for health).'),
  labels: z.array(z.string()).describe('Their labels, in the order of `tracks`.'),
  startedAt: z.number().describe('When the condition began to hold, wall clock, ms since the epoch (the event fired its rule\'s seconds later).'),
  updatedAt: z.number().describe('The last time the condition held, wall clock, ms since the epoch.'),
  endedAt: z.number().nullable().describe('`end` only: the end (the last time it held), ms since the epoch; null while open.'),
  mediaStartS: z.number().describe('startedAt on the camera\'s media clock (the frames\' pts), s.'),
  mediaUpdatedS: z.number().describe('updatedAt on the media clock, s.'),
  mediaEndS: z.number().nullable().describe('endedAt on the media clock, s; null while open.'),
  snapshot: z.string().nullable().describe('Path of the JPEG taken when it started (GET, with the access token), or null when none was stored.'),
  detail: z.record(z.string(), z.number()).optional().describe('What a health check measured (moved: dx, dy, the shift as shares of the picture\'s width and height; frozen: meanDiff; obstructed: edges).'),
}).describe('A road event: a rule of a zone, or a camera health check, starting, changing or ending.');
export type EventMessage = z.infer<typeof eventMessageSchema>;

/** Every server -> client message. */
export const serverMessageSchema = z.discriminatedUnion('type', [
  helloMessageSchema,
  frameMessageSchema,
  statusMessageSchema,
  promptOkMessageSchema,
  promptClearedMessageSchema,
  targetReattachedMessageSchema,
  targetEndedMessageSchema,
  errorMessageSchema,
  pongMessageSchema,
  subscribedMessageSchema,
  eventMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ServerMessageType = ServerMessage['type'];
