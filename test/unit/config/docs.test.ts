import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configMarkdown, documentedFields, EXAMPLE_YAML } from '../../../src/config/docs.js';
import { cameraSchema, parseConfig, SECTIONS } from '../../../src/config/index.js';

const DOC = join(import.meta.dirname, '../../../docs/config.md');

describe('docs/config.md', () => {
  it('is what scripts/config-docs.ts generates from the schemas', () => {
    const onDisk = readFileSync(DOC, 'utf8');
    expect(onDisk, 'docs/config.md is out of date: run `npx tsx scripts/config-docs.ts`').toBe(configMarkdown());
  });

  it('has a table row for every field of every section and of a camera', () => {
    const doc = readFileSync(DOC, 'utf8');
    const fields = [
      ...Object.entries(SECTIONS).flatMap(([section, schema]) => Object.keys(schema.shape).map((k) => `${section}.${k}`)),
      'inference.clip.image',
      'inference.clip.text',
      'inference.clip.merges',
      'inference.clip.vocab',
    ];
    for (const f of fields) expect(doc, f).toContain(`| \`${f}\` |`);
    for (const k of Object.keys(cameraSchema.shape)) expect(doc, `cameras: ${k}`).toContain(`| \`${k}\` |`);
    expect(documentedFields()).toEqual(expect.arrayContaining([...fields, ...Object.keys(cameraSchema.shape).map((k) => `cameras[].${k}`)]));
  });

  it("gives each field its schema's exact default and bounds", () => {
    const doc = configMarkdown();
    expect(doc).toContain('| `server.port` | integer | `8080` | min 0, max 65535 |');
    expect(doc).toContain('| `inference.device` | string | `cpu` | length >= 1, length <= 64 | inference devices in order of preference, comma-separated, of cpu, cuda, tensorrt, webgpu');
    expect(doc).toContain('| `tracking.maxAge` | number | `1` | > 0, max 86400 |');
    expect(doc).toContain('| `ingest.mediaRoots` | list of string | `[]` | <= 64 items, each length >= 1 |');
    expect(doc).toContain('| `inference.model` | string | unset |');
    expect(doc).toContain('| `inference.clip.image` | string | required with `inference.clip` |');
  });

  it('marks required camera fields and names the section each override defaults to', () => {
    const doc = configMarkdown();
    expect(doc).toMatch(/\| `id` \| string \| \*\*required\*\* \|/);
    expect(doc).toMatch(/\| `url` \| string \| \*\*required\*\* \|/);
    expect(doc).toContain('| `enabled` | boolean | `true` |');
    expect(doc).toContain('| `confidence` | number | default: `inference.confidence` |');
    for (const k of ['realtime', 'loop', 'networkTimeoutS', 'stallTimeoutS', 'reconnectMinMs', 'reconnectMaxMs', 'fastRetryWindowMs', 'tlsVerify', 'tlsCaFile']) {
      expect(doc).toContain(`| \`${k}\` | `);
      expect(doc).toMatch(new RegExp(`\\| \`${k}\` \\| [^|]+ \\| default: \`ingest\\.${k}\` \\|`));
    }
  });

  it('ends with an example that parseConfig accepts, and that the page shows verbatim', () => {
    const cfg = parseConfig(parse(EXAMPLE_YAML));
    expect(cfg.cameras.map((c) => c.id)).toEqual(['gate', 'yard', 'replay']);
    // Every section appears in it.
    for (const section of Object.keys(SECTIONS)) expect(EXAMPLE_YAML).toMatch(new RegExp(`^${section}:`, 'm'));
    expect(configMarkdown().trimEnd().endsWith(`\`\`\`yaml\n${EXAMPLE_YAML}\`\`\``)).toBe(true);
  });

  it('depends on nothing of this checkout or machine: no paths of it, the same text every time', () => {
    const doc = configMarkdown();
    expect(doc).not.toContain(process.cwd());
    expect(doc).not.toMatch(/\/(?:work|home|tmp|root)\//);
    expect(configMarkdown()).toBe(doc);
  });
});
