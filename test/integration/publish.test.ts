import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { DEFAULT_PUBLISH_OPTIONS, PublishServer } from '../../src/publish/index.js';

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
