import { z } from 'zod';
import { DEFAULT_MOTION_GATE } from '../pipeline/index.js';

/**
 * The configuration of `segstream run`, one zod schema per section. Every field has a
 * default, a description and bounds; unknown keys are rejected. `docs/config.md` is generated
 * from these schemas (`npm run docs:config`), so what a field says here is its documentation.
 * Rules between fields are in rules.ts, checked once before anything starts.
 */

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const unit = () => z.number().min(0).max(1);

/** Camera ids: also metric labels and file names, so a short, plain alphabet. */
export const CAMERA_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export const serverSchema = z
  .strictObject({
    host: z.string().min(1).max(255).default('0.0.0.0').describe('address the HTTP/WebSocket server listens on'),
    port: int(0, 65535).default(8080).describe('HTTP/WebSocket port (0: any free port)'),
    maxMessageBytes: int(1, 1 << 20).default(16 * 1024).describe('largest WebSocket client message accepted, bytes; larger ones get E_MSG_TOO_LARGE'),
    maxBufferedBytes: int(1, 1 << 30).default(4 * 1024 * 1024).describe('a client with more unsent than this misses messages (counted), bytes'),
    slowClientTimeoutMs: int(1, 3_600_000).default(10_000).describe('a client missing messages this long is disconnected (1008 E_CLIENT_SLOW), ms'),
    slowClientCloseGraceMs: int(1, 600_000).default(10_000).describe('a disconnected slow client may still read its queued messages and the close this long, ms'),
    maxClients: int(1, 100_000).default(256).describe('most open WebSocket connections; more get HTTP 503 E_TOO_MANY_CLIENTS'),
    whep: z
      .boolean()
      .default(true)
      .describe('WebRTC video with the overlay drawn in, per camera over WHEP (POST /whep/<camera>); every camera\'s ffmpeg then also writes a display-size I420 copy of each frame'),
    whepMaxViewersPerCamera: int(1, 1024).default(16).describe('most WHEP viewers of one camera (each peer encodes its own VP8); more get HTTP 503'),
    whepMaxViewers: int(1, 100_000).default(64).describe('most WHEP viewers of all cameras together; more get HTTP 503'),
    heartbeatIntervalMs: int(0, 600_000).default(15_000).describe('WebSocket protocol pings this often; a client that has not answered the previous one is closed (0: off), ms'),
    token: z
      .string()
      .min(1)
      .max(4096)
      .regex(/^\S+$/, 'a token has no white space')
      .optional()
      .describe('access token every endpoint but /healthz, /readyz and the dashboard files (/, /assets/) requires (Authorization: Bearer, or ?token=); also --token or SEGSTREAM_TOKEN'),
    allowOrigins: z
      .array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin is scheme://host[:port], nothing after'))
      .max(64)
      .default([])
      .describe("browser origins allowed besides the server's own (WebSocket, API, video); others get 403"),
    allowHosts: z
      .array(z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'a host name'))
      .max(64)
      .default([])
      .describe('without a token: host names the server answers to besides IP addresses and localhost (DNS rebinding); others get 403'),
    tlsCert: z.string().min(1).optional().describe('PEM certificate (chain) to serve HTTPS and WSS on the same port; with tlsKey'),
    tlsKey: z.string().min(1).optional().describe('PEM private key for tlsCert'),
  })
  .describe('HTTP and WebSocket server');

export const clipSchema = z
  .strictObject({
    image: z.string().min(1).describe('CLIP image encoder (ONNX)'),
    text: z.string().min(1).describe('CLIP text encoder (ONNX)'),
    merges: z.string().min(1).describe('CLIP BPE merges (bpe_simple_vocab_16e6.txt[.gz])'),
    vocab: z.string().min(1).optional().describe("Hugging Face vocab.json matching the merges (optional)"),
  })
  .describe('CLIP encoders for text prompts; without them text prompts match class names');

export const inferenceSchema = z
  .strictObject({
    model: z
      .string()
      .min(1)
      .optional()
      .describe('YOLOv8/YOLO11-seg or FastSAM ONNX file (default: models/yolov8n-seg-320.onnx, else ../shared/models/yolov8n-seg-320.onnx)'),
    device: z
      .string()
      .min(1)
      .max(64)
      .default('cpu')
      .describe(
        'inference devices in order of preference, comma-separated, of cpu, cuda, tensorrt, webgpu: the first that works runs (cuda,cpu: CUDA, else the CPU, the fallback logged and shown in hello and /metrics); without a fallback, a device that cannot be used stops start-up (E_DEVICE_UNAVAILABLE)',
      ),
    workers: int(0, 16)
      .default(0)
      .describe('inference worker threads, each its own onnxruntime session (0: on the CPU, one per core up to 4; on a GPU, 1)'),
    threads: int(0, 64).default(0).describe('onnxruntime intra-op threads per worker (0: the cores divided among the workers, at least 1)'),
    batch: int(1, 64).default(8).describe('largest inference batch, frames of different cameras (clipped to a static-batch model)'),
    batchWaitMs: int(0, 1000)
      .default(0)
      .describe('a free worker waits up to this long for the frames of other active cameras before it runs a smaller batch (never once the batch is full), ms'),
    confidence: unit().default(0.25).describe('least detection score published (a camera may ask for more, never less)'),
    iou: unit().default(0.7).describe('NMS IoU threshold'),
    agnosticNms: z.boolean().default(false).describe('class-agnostic NMS (FastSAM everything mode)'),
    maxDetections: int(1, 1000).default(300).describe('most objects per frame (300, as Ultralytics)'),
    clip: clipSchema.optional(),
  })
  .describe('model and inference');

export const trackingSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('follow objects across frames and give them ids (prompts need it)'),
    // Live defaults sit lower than the MOT-tuned tracker defaults: YOLOv8n scores cars ~0.5-0.9.
    highScore: unit().default(0.5).describe('detections at or above this score match first and may start tracks'),
    newScore: unit().default(0.6).describe('least score to start a new track (>= highScore)'),
    maxAge: z.number().positive().max(86_400).default(1).describe('seconds (media time) a lost track is kept for re-identification'),
    targetMemory: z.number().positive().max(86_400).default(10).describe('seconds a prompted target is kept while its object is unseen, to be re-acquired; then target.ended'),
    cameraMotion: z.boolean().default(false).describe('compensate camera shake and pans (moving cameras, dashcams)'),
  })
  .describe('tracking, one tracker per camera');

/** Motion gating's fields; a camera's own are all optional (unset: the ingest section's). */
const motionGateShape = {
  enabled: z.boolean().describe("skip inference while the camera's picture does not change: such frames are published with the last result's objects, flagged `gated`"),
  threshold: z
    .number()
    .min(0)
    .max(255)
    .describe("a cell of the 64-cell-wide grey thumbnail changed when its mean differs from the last inferred frame's by more than this, grey levels (0-255); above sensor noise and compression flicker"),
  minChangedShare: unit().describe('the picture changed when more than this share of the cells changed, 0..1'),
  maxSkipS: z.number().min(0.01).max(3600).describe('longest media time without inference while gated, s (new still objects and lighting are seen within it)'),
};

export const motionGateSchema = z
  .strictObject({
    enabled: motionGateShape.enabled.default(false),
    threshold: motionGateShape.threshold.default(DEFAULT_MOTION_GATE.threshold),
    minChangedShare: motionGateShape.minChangedShare.default(DEFAULT_MOTION_GATE.minChangedShare),
    maxSkipS: motionGateShape.maxSkipS.default(DEFAULT_MOTION_GATE.maxSkipS),
  })
  .describe('motion gating: every camera\'s default (off); a camera\'s own motionGate fields override it');

const cameraMotionGateSchema = z
  .strictObject({
    enabled: motionGateShape.enabled.optional(),
    threshold: motionGateShape.threshold.optional(),
    minChangedShare: motionGateShape.minChangedShare.optional(),
    maxSkipS: motionGateShape.maxSkipS.optional(),
  })
  .describe("this camera's motion gating; unset fields come from ingest.motionGate");

/** Zone names: in event records, URLs' queries and the dashboard. */
export const ZONE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;

const seconds = () => z.number().min(0).max(86_400);
const classList = () =>
  z
    .array(z.string().min(1).max(64))
    .max(128)
    .optional()
    .describe("model class names the rule applies to (e.g. car, truck, bus); absent or empty: every class");
const ruleCommon = {
  seconds: seconds().describe('the condition must hold this long (media time) before the event starts, s'),
  endSeconds: seconds().optional().describe('the condition must be false this long before the event ends, s (default events.endSeconds)'),
};
const moveFields = {
  maxMove: z.number().min(0).max(10).optional().describe("stopped: the object's smoothed mask centroid moved less than this share of its box diagonal over `seconds` (default 0.1)"),
  maxMovePx: z.number().min(0).max(100_000).optional().describe('instead of maxMove: less than this many source px'),
};

export const ruleSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('stopped'), classes: classList(), ...ruleCommon, ...moveFields }).describe('an object in the zone for `seconds` that moved less than maxMove: a stopped vehicle, a fallen load'),
    z.strictObject({ kind: z.literal('presence'), classes: classList(), ...ruleCommon }).describe('an object of those classes in the zone for `seconds`: a person on the carriageway, an animal'),
    z
      .strictObject({ kind: z.literal('count'), classes: classList(), above: int(0, 10_000).describe('the event holds while more than this many objects are in the zone'), ...ruleCommon })
      .describe('more than `above` objects in the zone for `seconds`: a queue'),
    z
      .strictObject({
        kind: z.literal('unknown'),
        expected: z.array(z.string().min(1).max(64)).max(128).optional().describe('classes of expected road users (default events.expectedClasses); any other class, or any object of a class-agnostic model, is unknown'),
        ...ruleCommon,
        ...moveFields,
      })
      .describe('an object of no road class, in the zone and stopped for `seconds`: debris, an obstacle'),
  ])
  .describe('one rule, by kind');

const pointSchema = z.tuple([z.number().min(-100_000).max(100_000), z.number().min(-100_000).max(100_000)]);

export const zoneSchema = z
  .strictObject({
    name: z.string().regex(ZONE_NAME_RE, 'zone names are 1-64 of A-Z a-z 0-9 space _ . -, starting with a letter or digit').describe("the zone's name, unique within its camera"),
    polygon: z
      .array(pointSchema)
      .min(3)
      .max(256)
      .refine((pts) => Math.abs(pts.reduce((a, [x, y], i) => a + x * pts[(i + 1) % pts.length]![1] - pts[(i + 1) % pts.length]![0] * y, 0)) > 0, 'the polygon has no area (its points lie on one line)')
      .describe('vertices [x, y] in source-frame px, in order (implicitly closed)'),
    minOverlap: z.number().gt(0).max(1).optional().describe("an object is in the zone when at least this share of its mask lies inside (default events.minOverlap)"),
    rules: z.array(ruleSchema).max(16).default([]).describe('rules evaluated on the tracked objects in the zone'),
  })
  .describe('a named polygon zone in source-frame px and its rules');

/** A camera's zones: names unique (the error names the duplicate's index). */
export const zonesSchema = z
  .array(zoneSchema)
  .max(32)
  .superRefine((zones, ctx) => {
    const seen = new Map<string, number>();
    zones.forEach((zone, i) => {
      const first = seen.get(zone.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `'${zone.name}' is already the name of zone ${first}` });
      seen.set(zone.name, i);
    });
  })
  .describe("the camera's zones and their rules (also PUT /api/cameras/<id>/zones)");

/** What one camera may set for itself; the `ingest` section gives every camera's default. */
const cameraOptionShape = {
  realtime: z.boolean().describe('play files at their own frame rate, as a camera would (false: as fast as possible)'),
  loop: z.boolean().describe('start files over at their end'),
  networkTimeoutS: z.number().min(1).max(300).describe('socket/read timeout for network sources, s'),
  stallTimeoutS: z.number().min(1).max(600).describe('restart a source that sends nothing for this long (connecting included), s'),
  reconnectMinMs: int(10, 600_000).describe('wait before reconnecting a failed source, ms'),
  reconnectMaxMs: int(10, 3_600_000).describe('longest wait between reconnects, ms'),
  fastRetryWindowMs: int(0, 3_600_000).describe('a source down for less than this is retried every reconnectMinMs before the wait doubles, ms'),
  tlsVerify: z.boolean().describe('verify the certificates of https:// and rtmps:// sources; false also allows rtsps://, which ffmpeg cannot verify'),
  tlsCaFile: z.string().min(1).optional().describe('PEM CA certificates to verify TLS sources against instead of the system store'),
};

export const ingestSchema = z
  .strictObject({
    realtime: cameraOptionShape.realtime.default(true),
    loop: cameraOptionShape.loop.default(false),
    networkTimeoutS: cameraOptionShape.networkTimeoutS.default(10),
    stallTimeoutS: cameraOptionShape.stallTimeoutS.default(15),
    reconnectMinMs: cameraOptionShape.reconnectMinMs.default(1000),
    reconnectMaxMs: cameraOptionShape.reconnectMaxMs.default(30_000),
    fastRetryWindowMs: cameraOptionShape.fastRetryWindowMs.default(30_000),
    tlsVerify: cameraOptionShape.tlsVerify.default(true),
    tlsCaFile: cameraOptionShape.tlsCaFile,
    mediaRoots: z
      .array(z.string().min(1))
      .max(64)
      .default([])
      .describe('directories local file sources must lie in (after resolving links); empty: any file for configured cameras, none through the HTTP API'),
    maxCameras: int(1, 1024).default(64).describe('most cameras at once (configured and added through the API)'),
    inferenceMaxWidth: int(16, 7680)
      .default(1280)
      .describe('the picture the model is letterboxed from: the source at its own size, or scaled down by ffmpeg (area, aspect kept) to at most this wide, px'),
    displayMaxWidth: int(16, 7680).default(1280).describe('WHEP video: the camera picture at its own size, scaled down to at most this wide (aspect kept), px'),
    displayRingFrames: int(1, 64)
      .default(8)
      .describe('WHEP video: display frames held per camera until their segmentation result comes (frames whose result never comes are dropped and counted)'),
    motionGate: motionGateSchema.prefault({}),
  })
  .describe('sources: defaults for every camera, and the rules for what may be opened');

/**
 * COCO's road users and fixed road furniture (a zone over a traffic light would report it for
 * ever): a class outside them in a zone is an `unknown` object (animals, bags, everything else).
 */
export const ROAD_CLASSES = ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'train', 'truck', 'traffic light', 'stop sign', 'fire hydrant', 'parking meter'] as const;

export const eventsSchema = z
  .strictObject({
    db: z
      .string()
      .min(1)
      .optional()
      .describe("the event history, SQLite (also --events-db); unset: `segstream run` keeps it in $XDG_DATA_HOME/segstream/events.db (else ~/.local/share/segstream/), an app started from code in memory"),
    maxAgeDays: z.number().min(0.0001).max(36_500).default(30).describe('events that ended longer ago than this are deleted, days'),
    maxBytes: int(1 << 20, 2 ** 48).default(1 << 30).describe('the history is kept under this size: the oldest ended events (snapshots first) go, bytes'),
    endSeconds: seconds().default(2).describe("an event ends once its condition has been false this long (a rule's endSeconds overrides), s: a detection missed for a frame or two does not end it"),
    minOverlap: z.number().gt(0).max(1).default(0.25).describe("an object is in a zone when at least this share of its mask lies inside (a zone's minOverlap overrides): a long truck partly on the shoulder counts"),
    expectedClasses: z.array(z.string().min(1).max(64)).max(256).default([...ROAD_CLASSES]).describe('`unknown` rules: the classes of expected road users and road furniture; any other class is unknown'),
    snapshotQuality: int(1, 100).default(80).describe('JPEG quality of event snapshots'),
    webhook: z
      .strictObject({
        url: z.string().min(1).max(4096).describe('http(s) URL each event message is POSTed to, as JSON (also --webhook)'),
        secret: z.string().min(1).max(4096).optional().describe('HMAC-SHA256 key: requests carry x-segstream-signature (also --webhook-secret, SEGSTREAM_WEBHOOK_SECRET)'),
        maxQueue: int(1, 100_000).default(1000).describe('messages waiting for the webhook; beyond this the oldest are dropped (counted, logged)'),
        timeoutMs: int(100, 600_000).default(5000).describe('a request unanswered this long fails (and is retried), ms'),
      })
      .optional()
      .describe('the webhook; never blocks the pipeline'),
    health: z
      .strictObject({
        enabled: z.boolean().default(true).describe('camera health events: frozen picture, video lost, view obstructed, camera moved'),
        frozenS: seconds().default(10).describe('frozen: the picture did not change beyond sensor noise this long, s'),
        videoLostS: seconds().default(5).describe('video_lost: no frame this long, s'),
        obstructedS: seconds().default(10).describe('obstructed: the view showed almost no detail this long, s'),
        movedS: seconds().default(5).describe('moved: the view stayed shifted against its reference this long, s'),
      })
      .prefault({})
      .describe('camera health checks'),
    privacy: z
      .strictObject({
        enabled: z.boolean().default(false).describe("pixelate the masks of these classes in snapshots and in the WHEP overlay video"),
        classes: z.array(z.string().min(1).max(64)).max(128).default(['person']).describe('classes whose masks are pixelated'),
      })
      .prefault({})
      .describe('privacy masking'),
  })
  .describe('road events: rules, history, webhook, camera health');

/** Node names: subject tokens, KV keys and metric labels, so the camera ids' alphabet without dots. */
export const NODE_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Subject prefixes and bucket names: what NATS allows in both. */
export const BROKER_PREFIX_RE = /^[A-Za-z0-9_-]{1,32}$/;

export const brokerSchema = z
  .strictObject({
    url: z.string().min(1).max(4096).optional().describe('the broker, nats://host:4222 (comma-separated for a NATS cluster); also --broker. Unset: `segstream run` works alone'),
    name: z.string().regex(NODE_NAME_RE, 'node names are 1-64 of A-Z a-z 0-9 _ -').optional().describe('this node\'s name, unique in the cluster (also --name; default: the host name)'),
    capacity: int(1, 1024).optional().describe('most cameras this node runs (also --capacity; default ingest.maxCameras)'),
    leaseTtlS: z.number().min(1).max(300).default(6).describe("a camera's lease lapses this long after its node's last renewal, s: how soon a dead node's cameras move; the first node or gateway to create the lease bucket sets it for the cluster"),
    requestTimeoutMs: int(100, 120_000).default(5000).describe('the gateway waits this long for the node that owns a camera to answer a prompt, a camera change or a WHEP offer, ms'),
    prefix: z.string().regex(BROKER_PREFIX_RE, 'a prefix is 1-32 of A-Z a-z 0-9 _ -').default('segstream').describe('subjects (<prefix>.frames.<camera>, ...), KV buckets and the event stream are named from it: one broker can carry several clusters'),
    user: z.string().min(1).max(1024).optional().describe('broker user (with password; also --broker-user, SEGSTREAM_BROKER_USER)'),
    password: z.string().min(1).max(4096).optional().describe('broker password (also --broker-password, SEGSTREAM_BROKER_PASSWORD); never logged'),
    token: z.string().min(1).max(4096).optional().describe('broker token (also --broker-token, SEGSTREAM_BROKER_TOKEN); never logged'),
    nkeySeedFile: z.string().min(1).max(4096).optional().describe('file holding an NKey seed (SU...) to authenticate with (also --broker-nkey, SEGSTREAM_BROKER_NKEY)'),
  })
  .describe('the broker of a cluster (`segstream node`, `segstream gateway`)');

/** One camera: its id, URL and its own overrides of the `ingest` defaults. */
export const cameraSchema = z
  .strictObject({
    id: z.string().regex(CAMERA_ID_RE, 'camera ids are 1-64 of A-Z a-z 0-9 _ . -').describe('camera id: on the wire, in metrics and in the API'),
    url: z.string().min(1).max(4096).describe('rtsp(s)://, rtmp(s)://, http(s):// (HLS, MJPEG, files), a local video file or /dev/videoN'),
    enabled: z.boolean().default(true).describe('false: configured but not opened'),
    confidence: unit().optional().describe("this camera's least detection score (>= inference.confidence)"),
    realtime: cameraOptionShape.realtime.optional(),
    loop: cameraOptionShape.loop.optional(),
    networkTimeoutS: cameraOptionShape.networkTimeoutS.optional(),
    stallTimeoutS: cameraOptionShape.stallTimeoutS.optional(),
    reconnectMinMs: cameraOptionShape.reconnectMinMs.optional(),
    reconnectMaxMs: cameraOptionShape.reconnectMaxMs.optional(),
    fastRetryWindowMs: cameraOptionShape.fastRetryWindowMs.optional(),
    tlsVerify: cameraOptionShape.tlsVerify.optional(),
    tlsCaFile: cameraOptionShape.tlsCaFile,
    motionGate: cameraMotionGateSchema.optional(),
    zones: zonesSchema.optional(),
  })
  .describe('one camera; unset options come from the ingest section');

/**
 * A PATCH through the API: any camera field but its id, none defaulted (a field left out keeps
 * its value: `enabled` is not reset to true).
 */
export const cameraPatchSchema = cameraSchema
  .omit({ id: true, enabled: true })
  .partial()
  .extend({ enabled: z.boolean().optional().describe('false: configured but not opened') })
  .strict();

export const configSchema = z.strictObject({
  server: serverSchema.prefault({}),
  inference: inferenceSchema.prefault({}),
  tracking: trackingSchema.prefault({}),
  ingest: ingestSchema.prefault({}),
  events: eventsSchema.prefault({}),
  broker: brokerSchema.prefault({}),
  cameras: z.array(cameraSchema).max(1024).default([]).describe('the cameras, in order'),
});

export type ServerConfig = z.output<typeof serverSchema>;
export type InferenceConfig = z.output<typeof inferenceSchema>;
export type TrackingConfig = z.output<typeof trackingSchema>;
export type IngestConfig = z.output<typeof ingestSchema>;
export type MotionGateConfig = z.output<typeof motionGateSchema>;
export type EventsConfig = z.output<typeof eventsSchema>;
export type BrokerConfig = z.output<typeof brokerSchema>;
export type ZoneEntry = z.output<typeof zoneSchema>;
export type CameraEntry = z.output<typeof cameraSchema>;
export type CameraEntryInput = z.input<typeof cameraSchema>;
export type CameraPatch = z.output<typeof cameraPatchSchema>;
export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** The sections and their schemas, in the order docs/config.md shows them. */
export const SECTIONS = { server: serverSchema, inference: inferenceSchema, tracking: trackingSchema, ingest: ingestSchema, events: eventsSchema, broker: brokerSchema } as const;
