import { z } from 'zod';
import { cameraSchema, type CameraEntry } from '../config/index.js';
import { cameraViewSchema, helloMessageSchema, type CameraView } from '../protocol/index.js';
import { parseJsonBytes } from './kvMirror.js';

/** A lease (`<p>-leases`, key: the camera): the node holding it, which process of it, since when (ms epoch). */
export const leaseSchema = z.object({ node: z.string().min(1).max(64), instance: z.string().max(64).optional(), since: z.number() });
export type Lease = z.infer<typeof leaseSchema>;

/** What a node says about itself on each heartbeat (`<p>-nodes`, key: its name). */
export const nodeRecordSchema = z.object({
  name: z.string().min(1).max(64),
  capacity: z.number().int().min(1),
  /** The cameras it runs, as GET /api/cameras shows them (node included). */
  cameras: z.array(cameraViewSchema),
  load: z.object({
    /** Frames published a second, all its cameras, over the last heartbeat interval. */
    fps: z.number().min(0),
    /** Mean session.run time of those frames, ms (null: none). */
    inferenceMs: z.number().min(0).nullable(),
  }),
  /** ms epoch of this heartbeat (the node's clock). */
  heartbeat: z.number(),
  startedAt: z.number(),
  model: helloMessageSchema.shape.model,
  inference: helloMessageSchema.shape.inference,
  offers: z.object({ whep: z.boolean() }),
  /** Where the node's own HTTP server (metrics, health) listens. */
  http: z.object({ port: z.number().int() }),
});
export type NodeRecord = z.infer<typeof nodeRecordSchema>;

export function parseLease(bytes: Uint8Array): Lease | undefined {
  const r = leaseSchema.safeParse(parseJsonBytes(bytes));
  return r.success ? r.data : undefined;
}

export function parseNodeRecord(bytes: Uint8Array): NodeRecord | undefined {
  const r = nodeRecordSchema.safeParse(parseJsonBytes(bytes));
  return r.success ? r.data : undefined;
}

export function parsePoolEntry(bytes: Uint8Array): CameraEntry | undefined {
  const r = cameraSchema.safeParse(parseJsonBytes(bytes));
  return r.success ? r.data : undefined;
}

/** A control request to the node that runs a camera (`<p>.control.<camera>`). */
export type ControlRequest =
  | { readonly op: 'prompt'; readonly message: unknown }
  | { readonly op: 'update'; readonly entry: CameraEntry }
  | { readonly op: 'http'; readonly method: string; readonly path: string; readonly headers: Readonly<Record<string, string>>; readonly body: string };

export const controlRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('prompt'), message: z.unknown() }),
  z.object({ op: z.literal('update'), entry: cameraSchema }),
  z.object({ op: z.literal('http'), method: z.string().max(16), path: z.string().max(2048), headers: z.record(z.string(), z.string().max(4096)), body: z.string().max(1 << 20) }),
]);

/** A node's answer: the reply's body, or the error (SegstreamError JSON). */
export type ControlReply = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly error: { code: string; message: string; expected?: unknown; actual?: unknown } };

/** What an HTTP request relayed to a node answered. */
export interface RelayedHttp {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type { CameraView };
