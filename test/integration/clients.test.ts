import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { DEFAULT_PUBLISH_OPTIONS, PublishServer, type FramePayload, type MaskFormat } from '../../src/publish/index.js';
import { sleep, waitUntil } from '../helpers/processes.js';

const view = { hello: () => ({ cameras: [] }), health: () => ({ ok: true }), cameraIds: () => ['cam0'] };
const LOCAL = { ...DEFAULT_PUBLISH_OPTIONS, host: '127.0.0.1', port: 0 };
let server: PublishServer | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await server?.close();
  server = undefined;
});

/** Opens a client and resolves with it and its hello. */
async function connect(port: number, options: { autoPong?: boolean } = {}): Promise<{ ws: WebSocket; messages: Record<string, unknown>[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, options);
  sockets.push(ws);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise((resolve, reject) => {
    ws.once('message', resolve);
    ws.once('error', reject);
  });
  return { ws, messages };
}

async function counter(metrics: Metrics, name: string): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  return Number(text.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1] ?? 0);
}

describe('PublishServer subscriptions and per-client counters', () => {
  it('each client gets its own clientDropped: the messages it missed while it did not read, none for a reader', async () => {
    const metrics = createMetrics();
    // Never dropped as slow here: only skipped.
    server = new PublishServer({ ...LOCAL, maxBufferedBytes: 128 * 1024, slowClientTimeoutMs: 600_000 }, view, metrics);
    const { port } = await server.listen();
    const reader = await connect(port);
    const stalled = await connect(port);
    const socket = (stalled.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const blob = 'x'.repeat(64 * 1024);
    let n = 0;
    const publish = (): void => server!.publishFrame('cam0', JSON.stringify({ type: 'frame', camera: 'cam0', n: n++, blob }));
    while ((await counter(metrics, 'segstream_ws_messages_skipped_total')) < 20) {
      if (n > 20_000) throw new Error('the paused client was never skipped');
      publish();
      await sleep(2);
    }
    socket.resume();
    // Once it has read everything, it is sent frames again.
    await waitUntil('the stalled client to read its backlog', () => stalled.messages.length > 1, 10_000);
    await sleep(200);
    const sentBefore = n;
    for (let i = 0; i < 3; i++) {
      publish();
      await sleep(20);
    }
    await waitUntil('the last frame at both clients', () => reader.messages.length === n + 1 && stalled.messages.at(-1)?.['n'] === n - 1, 10_000);
    const frames = (m: typeof reader): Record<string, unknown>[] => m.messages.filter((x) => x['type'] === 'frame');
    expect(frames(reader)).toHaveLength(n);
    expect(frames(reader).every((f) => f['clientDropped'] === 0)).toBe(true);
    // For each frame it got: the frames sent before it that it did not get.
    const got = frames(stalled);
    got.forEach((f, i) => expect(f['clientDropped'], `frame ${String(f['n'])}`).toBe((f['n'] as number) - i));
    const last = got.at(-1)!;
    expect(last['clientDropped']).toBeGreaterThanOrEqual(20);
    expect(last['clientDropped']).toBe(sentBefore - (got.length - 3));
    expect(await counter(metrics, 'segstream_ws_messages_skipped_total')).toBe(last['clientDropped']);
  });

  it('asks a frame payload only for the mask formats its clients want, and sends each client its own', async () => {
    server = new PublishServer(LOCAL, view, createMetrics());
    const { port } = await server.listen();
    const a = await connect(port);
    const b = await connect(port);
    const c = await connect(port);
    const subscribe = async (cl: typeof a, masks?: MaskFormat): Promise<void> => {
      cl.ws.send(JSON.stringify({ type: 'subscribe', ...(masks ? { masks } : {}) }));
      await waitUntil('subscribed', () => cl.messages.some((m) => m['type'] === 'subscribed'), 5_000);
    };
    await subscribe(a, 'polygons');
    await subscribe(b, 'polygons');
    await subscribe(c);
    const asked: MaskFormat[] = [];
    const payload: FramePayload = {
      json: (format) => {
        asked.push(format);
        return JSON.stringify({ type: 'frame', camera: 'cam0', format });
      },
    };
    // The server asks per client (FrameMessages serialises each format once: unit-tested).
    server.publishFrame('cam0', payload);
    expect(new Set(asked)).toEqual(new Set(['polygons', 'rle']));
    await waitUntil('a frame at every client', () => [a, b, c].every((cl) => cl.messages.some((m) => m['type'] === 'frame')), 5_000);
    const formatOf = (cl: typeof a): unknown => cl.messages.find((m) => m['type'] === 'frame')!['format'];
    expect([formatOf(a), formatOf(b), formatOf(c)]).toEqual(['polygons', 'polygons', 'rle']);
  });
});

describe('PublishServer heartbeat (RFC 6455 ping frames)', () => {
  it('terminates a client that answers no ping within an interval, counts it, and keeps one that answers', async () => {
    const metrics = createMetrics();
    server = new PublishServer({ ...LOCAL, heartbeatIntervalMs: 150 }, view, metrics);
    const { port } = await server.listen();
    const mute = await connect(port, { autoPong: false });
    const live = await connect(port);
    let pings = 0;
    live.ws.on('ping', () => pings++);
    let mutePings = 0;
    mute.ws.on('ping', () => mutePings++);
    const closed = new Promise<number>((resolve) => mute.ws.once('close', (code) => resolve(code)));
    // Pinged once, silent through the next interval: terminated (no close frame: 1006).
    expect(await closed).toBe(1006);
    expect(mutePings).toBeGreaterThanOrEqual(1);
    expect(await counter(metrics, 'segstream_ws_heartbeat_timeouts_total')).toBe(1);
    await sleep(500);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(server.clientCount).toBe(1);
    expect(await counter(metrics, 'segstream_ws_heartbeat_timeouts_total')).toBe(1);
    // The JSON ping stays an application message.
    live.ws.send(JSON.stringify({ type: 'ping', id: 1 }));
    await waitUntil('pong', () => live.messages.some((m) => m['type'] === 'pong' && m['id'] === 1), 5_000);
  });

  it('heartbeatIntervalMs 0 sends no pings and terminates nobody', async () => {
    server = new PublishServer({ ...LOCAL, heartbeatIntervalMs: 0 }, view, createMetrics());
    const { port } = await server.listen();
    const mute = await connect(port, { autoPong: false });
    let pings = 0;
    mute.ws.on('ping', () => pings++);
    await sleep(400);
    expect(pings).toBe(0);
    expect(mute.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('rejects bad heartbeat and offers options with TypeError', () => {
    expect(() => new PublishServer({ heartbeatIntervalMs: -1 }, view, createMetrics())).toThrow(/heartbeatIntervalMs/);
    expect(() => new PublishServer({ offers: { jpeg: 'yes' } as never }, view, createMetrics())).toThrow(/offers/);
  });

  it('hello says what the options offer', async () => {
    server = new PublishServer({ ...LOCAL, offers: { jpeg: false, whep: true } }, view, createMetrics());
    const { port } = await server.listen();
    const c = await connect(port);
    expect(c.messages[0]).toMatchObject({ type: 'hello', protocol: 1, offers: { masks: ['rle', 'polygons', 'none'], jpeg: false, whep: true } });
  });
});

describe('PublishServer with a frame that fails to build', () => {
  it('skips that format for its clients (logged once), sends the others, and keeps serving', async () => {
    const errors: unknown[] = [];
    const log = { error: (o: unknown) => errors.push(o), warn: () => {}, info: () => {}, debug: () => {}, child: () => log } as never;
    server = new PublishServer(LOCAL, view, createMetrics(), log);
    const { port } = await server.listen();
    const broken = await connect(port);
    const broken2 = await connect(port);
    const fine = await connect(port);
    for (const cl of [broken, broken2]) cl.ws.send(JSON.stringify({ type: 'subscribe', masks: 'polygons' }));
    await waitUntil('subscribed', () => [broken, broken2].every((cl) => cl.messages.some((m) => m['type'] === 'subscribed')), 5_000);
    let calls = 0;
    server.publishFrame('cam0', {
      json: (format) => {
        calls++;
        if (format === 'polygons') throw new TypeError('polygon bug');
        return JSON.stringify({ type: 'frame', camera: 'cam0', format });
      },
    });
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    await waitUntil('the rle client gets its frame', () => fine.messages.some((m) => m['type'] === 'frame'), 5_000);
    broken.ws.send(JSON.stringify({ type: 'ping', id: 1 }));
    await waitUntil('pong', () => broken.messages.some((m) => m['type'] === 'pong'), 5_000);
    expect(broken.messages.some((m) => m['type'] === 'frame')).toBe(false);
  });
});
