import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_MESSAGE_TYPES,
  protocolJsonSchema,
  protocolJsonSchemaText,
  serverMessageSchema,
  statusMessageSchema,
  wireObjectSchema,
} from '../../../src/protocol/index.js';

const DOC = join(import.meta.dirname, '../../../docs/protocol.schema.json');

type Json = Record<string, unknown>;
const variants = (def: unknown): Json[] => ((def as Json)['oneOf'] ?? (def as Json)['anyOf']) as Json[];
const typeOf = (v: Json): unknown => ((v['properties'] as Json)['type'] as Json)['const'];

describe('docs/protocol.schema.json', () => {
  it('is what scripts/protocol-schema.ts generates from the zod schemas', () => {
    expect(readFileSync(DOC, 'utf8'), 'docs/protocol.schema.json is out of date: run `npm run docs:protocol`').toBe(protocolJsonSchemaText());
  });

  it('has one variant per message type in each direction, each closed to unknown keys', () => {
    const defs = protocolJsonSchema()['$defs'] as Json;
    const client = variants(defs['clientMessage']);
    const server = variants(defs['serverMessage']);
    expect(client.map(typeOf)).toEqual([...CLIENT_MESSAGE_TYPES]);
    expect(server.map(typeOf)).toEqual(['hello', 'frame', 'status', 'prompt.ok', 'prompt.cleared', 'target.reattached', 'target.ended', 'error', 'pong', 'subscribed', 'event']);
    for (const v of [...client, ...server]) expect(v['additionalProperties'], String(typeOf(v))).toBe(false);
  });

  it('is a draft 2020-12 document whose references resolve inside it', () => {
    const doc = protocolJsonSchema();
    expect(doc['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    const text = JSON.stringify(doc);
    for (const [, ref] of text.matchAll(/"\$ref":"([^"]+)"/g)) {
      const path = ref!.replace(/^#\//, '').split('/');
      let at: unknown = doc;
      for (const p of path) at = (at as Json)[p];
      expect(at, ref).toBeDefined();
    }
  });
});

describe('server message schemas', () => {
  it('refuse what the server never sends: unknown keys, a state outside the list, an unknown type', () => {
    expect(statusMessageSchema.safeParse({ type: 'status', camera: 'a', state: 'streaming', restarts: 0 }).success).toBe(true);
    expect(statusMessageSchema.safeParse({ type: 'status', camera: 'a', state: 'stopped', restarts: 0 }).success).toBe(false);
    expect(statusMessageSchema.safeParse({ type: 'status', camera: 'a', state: 'streaming', restarts: 0, extra: 1 }).success).toBe(false);
    expect(serverMessageSchema.safeParse({ type: 'launch' }).success).toBe(false);
  });

  it('an object is valid with an RLE mask, with polygons, or with neither; a polygon has at least 3 points', () => {
    const o = { label: 'car', classId: 2, score: 0.5, box: [0, 0, 2, 2], area: 4 };
    expect(wireObjectSchema.safeParse({ ...o, mask: { size: [2, 2], counts: '04' } }).success).toBe(true);
    expect(wireObjectSchema.safeParse({ ...o, mask: null }).success).toBe(true);
    expect(wireObjectSchema.safeParse({ ...o, polygons: [[0, 0, 2, 0, 2, 2]] }).success).toBe(true);
    expect(wireObjectSchema.safeParse(o).success).toBe(true);
    expect(wireObjectSchema.safeParse({ ...o, polygons: [[0, 0, 2, 0]] }).success).toBe(false);
  });
});
