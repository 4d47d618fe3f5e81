import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SegstreamError } from '../../../src/core/index.js';
import { eventRoutes, parseEventQuery, type EventQueryable } from '../../../src/events/routes.js';
import { MAX_EVENT_LIST_LIMIT, type EventQuery } from '../../../src/events/store.js';
import type { RoadEvent } from '../../../src/events/types.js';

const parse = (qs: string): EventQuery => parseEventQuery(new URLSearchParams(qs));

/** The SegstreamError parseEventQuery throws for `qs` (fails the test when it does not throw). */
function refusal(qs: string): SegstreamError {
  try {
    parse(qs);
  } catch (err) {
    if (err instanceof SegstreamError) return err;
    throw err;
  }
  throw new Error(`'${qs}' was accepted`);
}

describe('parseEventQuery', () => {
  it('no parameters: an empty query (the store applies its defaults)', () => {
    expect(parse('')).toEqual({});
  });

  it('takes camera, zone and kind as given; empty values are as if absent', () => {
    expect(parse('camera=cam-1&zone=north%20lane&kind=stopped')).toEqual({ camera: 'cam-1', zone: 'north lane', kind: 'stopped' });
    expect(parse('camera=&zone=&kind=&since=&until=&limit=')).toEqual({});
  });

  it('refuses a text parameter over 64 characters, naming it', () => {
    expect(parse(`camera=${'c'.repeat(64)}`).camera).toHaveLength(64);
    const err = refusal(`zone=${'z'.repeat(65)}`);
    expect(err.code).toBe('E_MSG_INVALID');
    expect(err.message).toContain('zone');
  });

  it('takes every event kind, rule and health, and refuses another', () => {
    for (const kind of ['stopped', 'presence', 'count', 'unknown', 'frozen', 'video_lost', 'obstructed', 'moved']) expect(parse(`kind=${kind}`).kind).toBe(kind);
    const err = refusal('kind=speeding');
    expect(err.message).toContain('kind');
    expect(err.actual).toBe('speeding');
  });

  it('since and until as ms since the epoch or as ISO 8601 times', () => {
    expect(parse('since=1700000000000&until=1700000360000')).toEqual({ since: 1_700_000_000_000, until: 1_700_000_360_000 });
    expect(parse('since=0').since).toBe(0);
    expect(parse('since=2024-03-01T12:00:00Z').since).toBe(Date.UTC(2024, 2, 1, 12));
    expect(parse('since=2024-03-01').since).toBe(Date.UTC(2024, 2, 1));
    expect(parse('since=2024-03-01T12:00:00.123456Z').since).toBe(Date.UTC(2024, 2, 1, 12, 0, 0, 123));
    expect(parse('until=2024-03-01T12:00:00.250%2B01:00').until).toBe(Date.UTC(2024, 2, 1, 11, 0, 0, 250));
  });

  it('refuses a since or until that is neither, naming it', () => {
    for (const [qs, name] of [
      ['since=yesterday', 'since'],
      ['until=12abc', 'until'],
      // Date.parse's legacy forms: these read as dates in 2001.
      ['since=-5', 'since'],
      ['until=hello%201', 'until'],
      ['since=1700000000.5', 'since'],
      ['until=2024-13-45T99:00:00Z', 'until'],
    ] as const) {
      const err = refusal(qs);
      expect(err.code, qs).toBe('E_MSG_INVALID');
      expect(err.message, qs).toContain(name);
    }
  });

  it(`limit: an integer 1..${MAX_EVENT_LIST_LIMIT}`, () => {
    expect(parse('limit=1').limit).toBe(1);
    expect(parse(`limit=${MAX_EVENT_LIST_LIMIT}`).limit).toBe(MAX_EVENT_LIST_LIMIT);
    for (const v of ['0', String(MAX_EVENT_LIST_LIMIT + 1), '2.5', '-1', '1e2', 'ten', '999999']) {
      const err = refusal(`limit=${v}`);
      expect(err.message, v).toContain('limit');
    }
  });

  it('an unknown parameter is refused by its name; the access token is not a filter and is ignored', () => {
    const err = refusal('camera=a&cameras=b');
    expect(err.code).toBe('E_MSG_INVALID');
    expect(err.message).toContain('cameras');
    expect(err.actual).toBe('cameras');
    // The list of what is allowed does not advertise the token.
    expect(String(err.expected)).not.toContain('token');
    expect(parse('token=s3cret&camera=a')).toEqual({ camera: 'a' });
  });
});

function event(id: string, o: Partial<RoadEvent> = {}): RoadEvent {
  return {
    id,
    camera: 'cam',
    zone: 'road',
    rule: 0,
    kind: 'stopped',
    tracks: [3],
    labels: ['car'],
    startedAt: 1000,
    updatedAt: 2000,
    endedAt: null,
    mediaStartS: 1,
    mediaUpdatedS: 2,
    mediaEndS: null,
    snapshot: null,
    ...o,
  };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

describe('eventRoutes over HTTP', () => {
  const events = [event('e1', { snapshot: '/events/e1/snapshot.jpg' }), event('e2', { camera: 'other' }), event('a b/c', {})];
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
  const queries: EventQuery[] = [];
  const history: EventQueryable = {
    list: (q) => {
      queries.push(q);
      return events.filter((e) => q.camera === undefined || e.camera === q.camera).slice(0, q.limit ?? 100);
    },
    get: (id) => events.find((e) => e.id === id),
    snapshot: (id) => (id === 'e1' ? jpeg : undefined),
  };
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    const routes = eventRoutes(history);
    // As the publish server matches them: the raw path, no query.
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const route = routes.find((r) => (r.prefix ? path.startsWith(r.path) : path === r.path));
      if (!route) return void res.writeHead(404).end();
      try {
        route.handle(req, res, path);
      } catch {
        res.writeHead(500).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Sends `path` as it is (no normalisation of its %-encoding). */
  function send(method: string, path: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
  }
  const json = (r: Reply): { events?: RoadEvent[]; event?: RoadEvent; error?: { code: string; message: string } } => JSON.parse(r.body.toString('utf8'));

  it('GET /events lists what the history returns for the parsed query', async () => {
    const r = await send('GET', '/events?camera=cam&limit=5&token=x');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(json(r).events!.map((e) => e.id)).toEqual(['e1', 'a b/c']);
    expect(queries.at(-1)).toEqual({ camera: 'cam', limit: 5 });
    const slash = await send('GET', '/events/');
    expect(json(slash).events).toHaveLength(3);
  });

  it('GET /events with a bad parameter is 400 naming it, and the history is not asked', async () => {
    const before = queries.length;
    const r = await send('GET', '/events?limit=0');
    expect(r.status).toBe(400);
    expect(json(r).error).toMatchObject({ code: 'E_MSG_INVALID' });
    expect(json(r).error!.message).toContain('limit');
    expect(queries).toHaveLength(before);
  });

  it('GET /events/<id> is that event; the id is %-decoded', async () => {
    const r = await send('GET', '/events/e2');
    expect(r.status).toBe(200);
    expect(json(r).event).toEqual(events[1]);
    const encoded = await send('GET', `/events/${encodeURIComponent('a b/c')}`);
    expect(encoded.status).toBe(200);
    expect(json(encoded).event!.id).toBe('a b/c');
  });

  it('an unknown event is 404 E_UNKNOWN_EVENT', async () => {
    for (const path of ['/events/nope', '/events/nope/snapshot.jpg', '/events/e2/snapshot.jpg', '/events/e1/other', `/events/${'x'.repeat(129)}`]) {
      const r = await send('GET', path);
      expect(r.status, path).toBe(404);
      expect(json(r).error!.code, path).toBe('E_UNKNOWN_EVENT');
    }
  });

  it('a malformed %-encoding in the id is 404, not a crash, and the server keeps answering', async () => {
    for (const path of ['/events/%E0%A4%A', '/events/%zz/snapshot.jpg', '/events/%']) {
      const r = await send('GET', path);
      expect(r.status, path).toBe(404);
      expect(json(r).error!.code, path).toBe('E_UNKNOWN_EVENT');
    }
    expect((await send('GET', '/events/e1')).status).toBe(200);
  });

  it('GET /events/<id>/snapshot.jpg is the JPEG with its type and length', async () => {
    const r = await send('GET', '/events/e1/snapshot.jpg');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/jpeg');
    expect(r.headers['content-length']).toBe(String(jpeg.length));
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body.equals(jpeg)).toBe(true);
  });

  it('HEAD answers as GET without a body', async () => {
    const shot = await send('HEAD', '/events/e1/snapshot.jpg');
    expect(shot.status).toBe(200);
    expect(shot.headers['content-length']).toBe(String(jpeg.length));
    expect(shot.body).toHaveLength(0);
    const list = await send('HEAD', '/events');
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toBe('application/json');
    expect(list.body).toHaveLength(0);
    const missing = await send('HEAD', '/events/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toHaveLength(0);
  });

  it('other methods are 405 with Allow: GET, HEAD', async () => {
    for (const method of ['POST', 'DELETE', 'PUT']) {
      const r = await send(method, '/events/e1');
      expect(r.status, method).toBe(405);
      expect(r.headers['allow']).toBe('GET, HEAD');
      expect(json(r).error!.code).toBe('E_MSG_INVALID');
    }
    expect((await send('POST', '/events')).status).toBe(405);
  });
});
