import type { JpegFrame, JpegHeader } from './types.js';

/**
 * A binary JPEG message (docs/protocol.md, "JPEG frames"): 4-byte big-endian header length,
 * the header as UTF-8 JSON, the JPEG bytes. Returns the header and a view of the JPEG (no
 * copy); throws a TypeError for anything else. No imports: Node and browsers.
 */
export function decodeJpegFrame(data: ArrayBuffer | ArrayBufferView): JpegFrame {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < 4) throw new TypeError(`a JPEG message is at least 4 bytes, got ${bytes.length}`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
  if (n > 4096 || 4 + n > bytes.length) throw new TypeError(`JPEG message header length ${n} does not fit in ${bytes.length} bytes`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as Partial<JpegHeader>;
  if (
    typeof header !== 'object' ||
    header === null ||
    header.type !== 'jpeg' ||
    typeof header.camera !== 'string' ||
    typeof header.seq !== 'number' ||
    typeof header.width !== 'number' ||
    typeof header.height !== 'number' ||
    typeof header.overlay !== 'boolean'
  ) {
    throw new TypeError('not a JPEG message header');
  }
  return { header: header as JpegHeader, jpeg: bytes.subarray(4 + n) };
}
