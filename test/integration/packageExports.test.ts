import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');
const tsc = (project: string): void => void execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, project)], { stdio: 'inherit' });

describe('the package', () => {
  it('exports segstream/client (ES module with types) for Node, next to the existing deep paths', () => {
    tsc('tsconfig.client.json');
    expect(existsSync(join(REPO, 'dist/client/index.d.ts'))).toBe(true);
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { connect, decodeRle, watchWhep, SegstreamClientError } from 'segstream/client';
         import * as rle from 'segstream/dist/client/rle.js';
         import pkg from 'segstream/package.json' with { type: 'json' };
         console.log(JSON.stringify([typeof connect, typeof watchWhep, typeof SegstreamClientError, [...decodeRle({ size: [2, 2], counts: '112' })], typeof rle.rleCounts, pkg.name]));`,
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', [0, 0, 1, 0], 'function', 'segstream']);
  });

  it('builds the dashboard for the browser: only relative imports (no bundler, no bare names, no node: modules)', () => {
    tsc('tsconfig.web.json');
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : files.push(join(d, e.name));
    };
    walk(join(REPO, 'dist/web'));
    const entry = files.find((f) => f.endsWith('web/dashboard.js'));
    expect(entry).toBeDefined();
    // Every module the page loads, from its entry: relative imports only. (The protocol's files are
    // compiled too, for the client's wire types, but type-only: nothing the page loads imports them.)
    const seen = new Set<string>();
    const visit = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      const specifiers = [...readFileSync(f, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
      for (const s of specifiers) {
        expect([f, s]).toEqual([f, expect.stringMatching(/^\.\.?\/.*\.js$/)]);
        visit(join(dirname(f), s));
      }
    };
    visit(entry!);
    expect([...seen].some((f) => f.includes('/protocol/'))).toBe(false);
    expect(seen.size).toBeGreaterThan(5);
  });
});
