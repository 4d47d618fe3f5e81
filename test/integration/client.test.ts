import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type HelloMessage, type SegstreamClient, type StateChange } from '../../src/client/index.js';
import { SegstreamError } from '../../src/core/index.js';
import { createMetrics } from '../../src/metrics.js';
import { DEFAULT_PUBLISH_OPTIONS, PublishServer } from '../../src/publish/index.js';

const HELLO: HelloMessage = { type: 'hello', protocol: 1, model: { file: 'm.onnx', classes: ['person', 'car'], input: [320, 320] }, inference: { device: 'cpu', requested: ['cpu'], unavailable: [] }, cameras: [
    { id: 'cam0', kind: 'rtsp', url: 'rtsp://h/s', enabled: true, state: 'streaming', width: 640, height: 480, fps: 30, restarts: 0, framesRead: 10, framesProcessed: 9, framesDropped: 1, framesGated: 0, frameAgeS: 0.1, origin: 'config' },
  ],
  offers: { masks: ['rle', 'polygons', 'none'], jpeg: false, whep: false },
};

interface Conn {
  ws: ServerSocket;
  url: string;
  received: Record<string, unknown>[];
}

/** A WebSocket server the test drives: it greets, records what clients send, and answers as told. */
class ScriptedServer {
  readonly conns: Conn[] = [];
  constructor(
    readonly wss: WebSocketServer,
    private readonly onMessage: (c: Conn, m: Record<string, unknown>) => void = () => {},
  ) {
    wss.on('connection', (ws, req) => {
      const c: Conn = { ws, url: req.url ?? '', received: [] };
      this.conns.push(c);
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as Record<string, unknown>;
        c.received.push(m);
        this.onMessage(c, m);
      });
      ws.send(JSON.stringify(HELLO));
    });
  }
  static async start(onMessage?: (c: Conn, m: Record<string, unknown>) => void, port = 0): Promise<ScriptedServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise((r) => wss.once('listening', r));
    return new ScriptedServer(wss, onMessage);
  }
  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }
  /** Resolves once `pred` holds (checked every 5 ms). */
  until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred()) resolve();
        else if (Date.now() > deadline) reject(new Error('timed out'));
        else setTimeout(check, 5);
      };
      check();
    });
  }
  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((r) => this.wss.close(() => r()));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let server: ScriptedServer | undefined;
let client: SegstreamClient | undefined;
let publish: PublishServer | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await server?.close();
  server = undefined;
  await publish?.close();
  publish = undefined;
});

describe('segstream/client against a WebSocket server the test controls (ws)', () => {
  it('connects with the token in the query, becomes open on hello and keeps the cameras', async () => {
    server = await ScriptedServer.start();
    client = connect({ url: `http://127.0.0.1:${server.port}`, token: 'a b&c', WebSocket });
    expect(client.state).toBe('connecting');
    const hello = await client.ready();
    expect(hello.model.classes).toEqual(['person', 'car']);
    expect(client.state).toBe('open');
    expect(server.conns[0]!.url).toBe('/ws?token=a+b%26c');
    expect([...client.cameras.keys()]).toEqual(['cam0']);
    server.conns[0]!.ws.send(JSON.stringify({ type: 'status', camera: 'cam0', state: 'reconnecting', restarts: 1, error: { code: 'E_SOURCE_FAILED', message: 'x' } }));
    server.conns[0]!.ws.send(JSON.stringify({ type: 'status', camera: 'cam1', state: 'connecting', restarts: 0 }));
    await new Promise<void>((r) => client!.on('status', (m) => m.camera === 'cam1' && r()));
    expect(client.cameras.get('cam0')).toMatchObject({ id: 'cam0', state: 'reconnecting', width: 640, error: { code: 'E_SOURCE_FAILED' } });
    expect(client.cameras.get('cam1')).toEqual({ id: 'cam1', state: 'connecting', restarts: 0 });
    server.conns[0]!.ws.send(JSON.stringify({ type: 'status', camera: 'cam0', state: 'removed', restarts: 1 }));
    await new Promise<void>((r) => client!.on('status', () => r()));
    expect([...client.cameras.keys()]).toEqual(['cam1']);
  });

  it('pairs prompt replies by id when the server answers them in reverse order, and rejects on an error reply with its code', async () => {
    const held: Conn[] = [];
    server = await ScriptedServer.start((c, m) => {
      if (m['type'] === 'prompt') held.push(c);
    });
    client = connect({ url: `ws://127.0.0.1:${server.port}/ws`, WebSocket });
    const a = client.prompt({ camera: 'cam0', box: [1, 2, 30, 40] });
    const b = client.prompt({ camera: 'cam0', points: [[5, 6, 1], [7, 8, 0]] });
    const c = client.clear('cam0', 3);
    await server.until(() => server!.conns[0]?.received.length === 3);
    const [ma, mb, mc] = server.conns[0]!.received;
    expect(ma).toEqual({ type: 'prompt', camera: 'cam0', box: [1, 2, 30, 40], id: ma!['id'] });
    expect(mb).toMatchObject({ type: 'prompt', points: [[5, 6, 1], [7, 8, 0]] });
    expect(mc).toEqual({ type: 'prompt.clear', camera: 'cam0', target: 3, id: mc!['id'] });
    expect(new Set([ma!['id'], mb!['id'], mc!['id']]).size).toBe(3);
    const ws = server.conns[0]!.ws;
    ws.send(JSON.stringify({ type: 'error', code: 'E_UNKNOWN_TARGET', message: 'no target 3', id: mc!['id'] }));
    ws.send(JSON.stringify({ type: 'prompt.ok', camera: 'cam0', target: 2, tracks: [9], method: 'points', seq: 5, id: mb!['id'] }));
    ws.send(JSON.stringify({ type: 'prompt.ok', camera: 'cam0', target: 1, tracks: [7], method: 'box', seq: 5, id: ma!['id'] }));
    expect((await a).target).toBe(1);
    expect((await b).target).toBe(2);
    await expect(c).rejects.toMatchObject({ name: 'SegstreamClientError', code: 'E_UNKNOWN_TARGET', message: 'no target 3' });
  });

  it('rejects a request without reply after requestTimeoutMs (E_TIMEOUT), and requests in flight when the connection drops (E_CONNECTION_LOST)', async () => {
    server = await ScriptedServer.start();
    client = connect({ url: `ws://127.0.0.1:${server.port}/ws`, WebSocket, requestTimeoutMs: 300, reconnect: { minDelayMs: 50, maxDelayMs: 50 } });
    await client.ready();
    const t0 = Date.now();
    await expect(client.ping()).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    const p = client.prompt({ camera: 'cam0', text: 'car' });
    await server.until(() => server!.conns[0]?.received.length === 2);
    server.conns[0]!.ws.terminate();
    await expect(p).rejects.toMatchObject({ code: 'E_CONNECTION_LOST' });
  });

  it('reconnects after the server drops it, says so, re-sends its subscription and serves requests made while it was away', async () => {
    server = await ScriptedServer.start((c, m) => {
      if (m['type'] === 'ping') c.ws.send(JSON.stringify({ type: 'pong', id: m['id'], time: 1 }));
      if (m['type'] === 'subscribe') c.ws.send(JSON.stringify({ type: 'subscribed', cameras: m['cameras'] }));
    });
    const states: StateChange[] = [];
    client = connect({ url: `ws://127.0.0.1:${server.port}/ws`, WebSocket, cameras: ['cam0'], reconnect: { minDelayMs: 100, maxDelayMs: 100, jitter: 0 } });
    client.on('state', (s) => states.push(s));
    let hellos = 0;
    client.on('hello', () => hellos++);
    await server.until(() => server!.conns[0]?.received.length === 1);
    expect(server.conns[0]!.received).toEqual([{ type: 'subscribe', cameras: ['cam0'] }]);
    server.conns[0]!.ws.close(1001, 'server shutting down');
    await server.until(() => client!.state === 'reconnecting');
    const ping = client.ping(); // waits for the connection
    await server.until(() => server!.conns.length === 2 && server!.conns[1]!.received.length === 2);
    expect(server.conns[1]!.received.map((m) => m['type'])).toEqual(['subscribe', 'ping']);
    expect((await ping).type).toBe('pong');
    expect(hellos).toBe(2);
    expect(states.map((s) => s.state)).toEqual(['open', 'reconnecting', 'open']);
    expect(states[1]).toEqual({ state: 'reconnecting', attempt: 1, delayMs: 100, code: 1001, reason: 'server shutting down' });
  });

  it('backs off while the server is down: growing, jittered waits bounded by maxDelayMs; reconnects once it is back; close() stops for good', async () => {
    server = await ScriptedServer.start();
    const port = server.port;
    const states: StateChange[] = [];
    client = connect({ url: `ws://127.0.0.1:${port}/ws`, WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 160, factor: 2, jitter: 0.5 } });
    client.on('state', (s) => states.push(s));
    await client.ready();
    await server.close();
    await sleep(1500);
    const waits = states.filter((s) => s.state === 'reconnecting');
    expect(waits.length).toBeGreaterThanOrEqual(6);
    waits.forEach((s, i) => {
      const base = Math.min(160, 20 * 2 ** i);
      expect(s.attempt).toBe(i + 1);
      expect(s.delayMs).toBeGreaterThanOrEqual(base / 2);
      expect(s.delayMs).toBeLessThanOrEqual(base);
    });
    server = await ScriptedServer.start(undefined, port);
    await server.until(() => client!.state === 'open', 2000);
    expect(client.state).toBe('open');
    // The counter starts over after a connection opened.
    server.conns[0]!.ws.terminate();
    await server.until(() => client!.state === 'reconnecting');
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 1 });
    client.close();
    client.close();
    const count = server.conns.length;
    await sleep(400);
    expect(server.conns.length).toBe(count);
    expect(client.state).toBe('closed');
    await expect(client.ping()).rejects.toMatchObject({ code: 'E_CLIENT_CLOSED' });
  });

  it('close() while connecting rejects waiting requests with E_CLIENT_CLOSED and ends message iterators', async () => {
    server = await ScriptedServer.start();
    client = connect({ url: `ws://127.0.0.1:${server.port}/ws`, WebSocket });
    const it = client.messages('frame');
    const waiting = client.prompt({ camera: 'cam0', text: 'car' });
    client.close();
    await expect(waiting).rejects.toMatchObject({ code: 'E_CLIENT_CLOSED' });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('messages(types) iterates only those types, across messages of others; malformed messages are counted and skipped', async () => {
    server = await ScriptedServer.start();
    client = connect({ url: `ws://127.0.0.1:${server.port}/ws`, WebSocket });
    await client.ready();
    const ws = server.conns[0]!.ws;
    const frame = (seq: number) => JSON.stringify({ type: 'frame', camera: 'cam0', seq, pts: seq, timestamp: 0, width: 4, height: 4, dropped: 0, latencyMs: 1, objects: [] });
    ws.send(frame(1));
    ws.send('not json');
    ws.send('{"type":"nope"}');
    ws.send(JSON.stringify({ type: 'target.ended', camera: 'cam0', target: 1, reason: 'lost' }));
    ws.send(frame(2));
    const seqs: number[] = [];
    for await (const m of client.messages('frame', 'target.ended')) {
      seqs.push(m.type === 'frame' ? m.seq : -m.target);
      if (seqs.length === 3) break;
    }
    // The iterator was made after frame 1 may have arrived: it sees what came after it.
    expect(seqs.slice(-2)).toEqual([-1, 2]);
    expect(client.malformed).toBe(2);
  });

  it("emits road events as 'event' (the message's own type), with every field as sent", async () => {
    server = await ScriptedServer.start();
    client = connect({ url: `ws://127.0.0.1:${server.port}/ws`, WebSocket });
    await client.ready();
    const sent = { type: 'event', state: 'start', id: 'e1', camera: 'cam0', zone: 'lane 1', rule: 0, kind: 'presence', tracks: [3], labels: ['car'], startedAt: 1000, updatedAt: 2000, endedAt: null, mediaStartS: 1, mediaUpdatedS: 2, mediaEndS: null, snapshot: '/events/e1/snapshot.jpg' };
    const got = new Promise((r) => client!.on('event', r));
    server.conns[0]!.ws.send(JSON.stringify(sent));
    expect(await got).toEqual(sent);
    expect(client.malformed).toBe(0);
  });

  it('a throwing listener does not stop the other listeners or the client', async () => {
    server = await ScriptedServer.start();
    client = connect({ url: `ws://127.0.0.1:${server.port}/ws`, WebSocket });
    const errors: unknown[] = [];
    const orig = console.error;
    console.error = (e: unknown) => errors.push(e);
    try {
      client.on('hello', () => {
        throw new Error('listener bug');
      });
      const second = new Promise<HelloMessage>((r) => client!.on('hello', r));
      expect((await second).type).toBe('hello');
      expect(client.state).toBe('open');
      expect(errors).toHaveLength(1);
    } finally {
      console.error = orig;
    }
  });
});

describe('segstream/client against PublishServer (the real WebSocket server, a scripted prompt handler)', () => {
  it('rejects a prompt with the code of the error reply, which echoes the prompt id; resolves the next one', async () => {
    let calls = 0;
    publish = new PublishServer(
      { ...DEFAULT_PUBLISH_OPTIONS, host: '127.0.0.1', port: 0 },
      {
        hello: () => ({ model: { file: 'm', classes: [], input: [320, 320] }, cameras: [] }),
        health: () => ({ ok: true }),
        cameraIds: () => ['cam0'],
        handlers: {
          prompt: async (m) => {
            const call = ++calls;
            if (call === 1) throw new SegstreamError('E_PROMPT_NO_MATCH', 'nothing under the prompt');
            // Slow: the error of the third prompt comes back first.
            if (call === 2) await sleep(200);
            if (call === 3) throw new TypeError('a bug');
            return { type: 'prompt.ok', camera: 'cam0', target: 1, tracks: [4], method: 'box', seq: 1, id: (m as { id: number }).id };
          },
        },
      },
      createMetrics(),
    );
    const { port } = await publish.listen();
    client = connect({ url: `ws://127.0.0.1:${port}/ws`, WebSocket });
    await expect(client.prompt({ camera: 'cam0', box: [0, 0, 5, 5] })).rejects.toMatchObject({ code: 'E_PROMPT_NO_MATCH', message: 'nothing under the prompt' });
    const slow = client.prompt({ camera: 'cam0', box: [0, 0, 5, 5] });
    const broken = client.prompt({ camera: 'cam0', box: [0, 0, 5, 5] });
    await expect(broken).rejects.toMatchObject({ code: 'E_INTERNAL' });
    expect((await slow).tracks).toEqual([4]);
    // Invalid messages (built by hand) get their id echoed too.
    const raw = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const replies: Record<string, unknown>[] = [];
    raw.on('message', (d) => replies.push(JSON.parse(String(d)) as Record<string, unknown>));
    await new Promise((r) => raw.once('open', r));
    raw.send('{"type":"ping","id":"p1","extra":1}');
    raw.send('{"type":"bogus","id":42}');
    raw.send('{"type":"ping","id":{"not":"an id"},"extra":1}');
    await new Promise<void>((r) => {
      const check = (): void => (replies.length >= 4 ? r() : void setTimeout(check, 10));
      check();
    });
    expect(replies.slice(1).map((m) => [m['code'], m['id']])).toEqual([
      ['E_MSG_INVALID', 'p1'],
      ['E_MSG_UNKNOWN_TYPE', 42],
      ['E_MSG_INVALID', undefined],
    ]);
    raw.close();
  });
});
