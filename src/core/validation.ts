import type { z } from 'zod';
import { SegstreamError, type ErrorCode } from './errors.js';
import { redactText } from './redact.js';

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
    // The keys are the client's own text: name a few, each cut short.
    const keys = issue.keys.slice(0, SUMMARY_ITEMS).map((k) => summariseString(k, SUMMARY_KEY_CHARS));
    const message =
      issue.keys.length === 1
        ? `${what} ${fieldPath([...path, keys[0]!])}: unknown key`
        : `${what} ${path.length > 0 ? `${fieldPath(path)}: ` : ''}unknown keys: ${nameSome(issue.keys)}`;
    return new SegstreamError(code, message, { expected: 'known keys only', actual: keys });
  }
  const where = path.length > 0 ? fieldPath(path) : 'value';
  const actual = valueAt(raw, path);
  let expected: unknown;
  if (issue.code === 'too_big') expected = `<= ${String(issue.maximum)}`;
  else if (issue.code === 'too_small') expected = `>= ${String(issue.minimum)}`;
  else if (issue.code === 'invalid_type') expected = issue.expected;
  else expected = issue.message;
  return new SegstreamError(code, `${what} ${where}: ${issue.message}`, {
    expected,
    actual: summariseValue(issue.code === 'too_big' || issue.code === 'too_small' ? sizeOf(actual) : actual),
  });
}

/** A field's path as written in a file: `cameras[2].url`. */
export function fieldPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    // Own properties only: a path never reads through to Object.prototype.
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function sizeOf(v: unknown): unknown {
  if (Array.isArray(v)) return v.length;
  if (typeof v === 'string') return [...v.trim()].length;
  return v;
}

/** Longest string echoed in an error, UTF-16 units (cut strings end in "..."). */
const SUMMARY_CHARS = 80;
/** Longest unknown key named in an error, UTF-16 units. */
const SUMMARY_KEY_CHARS = 40;
/** Most array elements (or unknown keys) echoed in an error. */
const SUMMARY_ITEMS = 8;

/**
 * What an error may say about a value it did not accept: a short, flat summary, never the
 * value itself. Strings are redacted (URL credentials) and cut to 80 characters, non-finite numbers become their names,
 * an array of at most 8 primitives is kept (elements summarised), any other array is
 * "array of N" and any object "object with N keys". Nothing nested comes back, so a reply
 * stays small and cheap to serialise whatever the client sent.
 */
export function summariseValue(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.length <= SUMMARY_ITEMS && v.every(isPrimitive) ? v.map(summarisePrimitive) : `array of ${v.length}`;
  }
  if (typeof v === 'object' && v !== null) return `object with ${Object.keys(v).length} keys`;
  return summarisePrimitive(v);
}

function isPrimitive(v: unknown): boolean {
  return v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function summarisePrimitive(v: unknown): unknown {
  // A string may be a camera URL with its password: it is echoed redacted.
  if (typeof v === 'string') return summariseString(redactText(v), SUMMARY_CHARS);
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'boolean' || v === null) return v;
  if (v === undefined) return null;
  return typeof v;
}

/**
 * Names client-given names (keys, camera ids) in a message: the first 8, each cut to 40
 * characters, then "and N more".
 */
export function nameSome(names: readonly string[]): string {
  const named = names.slice(0, SUMMARY_ITEMS).map((n) => summariseString(n, SUMMARY_KEY_CHARS));
  return `${named.join(', ')}${names.length > named.length ? ` and ${names.length - named.length} more` : ''}`;
}

/** Cuts a string to `max` UTF-16 units, ending in "...", without splitting a surrogate pair. */
export function summariseString(s: string, max: number = SUMMARY_CHARS): string {
  if (s.length <= max) return s;
  let end = max - 3;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}...`;
}
