import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { cameraConfig, parseConfig, type ConfigInput } from '../../src/config/index.js';
import { EventStore, type RoadEvent } from '../../src/events/index.js';
import { eventMessageSchema, type EventMessage, type FrameMessage } from '../../src/protocol/index.js';
import { makeClip, makeStillThenMovingClip, VIDEOS } from '../helpers/media.js';
import { TestClient } from '../helpers/wsClient.js';

const MODEL = join(import.meta.dirname, '../../../shared/models/yolov8n-seg-320.onnx');
/** 640x360, 23.976 fps: a multi-lane road seen from above, traffic flowing. */
const ROAD = `${VIDEOS}urban_road_topdown_opencv4nodejs.mp4`;
const ROOT = mkdtempSync(join(tmpdir(), 'segstream-events-'));
const MOVING = join(ROOT, 'moving.mp4');
const PARKED = join(ROOT, 'parked.mp4');
const FPS = 24;
/** The road's frame at 2 s (two cars in full view) held for 15 s (parked cars), then 6 s of its traffic from there. */
const STILL_S = 15;
makeClip(ROAD, MOVING, 8);
makeStillThenMovingClip(ROAD, PARKED, STILL_S * FPS, 6, FPS, 2);
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const VEHICLES = ['car', 'truck', 'bus'];
/** The lower carriageway (below the yellow line), source px. */
const LANES: [number, number][] = [
  [0, 150],
  [640, 150],
  [640, 360],
  [0, 360],
];

function config(extra: Partial<ConfigInput> & { events?: ConfigInput['events'] }, cameras: ConfigInput['cameras']) {
  return parseConfig({
    inference: { model: MODEL, threads: 1 },
    server: { host: '127.0.0.1', port: 0, whep: false },
    ingest: { realtime: false },
    ...extra,
    cameras,
  });
}

const eventsOf = (client: TestClient): EventMessage[] => client.messages.filter((m) => m.type === 'event') as unknown as EventMessage[];
const framesOf = (client: TestClient, camera: string): FrameMessage[] => client.messages.filter((m) => m.type === 'frame' && m['camera'] === camera) as unknown as FrameMessage[];

async function get(app: App, path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${app.address.port}${path}`);
}

/** Waits until the camera's file ended and its last events went out. */
async function untilEnded(client: TestClient, camera: string): Promise<void> {
  await client.next((m) => m.type === 'status' && m['camera'] === camera && m['state'] === 'ended', 110_000);
  await new Promise((r) => setTimeout(r, 300));
}

describe('road events on real footage: zones, rules, snapshots, history', () => {
  let app: App;
  let client: TestClient;
  const db = join(ROOT, 'history', 'events.db');

  beforeAll(async () => {
    app = await startApp(config({ events: { db } }, []));
    client = await TestClient.connect(app.address.port);
    await client.request({ type: 'subscribe', masks: 'rle' }, (m) => m.type === 'subscribed');
    await app.cameras.add(
      cameraConfig(
        {
          id: 'road',
          url: MOVING,
          enabled: true,
          zones: [
            {
              name: 'lanes',
              polygon: LANES,
              rules: [
                { kind: 'presence', classes: VEHICLES, seconds: 1 },
                { kind: 'stopped', classes: VEHICLES, seconds: 3 },
              ],
            },
          ],
        },
        app.config,
        { field: 'camera' },
      ),
    );
    await untilEnded(client, 'road');
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it('every event message is as the protocol says', () => {
    const events = eventsOf(client);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(eventMessageSchema.safeParse(e).success).toBe(true);
  });

  it('presence of vehicles for 1 s fires for tracks that were vehicles in the zone for that second, with their ids and labels', () => {
    const frames = framesOf(client, 'road');
    const starts = eventsOf(client).filter((e) => e.state === 'start' && e.rule === 0);
    expect(starts.length).toBeGreaterThanOrEqual(2);
    for (const e of starts) {
      expect(e).toMatchObject({ camera: 'road', zone: 'lanes', kind: 'presence' });
      expect(e.tracks).toHaveLength(1);
      const track = e.tracks[0]!;
      // The track's own frames up to the event's firing time: a vehicle, for at least 1 s of media time.
      const seen = frames.filter((f) => f.pts / 1000 <= e.mediaUpdatedS + 1e-3).flatMap((f) => f.objects.filter((o) => o.id === track).map((o) => ({ pts: f.pts, o })));
      expect(seen.length).toBeGreaterThan(0);
      expect(VEHICLES).toContain(e.labels[0]);
      expect(seen.at(-1)!.o.label).toBe(e.labels[0]);
      expect(e.mediaUpdatedS - e.mediaStartS).toBeGreaterThanOrEqual(1 - 1e-3);
      expect((seen.at(-1)!.pts - seen[0]!.pts) / 1000).toBeGreaterThanOrEqual(1 - 0.1);
      // In the zone: the box reaches below its top edge.
      expect(seen.at(-1)!.o.box[3]).toBeGreaterThan(150);
    }
  });

  it('each start has a snapshot: a JPEG at the source size (640x360)', async () => {
    const start = eventsOf(client).find((e) => e.state === 'start' && e.rule === 0)!;
    expect(start.snapshot).toBe(`/events/${start.id}/snapshot.jpg`);
    const res = await get(app, start.snapshot!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 640, 360]);
  });

  it('the stopped rule does not fire on moving traffic', () => {
    expect(eventsOf(client).filter((e) => e.rule === 1)).toEqual([]);
  });

  it('every start is ended (a file that ends ends its events), once, after it started, and update messages belong to open events', () => {
    const byId = new Map<string, EventMessage[]>();
    for (const e of eventsOf(client)) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
    for (const [, msgs] of byId) {
      if (msgs[0]!.zone === null) continue; // camera health
      expect(msgs[0]!.state).toBe('start');
      expect(msgs.filter((m) => m.state === 'end')).toHaveLength(1);
      expect(msgs.at(-1)!.state).toBe('end');
      const end = msgs.at(-1)!;
      expect(end.mediaEndS!).toBeGreaterThanOrEqual(end.mediaStartS);
      expect(end.endedAt!).toBeGreaterThanOrEqual(end.startedAt);
    }
  });

  it('GET /events lists them newest first with filters; GET /events/<id> shows one; bad parameters are 400 naming them', async () => {
    const list = (await (await get(app, '/events?camera=road&zone=lanes&kind=presence&limit=1000')).json()) as { events: RoadEvent[] };
    const sent = new Set(eventsOf(client).filter((e) => e.kind === 'presence').map((e) => e.id));
    expect(new Set(list.events.map((e) => e.id))).toEqual(sent);
    const starts = list.events.map((e) => e.startedAt);
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    expect(((await (await get(app, '/events?limit=1')).json()) as { events: RoadEvent[] }).events).toHaveLength(1);
    expect(((await (await get(app, '/events?kind=count')).json()) as { events: RoadEvent[] }).events).toEqual([]);
    const one = list.events[0]!;
    expect(((await (await get(app, `/events/${one.id}`)).json()) as { event: RoadEvent }).event).toEqual(one);
    const missing = await get(app, '/events/no-such-event');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('E_UNKNOWN_EVENT');
    for (const [q, name] of [['limit=0', 'limit'], ['kind=fire', 'kind'], ['since=yesterday', 'since'], ['colour=red', 'colour']] as const) {
      const res = await get(app, `/events?${q}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(name);
    }
  });

  it('PUT /api/cameras/<id>/zones replaces them in place (GET shows them); a bad one is 400 naming the field', async () => {
    const url = `http://127.0.0.1:${app.address.port}/api/cameras/road/zones`;
    const put = (body: unknown) => fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const zones = [{ name: 'shoulder', polygon: [[0, 300], [640, 300], [640, 360], [0, 360]], rules: [{ kind: 'count', classes: ['car'], above: 3, seconds: 10 }] }];
    const ok = await put(zones);
    expect(ok.status).toBe(200);
    expect(((await (await fetch(url)).json()) as { zones: unknown }).zones).toEqual(zones);
    const bad = await put([{ name: 'x', polygon: [[0, 0], [1, 1]], rules: [] }]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('[0].polygon') });
    const dup = await put([...zones, ...zones]);
    expect(((await dup.json()) as { error: { message: string } }).error.message).toContain('[1].name');
    expect((await fetch(`http://127.0.0.1:${app.address.port}/api/cameras/nope/zones`)).status).toBe(404);
    expect(app.cameras.get('road')!.config.zones).toEqual(zones);
  });
});

describe('a parked car (one frame held for 15 s, then traffic) through the stopped rule, and the history across a restart', () => {
  const db = join(ROOT, 'parked', 'events.db');
  let first: EventMessage[] = [];
  let app: App;

  beforeAll(async () => {
    const cams: ConfigInput['cameras'] = [
      { id: 'parked', url: PARKED, zones: [{ name: 'lanes', polygon: LANES, rules: [{ kind: 'stopped', classes: VEHICLES, seconds: 5 }] }] },
    ];
    // Subscribed before the camera opens: the app starts with the camera disabled, then enables it.
    app = await startApp(config({ events: { db } }, [{ ...cams[0]!, enabled: false }]));
    const client = await TestClient.connect(app.address.port);
    await client.request({ type: 'subscribe', masks: 'none' }, (m) => m.type === 'subscribed');
    await fetch(`http://127.0.0.1:${app.address.port}/api/cameras/parked`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true }) });
    await untilEnded(client, 'parked');
    first = eventsOf(client).filter((e) => e.kind === 'stopped');
    client.close();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('fires within its time plus 2 s of the car standing still, and ends once the traffic moves again', () => {
    const starts = first.filter((e) => e.state === 'start');
    expect(starts.length).toBeGreaterThanOrEqual(1);
    const early = starts.filter((e) => e.mediaUpdatedS <= 5 + 2);
    expect(early.length).toBeGreaterThanOrEqual(1);
    for (const e of early) expect(e.mediaUpdatedS - e.mediaStartS).toBeGreaterThanOrEqual(5 - 1e-3);
    // At least one of them ends after the still stretch, once its car drove on (not only at the file's end).
    const ends = first.filter((e) => e.state === 'end' && early.some((s) => s.id === e.id));
    expect(ends.some((e) => e.mediaEndS! > STILL_S - 0.5 && e.mediaEndS! < STILL_S + 6 - 0.5)).toBe(true);
  });

  it('the events are in the history after a restart; retention removes old ones', async () => {
    await app.close();
    // An event that ended 40 days ago, written as an earlier run would have.
    const old = EventStore.open(db);
    const longAgo = Date.now() - 40 * 86_400_000;
    old.upsert({ id: 'old-one', camera: 'parked', zone: 'lanes', rule: 0, kind: 'stopped', tracks: [1], labels: ['car'], startedAt: longAgo, updatedAt: longAgo + 1000, endedAt: longAgo + 1000, mediaStartS: 0, mediaUpdatedS: 1, mediaEndS: 1, snapshot: null });
    expect(old.get('old-one')).toBeDefined();
    old.close();
    app = await startApp(config({ events: { db, maxAgeDays: 30 } }, []));
    const list = (await (await get(app, '/events?camera=parked&kind=stopped&limit=1000')).json()) as { events: RoadEvent[] };
    const ids = new Set(first.map((e) => e.id));
    expect(new Set(list.events.map((e) => e.id))).toEqual(ids);
    for (const e of list.events) expect(e.endedAt).not.toBeNull();
    expect((await get(app, '/events/old-one')).status).toBe(404);
    const withShot = list.events.find((e) => e.snapshot !== null)!;
    expect((await get(app, withShot.snapshot!)).status).toBe(200);
  });
});

interface Received {
  delivery: string;
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
}

function receiver(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('the webhook', () => {
  it('gets each event message once, signed, a 500 retried; a webhook that never answers holds nothing up', async () => {
    const attempts = new Map<string, number>();
    const delivered: Received[] = [];
    const good = await receiver((req, res, body) => {
      const delivery = String(req.headers['x-segstream-delivery']);
      const n = (attempts.get(delivery) ?? 0) + 1;
      attempts.set(delivery, n);
      // Every message fails once first.
      if (n === 1) return void res.writeHead(500).end();
      delivered.push({ delivery, body, signature: req.headers['x-segstream-signature'] as string | undefined, timestamp: req.headers['x-segstream-timestamp'] as string | undefined });
      res.writeHead(204).end();
    });
    const hung: IncomingMessage[] = [];
    const silent = await receiver((req) => void hung.push(req));
    const zones = [{ name: 'lanes', polygon: LANES, rules: [{ kind: 'presence' as const, classes: VEHICLES, seconds: 0.5 }] }];
    const run = async (url: string, extra: object) => {
      const app = await startApp(config({ events: { webhook: { url, ...extra } } }, [{ id: 'road', url: MOVING, enabled: false, zones }]));
      const client = await TestClient.connect(app.address.port);
      await client.request({ type: 'subscribe', masks: 'none' }, (m) => m.type === 'subscribed');
      await fetch(`http://127.0.0.1:${app.address.port}/api/cameras/road`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true }) });
      await untilEnded(client, 'road');
      return { app, client };
    };
    try {
      const secret = 's3cret-key';
      const a = await run(`http://127.0.0.1:${(good.address() as AddressInfo).port}/hook`, { secret });
      const sent = eventsOf(a.client);
      expect(sent.length).toBeGreaterThan(2);
      // Retries take at least the backoff: wait for the receiver to have them all.
      const deadline = Date.now() + 30_000;
      while (delivered.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      a.client.close();
      await a.app.close();
      const keyOf = (m: { id: string; state: string }) => `${m.id}/${m.state}`;
      expect(delivered.map((d) => keyOf(JSON.parse(d.body) as EventMessage)).sort()).toEqual(sent.map(keyOf).sort());
      expect(new Set(delivered.map((d) => d.delivery)).size).toBe(delivered.length);
      for (const d of delivered) {
        expect(attempts.get(d.delivery)).toBe(2);
        expect(d.signature).toBe(`sha256=${createHmac('sha256', secret).update(`${d.timestamp}.${d.body}`).digest('hex')}`);
        expect(eventMessageSchema.safeParse(JSON.parse(d.body)).success).toBe(true);
      }

      const b = await run(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`, { maxQueue: 2, timeoutMs: 600_000 });
      // Every frame of the file went through (read as fast as possible: none dropped), and every event went out on the WebSocket.
      const frames = framesOf(b.client, 'road');
      expect(frames.map((f) => f.seq)).toEqual([...frames.keys()]);
      expect(frames.length).toBeGreaterThan(8 * FPS - 5);
      const events = eventsOf(b.client);
      expect(events.length).toBeGreaterThan(2);
      // One request hangs; the queue held at most 2 and counted the rest as dropped.
      expect(hung.length).toBe(1);
      const metrics = await (await fetch(`http://127.0.0.1:${b.app.address.port}/metrics`)).text();
      const dropped = Number(/segstream_webhook_messages_total\{result="dropped",reason=""\} (\d+)/.exec(metrics)?.[1] ?? 0);
      expect(dropped).toBe(events.length - 1 - 2);
      b.client.close();
      await b.app.close();
    } finally {
      good.close();
      for (const r of hung) r.socket.destroy();
      silent.close();
    }
  });
});
