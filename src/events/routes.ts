import type { IncomingMessage, ServerResponse } from 'node:http';
import { SegstreamError, summariseString } from '../core/index.js';
import { EVENT_KINDS } from '../core/eventKinds.js';
import { MAX_EVENT_LIST_LIMIT, type EventQuery } from './store.js';
import type { RoadEvent } from './types.js';

/** What the routes read: the history (store.ts). */
export interface EventQueryable {
  list(q: EventQuery): RoadEvent[];
  get(id: string): RoadEvent | undefined;
  snapshot(id: string): Buffer | undefined;
}

/** The shape of one HTTP route of the server (publish's HttpRoute, structurally). */
export interface EventRoute {
  readonly path: string;
  readonly prefix?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, path: string): void;
}

/**
 * `GET /events?camera=&zone=&kind=&since=&until=&limit=` (newest first; since/until: ms since
 * the epoch or an ISO 8601 time), `GET /events/<id>`, `GET /events/<id>/snapshot.jpg`, behind
 * the server's access checks like /api. A bad parameter is 400 naming it; an unknown event 404
 * E_UNKNOWN_EVENT.
 */
export function eventRoutes(history: EventQueryable): EventRoute[] {
  const handle = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const err = new SegstreamError('E_MSG_INVALID', 'method not allowed here; allowed: GET, HEAD', { expected: 'GET, HEAD' });
      return json(405, { error: err.toJSON() }, { allow: 'GET, HEAD' });
    }
    try {
      if (path === '/events' || path === '/events/') {
        const query = parseEventQuery(new URL(req.url ?? '/', 'http://x').searchParams);
        return json(200, { events: history.list(query) });
      }
      const m = /^\/events\/([^/]+)(\/snapshot\.jpg)?$/.exec(path);
      let id: string | undefined;
      try {
        id = m ? decodeURIComponent(m[1]!) : undefined;
      } catch {
        id = undefined;
      }
      if (!m || id === undefined || id.length > 128) throw unknownEvent(path);
      if (!m[2]) {
        const event = history.get(id);
        if (!event) throw unknownEvent(id);
        return json(200, { event });
      }
      const jpeg = history.snapshot(id);
      if (!jpeg) throw unknownEvent(id, 'has no snapshot');
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length), 'cache-control': 'private, max-age=86400, immutable', 'x-content-type-options': 'nosniff' }).end(req.method === 'HEAD' ? undefined : jpeg);
    } catch (err) {
      if (!(err instanceof SegstreamError)) throw err;
      json(err.code === 'E_UNKNOWN_EVENT' ? 404 : 400, { error: err.toJSON() });
    }
  };
  return [
    { path: '/events', handle },
    { path: '/events/', prefix: true, handle },
  ];
}

function unknownEvent(id: string, what = 'is not in the history'): SegstreamError {
  return new SegstreamError('E_UNKNOWN_EVENT', `event '${summariseString(id, 80)}' ${what}`, { expected: 'the id of a recorded event', actual: summariseString(id, 80) });
}

/** The ISO 8601 forms Date.parse reads by the standard: a date, or a date and time with optional seconds, fraction and offset. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

const TEXT_PARAMS = ['camera', 'zone', 'kind'] as const;
const KNOWN = new Set<string>([...TEXT_PARAMS, 'since', 'until', 'limit', 'token']);

/** The query of GET /events, checked: 400 E_MSG_INVALID naming the parameter. */
export function parseEventQuery(params: URLSearchParams): EventQuery {
  const bad = (name: string, expected: string, actual: string): SegstreamError =>
    new SegstreamError('E_MSG_INVALID', `GET /events: ${name}: expected ${expected}`, { expected, actual: summariseString(actual, 80) });
  const q: EventQuery = {};
  for (const key of params.keys()) if (!KNOWN.has(key)) throw bad(key, `one of ${[...KNOWN].filter((k) => k !== 'token').join(', ')}`, key);
  for (const name of TEXT_PARAMS) {
    const v = params.get(name);
    if (v === null || v === '') continue;
    if (v.length > 64) throw bad(name, 'at most 64 characters', v);
    q[name] = v;
  }
  if (q.kind !== undefined && !(EVENT_KINDS as readonly string[]).includes(q.kind)) throw bad('kind', `one of ${EVENT_KINDS.join(', ')}`, q.kind);
  for (const name of ['since', 'until'] as const) {
    const v = params.get(name);
    if (v === null || v === '') continue;
    // Date.parse alone also takes V8's legacy forms: '-5' or 'hello 1' became dates in 2001.
    const t = /^\d{1,16}$/.test(v) ? Number(v) : ISO_8601.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(t)) throw bad(name, 'ms since the epoch or an ISO 8601 time', v);
    q[name] = t;
  }
  const limit = params.get('limit');
  if (limit !== null && limit !== '') {
    const n = Number(limit);
    if (!/^\d{1,5}$/.test(limit) || n < 1 || n > MAX_EVENT_LIST_LIMIT) throw bad('limit', `an integer 1..${MAX_EVENT_LIST_LIMIT}`, limit);
    q.limit = n;
  }
  return q;
}
