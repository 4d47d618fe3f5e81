import { describe, expect, it } from 'vitest';
import { jsonDepth } from '../../../src/protocol/index.js';

describe('jsonDepth', () => {
  it('counts nested arrays and objects', () => {
    expect(jsonDepth('7')).toBe(0);
    expect(jsonDepth('"x"')).toBe(0);
    expect(jsonDepth('{"type":"ping"}')).toBe(1);
    expect(jsonDepth('{"type":"prompt","points":[[1,2,1],[3,4,0]]}')).toBe(3);
    expect(jsonDepth('[[],[[{}]],[]]')).toBe(4);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepth('{"a":"[[[[{{{{"}')).toBe(1);
    expect(jsonDepth('{"a":"\\"[[[[\\\\","b":[1]}')).toBe(2);
  });

  it('agrees with the parsed value on generated JSON', () => {
    const depthOf = (v: unknown): number =>
      Array.isArray(v) ? 1 + Math.max(0, ...v.map(depthOf)) : typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
    const samples: unknown[] = [[], {}, [1, [2, [3, { a: [4] }]]], { a: { b: { c: 'x]]]' } }, d: [] }, [{ '[': '{' }]];
    for (const v of samples) expect(jsonDepth(JSON.stringify(v))).toBe(depthOf(v));
  });

  it('stops counting past the limit: 5,000 levels with stopAbove 32 give 33', () => {
    const text = `{"type":"ping","id":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(jsonDepth(text)).toBe(5001);
    expect(jsonDepth(text, 32)).toBe(33);
  });

  it('bounds invalid JSON too', () => {
    expect(jsonDepth('[[[[')).toBe(4);
    expect(jsonDepth(']]]]')).toBe(0);
    expect(jsonDepth('"unterminated [[[')).toBe(0);
  });
});
