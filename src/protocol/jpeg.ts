import { z } from 'zod';
import { countSchema } from './common.js';

/** Slowest and fastest JPEG rate a subscription may ask for, frames per second. */
export const JPEG_MIN_FPS = 0.2;
export const JPEG_MAX_FPS = 30;

/** A subscription's JPEG frames: how many per second at most, and with the overlay drawn or clean. */
export const jpegOptionsSchema = z
  .strictObject({
    fps: z.number().min(JPEG_MIN_FPS).max(JPEG_MAX_FPS).describe(`Most JPEG frames per second and camera, ${JPEG_MIN_FPS}..${JPEG_MAX_FPS}.`),
    overlay: z.boolean().describe('true: masks, boxes, labels and track ids drawn in (as in the WHEP video); false: the clean picture.'),
  })
  .describe('JPEG frames of every subscribed camera as binary WebSocket messages (docs/protocol.md, "JPEG frames"); omitted: none.');
export type JpegOptions = z.infer<typeof jpegOptionsSchema>;

/**
 * The JSON header of a binary JPEG message. The message is
 *
 *   bytes 0..3        N, the header's length in bytes, unsigned 32-bit big-endian
 *   bytes 4..4+N-1    the header, UTF-8 JSON (this schema)
 *   bytes 4+N..end    the JPEG file (baseline, starts with FF D8)
 */
export const jpegHeaderSchema = z
  .strictObject({
    type: z.literal('jpeg'),
    camera: z.string().min(1),
    seq: countSchema.describe('The frame\'s seq: the frame message of the same seq carries its objects.'),
    pts: countSchema.describe('Media time, ms from stream start (as the frame message).'),
    timestamp: z.number().describe('Wall-clock capture time, ms since the epoch (as the frame message).'),
    width: countSchema.describe('The JPEG\'s size, px (the display size: source size capped by the display width).'),
    height: countSchema,
    overlay: z.boolean().describe('Whether the overlay is drawn in.'),
  })
  .describe('The header of a binary JPEG message: 4-byte big-endian header length, this JSON (UTF-8), then the JPEG bytes.');
export type JpegHeader = z.infer<typeof jpegHeaderSchema>;

/** Bytes before the header: its length, unsigned 32-bit big-endian. */
export const JPEG_LENGTH_BYTES = 4;
/** Longest header a reader accepts, bytes (a real one is about 150). */
export const MAX_JPEG_HEADER_BYTES = 4096;

/** One binary JPEG message: the length, the header, the JPEG (works in Node and browsers). */
export function encodeJpegMessage(header: JpegHeader, jpeg: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(JPEG_LENGTH_BYTES + head.length + jpeg.length);
  new DataView(out.buffer).setUint32(0, head.length, false);
  out.set(head, JPEG_LENGTH_BYTES);
  out.set(jpeg, JPEG_LENGTH_BYTES + head.length);
  return out;
}

/**
 * Splits a binary JPEG message into its header (checked against the schema) and the JPEG
 * bytes (a view into `data`, not a copy). Throws a TypeError when it is not one.
 */
export function decodeJpegMessage(data: Uint8Array): { header: JpegHeader; jpeg: Uint8Array } {
  if (data.length < JPEG_LENGTH_BYTES) throw new TypeError(`a JPEG message is at least ${JPEG_LENGTH_BYTES} bytes, got ${data.length}`);
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, false);
  if (n > MAX_JPEG_HEADER_BYTES || JPEG_LENGTH_BYTES + n > data.length) throw new TypeError(`JPEG message header length ${n} does not fit (message of ${data.length} bytes)`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(JPEG_LENGTH_BYTES, JPEG_LENGTH_BYTES + n)));
  } catch (err) {
    throw new TypeError(`JPEG message header is not UTF-8 JSON: ${(err as Error).message}`);
  }
  const parsed = jpegHeaderSchema.safeParse(raw);
  if (!parsed.success) throw new TypeError(`JPEG message header: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return { header: parsed.data, jpeg: data.subarray(JPEG_LENGTH_BYTES + n) };
}
