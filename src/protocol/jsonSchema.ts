import { z } from 'zod';
import { clientMessageSchema } from './client.js';
import { jpegHeaderSchema } from './jpeg.js';
import { PROTOCOL_VERSION } from './limits.js';
import { serverMessageSchema } from './server.js';

type JsonSchema = Record<string, unknown>;

/** One direction as JSON Schema, without its own `$schema` (it sits under the document's `$defs`). */
function direction(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw' }) as JsonSchema;
  return rest;
}

/**
 * The whole WebSocket protocol as one JSON Schema (draft 2020-12), generated from the zod
 * schemas: `$defs.clientMessage` (what a client may send; what the server parses, so its
 * input side) and `$defs.serverMessage` (what the server sends). Refinements that JSON Schema
 * cannot say (a prompt carries exactly one of points, box, text; x2 > x1) are in the
 * descriptions of docs/protocol.md only. Written to docs/protocol.schema.json by
 * `npm run docs:protocol`.
 */
export function protocolJsonSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `segstream-protocol-v${PROTOCOL_VERSION}`,
    title: `segstream WebSocket protocol, version ${PROTOCOL_VERSION}`,
    description: 'Every message is one JSON text frame on ws://HOST:PORT/ws, except JPEG frames (binary: 4-byte big-endian header length, the header as `$defs.jpegHeader` in UTF-8 JSON, the JPEG bytes). Generated from src/protocol by `npm run docs:protocol`; see docs/protocol.md.',
    anyOf: [{ $ref: '#/$defs/clientMessage' }, { $ref: '#/$defs/serverMessage' }],
    $defs: {
      clientMessage: direction(clientMessageSchema, 'input'),
      serverMessage: direction(serverMessageSchema, 'output'),
      jpegHeader: direction(jpegHeaderSchema, 'output'),
    },
  };
}

/** docs/protocol.schema.json's text: the schema, 2-space indented, ending in a newline. */
export function protocolJsonSchemaText(): string {
  return `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
}
