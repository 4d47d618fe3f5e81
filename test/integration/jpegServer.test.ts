import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { decodeJpegMessage, type JpegHeader } from '../../src/protocol/index.js';
import { DEFAULT_PUBLISH_OPTIONS, PublishServer } from '../../src/publish/index.js';
import { sleep, waitUntil } from '../helpers/processes.js';

const view = { hello: () => ({ cameras: [] }), health: () => ({ ok: true }), cameraIds: () => ['cam0', 'cam1'] };
const LOCAL = { ...DEFAULT_PUBLISH_OPTIONS, host: '127.0.0.1', port: 0, offers: { jpeg: true, whep: true } };
let server: PublishServer | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await server?.close();
  server = undefined;
});

interface Peer {
  ws: WebSocket;
  json: Record<string, unknown>[];
  jpegs: { header: JpegHeader; jpeg: Uint8Array }[];
}

async function connect(port: number): Promise<Peer> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  sockets.push(ws);
  const peer: Peer = { ws, json: [], jpegs: [] };
  ws.on('message', (d, isBinary) => {
    if (isBinary) peer.jpegs.push(decodeJpegMessage(d as Buffer));
    else peer.json.push(JSON.parse(String(d)) as Record<string, unknown>);
  });
  await new Promise((resolve, reject) => {
    ws.once('message', resolve);
    ws.once('error', reject);
  });
  return peer;
}

async function subscribe(p: Peer, msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  const n = p.json.length;
  p.ws.send(JSON.stringify({ type: 'subscribe', ...msg }));
  await waitUntil('a reply', () => p.json.length > n, 5000);
  return p.json[n]!;
}

const header = (camera: string, seq: number, timestamp: number, overlay: boolean): JpegHeader => ({ type: 'jpeg', camera, seq, pts: seq * 33, timestamp, width: 4, height: 2, overlay });
const JPEG = Uint8Array.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);

describe('PublishServer JPEG frames', () => {
  it('demand is the highest fps per variant of the clients subscribed to the camera; 0 when none', async () => {
    server = new PublishServer(LOCAL, view, createMetrics());
    const { port } = await server.listen();
    expect(server.jpegDemand('cam0')).toEqual({ clean: 0, overlay: 0 });
    const a = await connect(port);
    const b = await connect(port);
    const c = await connect(port);
    await subscribe(a, { jpeg: { fps: 2, overlay: true } });
    await subscribe(b, { cameras: ['cam0'], jpeg: { fps: 10, overlay: true } });
    await subscribe(c, { cameras: ['cam1'], jpeg: { fps: 3, overlay: false } });
    expect(server.jpegDemand('cam0')).toEqual({ clean: 0, overlay: 10 });
    expect(server.jpegDemand('cam1')).toEqual({ clean: 3, overlay: 2 });
    b.ws.close();
    await waitUntil('b gone', () => server!.clientCount === 2, 5000);
    expect(server.jpegDemand('cam0')).toEqual({ clean: 0, overlay: 2 });
  });

  it('sends each client its variant of its cameras at most at its rate (by capture time), as header + JPEG', async () => {
    server = new PublishServer(LOCAL, view, createMetrics());
    const { port } = await server.listen();
    const five = await connect(port);
    const one = await connect(port);
    const clean = await connect(port);
    const none = await connect(port);
    await subscribe(five, { jpeg: { fps: 5, overlay: true } });
    await subscribe(one, { cameras: ['cam0'], jpeg: { fps: 1, overlay: true } });
    await subscribe(clean, { jpeg: { fps: 30, overlay: false } });
    // 3 s of 30 fps capture, every frame offered in both variants.
    for (let i = 0; i < 90; i++) {
      server.publishJpeg(header('cam0', i, 1_000_000 + i * 33.3, true), JPEG);
      server.publishJpeg(header('cam0', i, 1_000_000 + i * 33.3, false), JPEG);
    }
    await waitUntil('the clean frames', () => clean.jpegs.length === 90, 5000);
    await sleep(100);
    expect(five.jpegs.length).toBeGreaterThanOrEqual(14);
    expect(five.jpegs.length).toBeLessThanOrEqual(16);
    expect(one.jpegs.length).toBeGreaterThanOrEqual(3);
    expect(one.jpegs.length).toBeLessThanOrEqual(4);
    expect(none.jpegs).toHaveLength(0);
    expect(five.jpegs.every((j) => j.header.overlay && j.header.camera === 'cam0')).toBe(true);
    expect(clean.jpegs.every((j) => !j.header.overlay)).toBe(true);
    expect([...five.jpegs[0]!.jpeg]).toEqual([...JPEG]);
    // Another camera: not for `one`.
    server.publishJpeg(header('cam1', 0, 2_000_000, true), JPEG);
    await waitUntil('cam1 at five', () => five.jpegs.some((j) => j.header.camera === 'cam1'), 5000);
    await sleep(100);
    expect(one.jpegs.some((j) => j.header.camera === 'cam1')).toBe(false);
    // Subscribing again without jpeg: none any more.
    expect(await subscribe(five, {})).toEqual({ type: 'subscribed', cameras: '*', masks: 'rle' });
    const had = five.jpegs.length;
    server.publishJpeg(header('cam0', 200, 3_000_000, true), JPEG);
    await sleep(100);
    expect(five.jpegs).toHaveLength(had);
  });

  it('a client that is behind skips JPEG frames, counted in its clientDropped', async () => {
    const metrics = createMetrics();
    server = new PublishServer({ ...LOCAL, maxBufferedBytes: 128 * 1024, slowClientTimeoutMs: 600_000 }, view, metrics);
    const { port } = await server.listen();
    const stalled = await connect(port);
    await subscribe(stalled, { jpeg: { fps: 30, overlay: false } });
    const socket = (stalled.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const big = new Uint8Array(64 * 1024);
    let i = 0;
    const skipped = async (): Promise<number> => Number((await metrics.registry.getSingleMetricAsString('segstream_ws_messages_skipped_total')).match(/^segstream_ws_messages_skipped_total (\d+)$/m)?.[1] ?? 0);
    while ((await skipped()) < 5) {
      if (i > 20_000) throw new Error('never skipped');
      server.publishJpeg(header('cam0', i, 1_000_000 + i * 40, false), big);
      i++;
      await sleep(1);
    }
    socket.resume();
    await sleep(300);
    server.publishFrame('cam0', JSON.stringify({ type: 'frame', camera: 'cam0' }));
    await waitUntil('a frame after the backlog', () => stalled.json.some((m) => m['type'] === 'frame'), 10_000);
    const frame = stalled.json.find((m) => m['type'] === 'frame')!;
    expect(frame['clientDropped']).toBeGreaterThanOrEqual(5);
    expect(stalled.jpegs.length + (frame['clientDropped'] as number)).toBe(i);
  });

  it('refuses jpeg when the server does not offer it', async () => {
    server = new PublishServer({ ...LOCAL, offers: { jpeg: false, whep: false } }, view, createMetrics());
    const { port } = await server.listen();
    const p = await connect(port);
    expect(await subscribe(p, { jpeg: { fps: 5, overlay: true } })).toMatchObject({ type: 'error', code: 'E_MSG_INVALID' });
    expect(server.jpegDemand('cam0')).toEqual({ clean: 0, overlay: 0 });
  });
});
