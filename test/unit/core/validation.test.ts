import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parseWith, summariseString, summariseValue } from '../../../src/core/index.js';
import { thrownSegstreamError } from '../../helpers/errors.js';

const deep = (levels: number): unknown => {
  let v: unknown = [];
  for (let i = 1; i < levels; i++) v = [v];
  return v;
};

describe('summariseValue', () => {
  it('keeps primitives and flat arrays of up to 8 primitives', () => {
    expect(summariseValue(3)).toBe(3);
    expect(summariseValue(null)).toBe(null);
    expect(summariseValue(undefined)).toBe(null);
    expect(summariseValue(true)).toBe(true);
    expect(summariseValue('car')).toBe('car');
    expect(summariseValue([1, 'a', null])).toEqual([1, 'a', null]);
  });

  it('names non-finite numbers, which JSON would turn into null', () => {
    expect(summariseValue(Infinity)).toBe('Infinity');
    expect(summariseValue(-Infinity)).toBe('-Infinity');
    expect(summariseValue(NaN)).toBe('NaN');
    expect(summariseValue([1, Infinity])).toEqual([1, 'Infinity']);
  });

  it('describes nested or long arrays and every object instead of echoing them', () => {
    expect(summariseValue([[1]])).toBe('array of 1');
    expect(summariseValue(Array.from({ length: 9 }, () => 0))).toBe('array of 9');
    expect(summariseValue({ a: 1 })).toBe('object with 1 keys');
    expect(summariseValue(JSON.parse('{"__proto__":{"x":1},"constructor":2}'))).toBe('object with 2 keys');
  });

  it('summarises a value nested 5,000 deep without recursion, and the result serialises', () => {
    const s = summariseValue(deep(5000));
    expect(s).toBe('array of 1');
    expect(JSON.stringify(s).length).toBeLessThan(20);
  });

  it('cuts long strings to 80 characters without splitting a surrogate pair', () => {
    expect(summariseString('x'.repeat(200))).toBe(`${'x'.repeat(77)}...`);
    const emoji = `${'a'.repeat(76)}😀😀😀`;
    const cut = summariseString(emoji);
    expect(cut).toBe(`${'a'.repeat(76)}...`);
    // No lone high surrogate left at the cut.
    expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut)).toBe(false);
    expect(summariseString('short', 3)).toBe('...');
  });
});

describe('parseWith errors echo only a flat summary of what they did not accept', () => {
  const schema = z.strictObject({ type: z.literal('ping'), id: z.union([z.string().max(64), z.number()]).optional() });

  it('a deeply nested field becomes "array of 1" and the error serialises', () => {
    const err = thrownSegstreamError(() => parseWith(schema, { type: 'ping', id: deep(5000) }, 'E_MSG_INVALID', 'invalid:'));
    expect(err.code).toBe('E_MSG_INVALID');
    expect(err.actual).toBe('array of 1');
    expect(() => JSON.stringify(err.toJSON())).not.toThrow();
  });

  it('unknown keys: at most 8 named, each cut to 40 characters', () => {
    const raw: Record<string, unknown> = { type: 'ping' };
    for (let i = 0; i < 20; i++) raw[`${'k'.repeat(100)}${i}`] = i;
    const err = thrownSegstreamError(() => parseWith(schema, raw, 'E_MSG_INVALID', 'invalid:'));
    const keys = err.actual as string[];
    expect(keys).toHaveLength(8);
    for (const k of keys) expect(k.length).toBeLessThanOrEqual(40);
    expect(err.message).toContain('and 12 more');
    expect(err.message.length).toBeLessThan(500);
  });

  it('an own "__proto__" key is reported as an unknown key, and paths never read Object.prototype', () => {
    const err = thrownSegstreamError(() => parseWith(schema, JSON.parse('{"type":"ping","__proto__":{"id":"x"}}'), 'E_MSG_INVALID', 'invalid:'));
    expect(err.actual).toEqual(['__proto__']);
    const nested = z.strictObject({ a: z.strictObject({ constructor: z.number() }) });
    const e2 = thrownSegstreamError(() => parseWith(nested, { a: {} }, 'E_MSG_INVALID', 'invalid:'));
    // a.constructor is missing: the actual value is "missing" (null), not Object.
    expect(e2.actual).toBe(null);
  });
});
