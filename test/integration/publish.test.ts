import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { CameraTargets } from '../../src/cameraTargets.js';
import type { Logger } from '../../src/core/index.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { DEFAULT_PUBLISH_OPTIONS, PublishServer, type ServiceView } from '../../src/publish/index.js';
import { TestClient, type Msg } from '../helpers/wsClient.js';

const view = { hello: () => ({ cameras: [] }), health: () => ({ ok: true }), cameraIds: () => ['cam0'] };
let server: PublishServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function connect(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise((resolve, reject) => {
    ws.once('message', resolve); // hello
    ws.once('error', reject);
  });
  return ws;
}

describe('PublishServer with real sockets', () => {
  it('disconnects a client that stopped reading while another client receives every frame', async () => {
    const metrics = createMetrics();
    server = new PublishServer({ ...DEFAULT_PUBLISH_OPTIONS, host: '127.0.0.1', port: 0, maxBufferedBytes: 256 * 1024, slowClientTimeoutMs: 300 }, view, metrics);
    const { port } = await server.listen();
    const reader = await connect(port);
    const stalled = await connect(port);
    // Stop reading at the TCP level: the server's send buffer fills up.
    (stalled as unknown as { _socket: Socket })._socket.pause();
    let received = 0;
    reader.on('message', () => received++);

    const payload = JSON.stringify({ type: 'frame', camera: 'cam0', blob: 'x'.repeat(512 * 1024) });
    let sent = 0;
    const deadline = Date.now() + 20_000;
    while (server.clientCount > 1 && Date.now() < deadline) {
      server.publishFrame('cam0', payload);
      sent++;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(server.clientCount).toBe(1);
    const skipped = Number((await metrics.registry.getSingleMetricAsString('segstream_ws_messages_skipped_total')).match(/ (\d+)$/m)?.[1]);
    expect(skipped).toBeGreaterThan(0);
    const slow = await metrics.registry.getSingleMetricAsString('segstream_client_errors_total');
    expect(slow).toContain('code="E_CLIENT_SLOW"} 1');
    await new Promise<void>((resolve) => {
      const check = (): void => (received >= sent ? resolve() : void setTimeout(check, 20));
      check();
    });
    expect(received).toBe(sent);
    reader.close();
    stalled.terminate();
  });

  it('closes a connection that sends a frame over the hard payload limit with 1009', async () => {
    server = new PublishServer({ ...DEFAULT_PUBLISH_OPTIONS, host: '127.0.0.1', port: 0, maxPayloadBytes: 64 * 1024 }, view, createMetrics());
    const { port } = await server.listen();
    const ws = await connect(port);
    const other = await connect(port);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(100 * 1024));
    expect(await closed).toBe(1009);
    // The other client is untouched.
    const pong = new Promise<string>((resolve) => other.once('message', (d) => resolve(String(d))));
    other.send(JSON.stringify({ type: 'ping', id: 1 }));
    expect(JSON.parse(await pong)).toMatchObject({ type: 'pong', id: 1 });
    other.close();
  });

  it('answers /healthz with 200 and unknown paths with 404, and refuses WebSockets off /ws', async () => {
    server = new PublishServer({ ...DEFAULT_PUBLISH_OPTIONS, host: '127.0.0.1', port: 0 }, view, createMetrics());
    const { port } = await server.listen();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
    await expect(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))).rejects.toThrow(/404/);
  });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds; fails after `ms` (a bound for a hung test, not a speed check). */
async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

async function counter(metrics: Metrics, name: string, labels = ''): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** A pino logger whose JSON lines are kept, parsed. */
function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

/** Sends `text` and waits for the next error (or any reply of `types`) that arrives after it. */
async function reply(c: TestClient, text: string | Buffer, types = ['error', 'pong', 'subscribed', 'prompt.ok', 'prompt.cleared']): Promise<Msg> {
  const before = c.messages.length;
  c.ws.send(text);
  return c.next((m) => types.includes(m.type) && c.messages.indexOf(m) >= before);
}

const LOCAL = { ...DEFAULT_PUBLISH_OPTIONS, host: '127.0.0.1', port: 0 };

describe('PublishServer hardening (issue 6)', () => {
  const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('answers a ping whose id nests 5,000 arrays deep with E_MSG_INVALID and keeps serving', async () => {
    server = new PublishServer(LOCAL, view, createMetrics());
    const { port } = await server.listen();
    const c = await TestClient.connect(port);
    const text = `{"type":"ping","id":${deep(5000)}}`;
    expect(text.length).toBeLessThan(DEFAULT_PUBLISH_OPTIONS.maxMessageBytes);
    const err = await reply(c, text);
    expect(err).toMatchObject({ type: 'error', code: 'E_MSG_INVALID', expected: '<= 32 levels' });
    expect(JSON.stringify(err).length).toBeLessThan(300);
    expect(await reply(c, JSON.stringify({ type: 'ping', id: 1 }))).toMatchObject({ type: 'pong', id: 1 });
    c.close();
  });

  it.each([
    ['ping.id', (d: string) => `{"type":"ping","id":${d}}`],
    ['subscribe.cameras', (d: string) => `{"type":"subscribe","cameras":${d}}`],
    ['prompt.id', (d: string) => `{"type":"prompt","camera":"cam0","box":[1,1,2,2],"id":${d}}`],
    ['prompt.clear.target', (d: string) => `{"type":"prompt.clear","camera":"cam0","target":${d}}`],
  ])('with the depth limit lifted, %s nested 5,000 deep still gets a short flat error (validation never echoes it)', async (_field, message) => {
    const targets = new CameraTargets(['cam0'], {}, ['car']);
    const v: ServiceView = { ...view, handlers: { prompt: (m) => targets.handle(m), 'prompt.clear': (m) => targets.handle(m) } };
    server = new PublishServer({ ...LOCAL, maxMessageDepth: 100_000 }, v, createMetrics());
    const { port } = await server.listen();
    const c = await TestClient.connect(port);
    for (const d of [deep(5000), deep(20), `{"a":${deep(30)}}`]) {
      const err = await reply(c, message(d));
      expect(['E_MSG_INVALID', 'E_PROMPT_INVALID']).toContain(err['code']);
      expect(JSON.stringify(err).length).toBeLessThan(400);
      expect(['array of 1', 'object with 1 keys']).toContain(err['actual']);
    }
    expect(await reply(c, JSON.stringify({ type: 'ping', id: 2 }))).toMatchObject({ type: 'pong', id: 2 });
    c.close();
  });

  it('names a few unknown cameras of a subscribe, each cut short, instead of echoing all of them', async () => {
    server = new PublishServer(LOCAL, view, createMetrics());
    const { port } = await server.listen();
    const c = await TestClient.connect(port);
    const ids = Array.from({ length: 200 }, (_, i) => `${String(i).padStart(3, '0')}${'x'.repeat(61)}`);
    const text = JSON.stringify({ type: 'subscribe', cameras: ids });
    expect(text.length).toBeLessThan(DEFAULT_PUBLISH_OPTIONS.maxMessageBytes);
    const err = await reply(c, text);
    expect(err).toMatchObject({ code: 'E_UNKNOWN_CAMERA', actual: 'array of 200' });
    expect(err['message']).toContain('and 192 more');
    expect(JSON.stringify(err).length).toBeLessThan(1000);
    c.close();
  });

  it('answers Object.prototype names as message types with E_MSG_UNKNOWN_TYPE and never echoes the message', async () => {
    const v: ServiceView = { ...view, handlers: { prompt: () => ({ type: 'prompt.ok' }) } };
    server = new PublishServer(LOCAL, v, createMetrics());
    const { port } = await server.listen();
    const c = await TestClient.connect(port);
    for (const type of ['constructor', 'hasOwnProperty', 'toString', 'valueOf', '__proto__', '__defineGetter__', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString']) {
      const err = await reply(c, JSON.stringify({ type }), ['error', type]);
      expect(err, type).toMatchObject({ type: 'error', code: 'E_MSG_UNKNOWN_TYPE', actual: type, expected: ['ping', 'subscribe', 'prompt'] });
    }
    // A "type" inherited through an own __proto__ key is no type.
    expect(await reply(c, '{"__proto__":{"type":"ping"}}')).toMatchObject({ code: 'E_MSG_UNKNOWN_TYPE', message: 'message has no type' });
    expect(await reply(c, '{"type":"ping","__proto__":{"id":1}}')).toMatchObject({ code: 'E_MSG_INVALID', actual: ['__proto__'] });
    expect(c.messages.filter((m) => m.type !== 'hello' && m.type !== 'error')).toEqual([]);
    c.close();
  });

  it('turns whatever a handler throws into E_INTERNAL, logs it with its stack, and keeps serving', async () => {
    const { log, lines } = capturingLogger();
    const handlers = new Map<string, (m: unknown) => Promise<Record<string, unknown>> | Record<string, unknown>>([
      ['sync', () => { throw new TypeError('sync bug'); }],
      ['async', () => Promise.reject(new RangeError('async bug'))],
      ['bigint', () => ({ type: 'x', n: 1n })],
      ['throwsString', () => { throw 'not an Error'; }],
    ]);
    const metrics = createMetrics();
    server = new PublishServer(LOCAL, { ...view, handlers }, metrics, log);
    const { port } = await server.listen();
    const c = await TestClient.connect(port);
    for (const type of handlers.keys()) {
      expect(await reply(c, JSON.stringify({ type })), type).toMatchObject({ type: 'error', code: 'E_INTERNAL' });
    }
    expect(await reply(c, JSON.stringify({ type: 'ping', id: 3 }))).toMatchObject({ type: 'pong', id: 3 });
    const errors = lines.filter((l) => l['level'] === 50);
    expect(errors.map((l) => (l['err'] as { message?: string } | undefined)?.message)).toEqual(expect.arrayContaining(['sync bug', 'async bug']));
    expect(errors.some((l) => String((l['err'] as { stack?: string }).stack).includes('TypeError: sync bug'))).toBe(true);
    expect(await counter(metrics, 'segstream_client_errors_total', '{code="E_INTERNAL"}')).toBe(4);
    c.close();
  });

  it('a slow client that reads again within the close grace gets every message sent before the drop, then close 1008 E_CLIENT_SLOW', async () => {
    const metrics = createMetrics();
    server = new PublishServer({ ...LOCAL, maxBufferedBytes: 256 * 1024, slowClientTimeoutMs: 200, slowClientCloseGraceMs: 60_000 }, view, metrics);
    const { port } = await server.listen();
    const ws = await connect(port);
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const received: number[] = [];
    ws.on('message', (d) => received.push((JSON.parse(String(d)) as { n: number }).n));
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    const blob = 'x'.repeat(128 * 1024);
    let n = 0;
    while (server.clientCount > 0) {
      if (n > 20_000) throw new Error('the paused client was never dropped');
      server.publishFrame('cam0', JSON.stringify({ type: 'frame', camera: 'cam0', n: n++, blob }));
      await sleep(5);
    }
    // Dropped, still closing: nothing more is sent to it.
    expect(server.connectionCount).toBe(1);
    for (let i = 0; i < 5; i++) server.publishFrame('cam0', JSON.stringify({ type: 'frame', camera: 'cam0', n: n + i, blob }));
    server.broadcast({ type: 'status', n: -1 });
    const skipped = await counter(metrics, 'segstream_ws_messages_skipped_total');
    expect(skipped).toBeGreaterThan(0);
    socket.resume();
    const [code, reason] = await closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/^E_CLIENT_SLOW/);
    // Every message the server did not skip, in order, and nothing sent after the drop.
    expect(received).toHaveLength(n - skipped);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect(Math.max(...received)).toBeLessThan(n);
    await until(() => server!.connectionCount === 0, 'the closed socket is gone');
  });

  it('a slow client that never reads again is destroyed when the close grace ends (it cannot see 1008)', async () => {
    server = new PublishServer({ ...LOCAL, maxBufferedBytes: 64 * 1024, slowClientTimeoutMs: 100, slowClientCloseGraceMs: 300 }, view, createMetrics());
    const { port } = await server.listen();
    const ws = await connect(port);
    (ws as unknown as { _socket: Socket })._socket.pause();
    const blob = 'x'.repeat(256 * 1024);
    for (let i = 0; server.clientCount > 0; i++) {
      if (i > 20_000) throw new Error('the paused client was never dropped');
      server.publishFrame('cam0', JSON.stringify({ type: 'frame', blob }));
      await sleep(5);
    }
    expect(server.connectionCount).toBe(1);
    await until(() => server!.connectionCount === 0, 'the grace ends and the socket is destroyed');
    ws.terminate();
  });

  it('refuses connections over maxClients with HTTP 503 and a JSON E_TOO_MANY_CLIENTS body, and accepts again when one leaves', async () => {
    const metrics = createMetrics();
    server = new PublishServer({ ...LOCAL, maxClients: 2 }, view, metrics);
    const { port } = await server.listen();
    const a = await connect(port);
    const b = await connect(port);
    const refused = await new Promise<{ status: number | undefined; type: string | undefined; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.on('open', () => reject(new Error('a third client was accepted')));
      ws.on('error', () => undefined);
      ws.on('unexpected-response', (req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode, type: res.headers['content-type'], body });
          req.destroy();
        });
      });
    });
    expect(refused.status).toBe(503);
    expect(refused.type).toBe('application/json');
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'E_TOO_MANY_CLIENTS', message: expect.stringContaining('2'), expected: '<= 2 connections' });
    expect(await counter(metrics, 'segstream_client_errors_total', '{code="E_TOO_MANY_CLIENTS"}')).toBe(1);
    expect(server.connectionCount).toBe(2);
    a.close();
    await until(() => server!.connectionCount === 1, 'the first client is gone');
    const c = await connect(port);
    expect(server.connectionCount).toBe(2);
    b.close();
    c.close();
  });

  it('logs the first 5 rejections of a client one by one and the rest as one summary with counts by code; the metric counts all', async () => {
    const { log, lines } = capturingLogger();
    const metrics = createMetrics();
    server = new PublishServer({ ...LOCAL, rejectLogIntervalMs: 3_600_000 }, view, metrics, log);
    const { port } = await server.listen();
    const c = await TestClient.connect(port);
    const bad = ['not json', '{"type":"nope"}', '{"type":"ping","id":[]}'];
    const N = 3000;
    for (let i = 0; i < N; i++) c.ws.send(bad[i % 3]!);
    await until(() => c.messages.filter((m) => m.type === 'error').length === N, `${N} error replies arrived`);
    const rejected = lines.filter((l) => l['msg'] === 'rejected client message');
    expect(rejected).toHaveLength(5);
    expect(rejected.every((l) => l['level'] === 30)).toBe(true);
    c.close();
    await until(() => lines.some((l) => l['msg'] === 'websocket client disconnected'), 'the server saw the close');
    const summaries = lines.filter((l) => String(l['msg']).includes('(summary)'));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ total: N - 5, suppressed: { E_MSG_NOT_JSON: N / 3 - 2, E_MSG_UNKNOWN_TYPE: N / 3 - 2, E_MSG_INVALID: N / 3 - 1 } });
    expect(lines.length).toBeLessThan(12);
    const counted = await Promise.all(['E_MSG_NOT_JSON', 'E_MSG_UNKNOWN_TYPE', 'E_MSG_INVALID'].map((code) => counter(metrics, 'segstream_client_errors_total', `{code="${code}"}`)));
    expect(counted).toEqual([N / 3, N / 3, N / 3]);
  });

  it('summarises a client that went quiet once its log window ends, while it stays connected', async () => {
    const { log, lines } = capturingLogger();
    server = new PublishServer({ ...LOCAL, rejectLogBurst: 1, rejectLogIntervalMs: 200 }, view, createMetrics(), log);
    const { port } = await server.listen();
    const c = await TestClient.connect(port);
    for (let i = 0; i < 50; i++) c.ws.send('{');
    await until(() => c.messages.filter((m) => m.type === 'error').length === 50, '50 error replies arrived');
    await until(() => lines.some((l) => String(l['msg']).includes('(summary)')), 'a summary line');
    expect(lines.find((l) => String(l['msg']).includes('(summary)'))).toMatchObject({ total: 49, suppressed: { E_MSG_NOT_JSON: 49 } });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.close();
  });

  it('answers /healthz with 200 while it serves and /readyz with 200 or 503 and the view\'s JSON', async () => {
    let ok = false;
    server = new PublishServer(LOCAL, { ...view, ready: () => ({ ok, workers: ok ? 1 : 0 }) }, createMetrics());
    const { port } = await server.listen();
    const get = async (path: string): Promise<[number, unknown]> => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return [res.status, await res.json()];
    };
    expect(await get('/healthz')).toEqual([200, { ok: true }]);
    expect(await get('/readyz')).toEqual([503, { ok: false, workers: 0 }]);
    ok = true;
    expect(await get('/readyz')).toEqual([200, { ok: true, workers: 1 }]);
  });

  it('answers /readyz with 200 when the view reports no readiness', async () => {
    server = new PublishServer(LOCAL, view, createMetrics());
    const { port } = await server.listen();
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect([res.status, await res.json()]).toEqual([200, { ok: true }]);
  });

  it('rejects bad options with TypeError naming the option', () => {
    expect(() => new PublishServer({ ...LOCAL, maxClients: 0 }, view, createMetrics())).toThrow(/maxClients/);
    expect(() => new PublishServer({ ...LOCAL, maxMessageDepth: 1.5 }, view, createMetrics())).toThrow(TypeError);
  });
});
