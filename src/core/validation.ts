import type { z } from 'zod';
import { SegstreamError, type ErrorCode } from './errors.js';

/**
 * Validates `raw` with a zod schema; the first problem becomes a SegstreamError with `code`,
 * a message `<what> <field>: <problem>` and the expected and actual values. The one place
 * where schema failures (options, client messages, prompts) turn into coded errors.
 */
export function parseWith<T extends z.ZodType>(schema: T, raw: unknown, code: ErrorCode, what: string): z.output<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw validationError(raw, result.error.issues[0]!, code, what);
}

export function validationError(raw: unknown, issue: z.core.$ZodIssue, code: ErrorCode, what: string): SegstreamError {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? p.toString() : p));
  if (issue.code === 'unrecognized_keys') {
    const where = path.length > 0 ? ` in ${path.join('.')}` : '';
    return new SegstreamError(code, `${what}: unknown key(s)${where}: ${issue.keys.join(', ')}`, { expected: 'known keys only', actual: issue.keys });
  }
  const where = path.length > 0 ? path.join('.') : 'value';
  const actual = valueAt(raw, path);
  let expected: unknown;
  if (issue.code === 'too_big') expected = `<= ${String(issue.maximum)}`;
  else if (issue.code === 'too_small') expected = `>= ${String(issue.minimum)}`;
  else if (issue.code === 'invalid_type') expected = issue.expected;
  else expected = issue.message;
  return new SegstreamError(code, `${what} ${where}: ${issue.message}`, {
    expected,
    actual: summarise(issue.code === 'too_big' || issue.code === 'too_small' ? sizeOf(actual) : actual),
  });
}

function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function sizeOf(v: unknown): unknown {
  if (Array.isArray(v)) return v.length;
  if (typeof v === 'string') return [...v.trim()].length;
  return v;
}

/** Keeps error payloads small: a long array or string is described, not echoed. */
function summarise(v: unknown): unknown {
  if (typeof v === 'string' && v.length > 80) return `${v.slice(0, 77)}...`;
  if (Array.isArray(v) && v.length > 8) return `array of ${v.length}`;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return Object.keys(v).length > 8 ? 'object' : v;
  return v === undefined ? null : v;
}
