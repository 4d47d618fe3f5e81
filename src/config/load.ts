import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { SegstreamError } from '../core/index.js';
import type { CameraEntryInput } from './schema.js';

/** Largest configuration or state file read, bytes. */
const MAX_FILE_BYTES = 1 << 20;

/**
 * Reads a configuration file: JSON for `.json`, YAML otherwise (aliases bounded, duplicate
 * keys refused). An empty file is an empty mapping (every default, no cameras); anything else
 * but a mapping at the top is refused. Throws E_CONFIG naming the file and, for syntax errors,
 * the line.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  const raw = parseConfigText(path, readText(path, 'configuration'));
  if (raw === null || raw === undefined) return {};
  if (!isRecord(raw)) {
    throw new SegstreamError('E_CONFIG', `${path}: a configuration is a mapping of sections (server, inference, tracking, ingest, cameras), not ${Array.isArray(raw) ? 'a list' : typeof raw}`, {
      expected: 'a mapping',
      actual: Array.isArray(raw) ? 'list' : typeof raw,
    });
  }
  return raw;
}

function parseConfigText(path: string, text: string): unknown {
  if (extname(path).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new SegstreamError('E_CONFIG', `${path}: not valid JSON: ${(err as Error).message}`, { expected: 'a JSON object' });
    }
  }
  // prettyErrors: the errors carry their line (linePos).
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  const problem = doc.errors[0];
  if (problem) {
    const line = problem.linePos?.[0].line;
    throw new SegstreamError('E_CONFIG', `${path}${line === undefined ? '' : `:${line}`}: not valid YAML: ${problem.message.split('\n')[0]}`, { expected: 'a YAML mapping' });
  }
  try {
    // A billion-laughs file stops at the alias limit instead of filling memory.
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new SegstreamError('E_CONFIG', `${path}: ${(err as Error).message}`, { expected: 'a YAML mapping' });
  }
}

function readText(path: string, what: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (err) {
    throw new SegstreamError('E_CONFIG', `cannot read the ${what} file ${path}: ${(err as Error).message}`, { expected: 'a readable file', actual: path });
  }
  if (size > MAX_FILE_BYTES) throw new SegstreamError('E_CONFIG', `the ${what} file ${path} is larger than 1 MiB`, { expected: `<= ${MAX_FILE_BYTES} bytes`, actual: size });
  return readFileSync(path, 'utf8');
}

/**
 * Cameras changed through the HTTP API, kept across restarts and reloads in a state file
 * beside the configuration (`segstream.yaml` -> `segstream.state.json`), by id: for a camera
 * the configuration has, only the fields the API changed (so the file's other edits still
 * apply); for one the API added, the whole camera; null for a configured camera the API
 * removed. The configuration file itself is never rewritten; the state is laid over its
 * camera list each time it is read.
 */
export interface CameraState {
  version: 1;
  cameras: Record<string, Partial<CameraEntryInput> | null>;
}

/** `dir/segstream.yaml` -> `dir/segstream.state.json`. */
export function statePathFor(configPath: string): string {
  const name = basename(configPath, extname(configPath));
  return join(dirname(configPath), `${name}.state.json`);
}

/** The state file's content; an absent file is an empty state. */
export function readCameraState(path: string): CameraState {
  let text: string;
  try {
    statSync(path);
  } catch {
    return { version: 1, cameras: {} };
  }
  text = readText(path, 'state');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SegstreamError('E_CONFIG', `${path}: not valid JSON: ${(err as Error).message}`, { expected: 'a segstream state file' });
  }
  if (!isRecord(raw) || raw['version'] !== 1 || !isRecord(raw['cameras'])) {
    throw new SegstreamError('E_CONFIG', `${path}: not a segstream state file (version 1 with a cameras object)`, { expected: '{"version":1,"cameras":{...}}' });
  }
  const cameras: CameraState['cameras'] = Object.create(null) as CameraState['cameras'];
  for (const [id, entry] of Object.entries(raw['cameras'])) {
    if (entry !== null && !isRecord(entry)) throw new SegstreamError('E_CONFIG', `${path}: cameras.${id}: expected an object or null`, { expected: 'object or null' });
    cameras[id] = entry === null ? null : ({ ...entry, id } as Partial<CameraEntryInput>);
  }
  return { version: 1, cameras };
}

/** Writes the state atomically (a temporary file renamed over it). */
export function writeCameraState(path: string, state: CameraState): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Plain objects merged key by key (`over` wins); arrays and values are replaced. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isRecord(base) || !isRecord(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  // defineProperty: a `__proto__` key stays a key (and is refused as unknown) instead of
  // becoming the object's prototype.
  for (const [k, v] of Object.entries(over)) {
    Object.defineProperty(out, k, { value: mergeConfig(Object.hasOwn(base, k) ? base[k] : undefined, v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
