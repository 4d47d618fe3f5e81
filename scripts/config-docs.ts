/**
 * Writes docs/config.md from the configuration schemas (src/config/docs.ts).
 * Run after changing src/config/schema.ts: `npx tsx scripts/config-docs.ts`.
 * test/unit/config/docs.test.ts fails while the file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configMarkdown } from '../src/config/docs.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '../docs/config.md');
writeFileSync(target, configMarkdown());
process.stdout.write(`wrote ${target}\n`);
