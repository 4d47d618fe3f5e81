import type { EventFields } from './events.js';

/**
 * The event history's queries and pages (`GET /events`): pure, tested without a browser;
 * historyView.ts renders them.
 */

export interface HistoryFilters {
  camera?: string;
  zone?: string;
  kind?: string;
  /** ms since the epoch. */
  since?: number;
  until?: number;
  limit: number;
}

export const DEFAULT_LIMIT = 20;
/** The most events one page asks for. */
export const MAX_LIMIT = 500;

/** `/events?...` for these filters; empty and unset fields are left out. */
export function historyUrl(f: HistoryFilters): string {
  const q = new URLSearchParams();
  if (f.camera) q.set('camera', f.camera);
  if (f.zone) q.set('zone', f.zone);
  if (f.kind) q.set('kind', f.kind);
  if (f.since !== undefined) q.set('since', String(Math.floor(f.since)));
  if (f.until !== undefined) q.set('until', String(Math.floor(f.until)));
  q.set('limit', String(f.limit));
  return `/events?${q.toString()}`;
}

/** The most events the server returns for one GET /events. */
const SERVER_MAX_LIMIT = 1000;

/**
 * The query for the page after `shown` (every event shown so far, newest first by start):
 * `until` one ms past the oldest one's start, so that whether the server's `until` is inclusive
 * or not, no event of that ms is skipped; the events shown that this query returns again (those
 * of the last two ms) are asked for on top of `limit`, and `mergePage` drops them.
 */
export function olderQuery(f: HistoryFilters, shown: readonly EventFields[]): HistoryFilters | undefined {
  const last = shown[shown.length - 1];
  if (!last) return undefined;
  const again = shown.filter((e) => e.startedAt >= last.startedAt && e.startedAt <= last.startedAt + 1).length;
  return { ...f, until: last.startedAt + 1, limit: Math.min(SERVER_MAX_LIMIT, f.limit + again) };
}

/** Whether older events may exist: the server filled the page it was asked for. */
export function pageWasFull(query: HistoryFilters, page: readonly unknown[]): boolean {
  return page.length >= query.limit;
}

/** `page` after `shown`, without those already shown (by id). */
export function mergePage<T extends Pick<EventFields, 'id'>>(shown: readonly T[], page: readonly T[]): T[] {
  const ids = new Set(shown.map((e) => e.id));
  return [...shown, ...page.filter((e) => !ids.has(e.id))];
}

const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const numOrNull = (v: unknown): boolean => v === null || isNum(v);

/** One event of the history, or a TypeError naming the field that is not as expected. */
export function parseEvent(v: unknown, where = 'event'): EventFields {
  const e = v as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null) throw new TypeError(`${where}: expected an object`);
  const bad = (field: string, want: string): never => {
    throw new TypeError(`${where}.${field}: expected ${want}`);
  };
  if (typeof e['id'] !== 'string') bad('id', 'a string');
  if (typeof e['camera'] !== 'string') bad('camera', 'a string');
  if (e['zone'] !== null && typeof e['zone'] !== 'string') bad('zone', 'a string or null');
  if (!numOrNull(e['rule'])) bad('rule', 'a number or null');
  if (typeof e['kind'] !== 'string') bad('kind', 'a string');
  if (!Array.isArray(e['tracks']) || !e['tracks'].every(isNum)) bad('tracks', 'an array of numbers');
  if (!Array.isArray(e['labels']) || !e['labels'].every((l) => typeof l === 'string')) bad('labels', 'an array of strings');
  for (const f of ['startedAt', 'updatedAt', 'mediaStartS', 'mediaUpdatedS']) if (!isNum(e[f])) bad(f, 'a number');
  for (const f of ['endedAt', 'mediaEndS']) if (!numOrNull(e[f])) bad(f, 'a number or null');
  if (e['snapshot'] !== null && typeof e['snapshot'] !== 'string') bad('snapshot', 'a string or null');
  return e as unknown as EventFields;
}

/** The events of a `GET /events` body, `{"events": [...]}`. */
export function parseEventList(body: unknown): EventFields[] {
  const events = (body as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) throw new TypeError('expected an array in the body\'s "events"');
  return events.map((e, i) => parseEvent(e, `events[${i}]`));
}

/**
 * A `datetime-local` input's value ("2024-05-01T10:00", the browser's time zone) as ms since
 * the epoch; undefined when empty or not a time.
 */
export function localTimeMs(value: string): number | undefined {
  if (value.trim() === '') return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** The media time span of an event, "media 12.3-15.0 s" (open: "media from 12.3 s"). */
export function mediaSpan(e: Pick<EventFields, 'mediaStartS' | 'mediaEndS'>): string {
  return e.mediaEndS === null ? `media from ${e.mediaStartS.toFixed(1)} s` : `media ${e.mediaStartS.toFixed(1)}–${e.mediaEndS.toFixed(1)} s`;
}
