import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../../src');

function importsOf(folder: string): { file: string; from: string }[] {
  return readdirSync(join(SRC, folder))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((file) => [...readFileSync(join(SRC, folder, file), 'utf8').matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)].map((m) => ({ file: `${folder}/${file}`, from: m[1]! })));
}

describe('who imports whom', () => {
  it('protocol depends on core\'s browser-safe files (errors, validation, devices, eventKinds) and zod only', () => {
    // Not core/index.js: the client library's browser build takes its wire types from here, and
    // core's index reaches Node modules (worker threads).
    const safe = ['../core/errors.js', '../core/validation.js', '../core/devices.js', '../core/eventKinds.js'];
    const outside = importsOf('protocol').filter(({ from }) => !from.startsWith('./') && !safe.includes(from) && from !== 'zod');
    expect(outside).toEqual([]);
    // The device names are plain data: nothing imported.
    expect(importsOf('core').filter(({ file }) => file === 'core/devices.ts' || file === 'core/eventKinds.ts')).toEqual([]);
  });

  it('publish imports no other stage: core, protocol, its own files and libraries only', () => {
    const stages = importsOf('publish').filter(({ from }) => from.startsWith('../') && from !== '../core/index.js' && from !== '../protocol/index.js');
    expect(stages).toEqual([]);
  });

  it('events imports no other stage: core, its own files and libraries only (its cores stay pure)', () => {
    const stages = importsOf('events').filter(({ from }) => from.startsWith('../') && !from.startsWith('../core/'));
    expect(stages).toEqual([]);
  });

  it('other folders import the protocol through its index only', () => {
    const deep = ['app.ts', 'cameraTargets.ts'].flatMap((f) => [...readFileSync(join(SRC, f), 'utf8').matchAll(/from '(\.\/protocol\/[^']+)'/g)].map((m) => m[1]));
    for (const folder of ['publish', 'prompts', 'cameras']) deep.push(...importsOf(folder).map((i) => i.from).filter((f) => f.startsWith('../protocol/') && f !== '../protocol/index.js'));
    expect(deep.filter((f) => f !== './protocol/index.js')).toEqual([]);
  });
});
