/**
 * Writes docs/protocol.schema.json from the protocol's zod schemas (src/protocol).
 * Run after changing src/protocol: `npm run docs:protocol`.
 * test/unit/protocol/schema.test.ts fails while the file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protocolJsonSchemaText } from '../src/protocol/index.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '../docs/protocol.schema.json');
writeFileSync(target, protocolJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
