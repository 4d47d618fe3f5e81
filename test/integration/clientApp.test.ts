import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { connect, decodeRle, type FrameMessage, type SegstreamClient } from '../../src/client/index.js';
import { parseConfig } from '../../src/config/index.js';
import { decodeRle as serverDecodeRle } from '../../src/publish/index.js';

const SHARED = join(import.meta.dirname, '../../../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');
const TOKEN = 'client-test-token';

describe('segstream/client against the real app (ffmpeg, model, tracker)', () => {
  let app: App;
  const clients: SegstreamClient[] = [];
  const open = (opts: { token?: string; cameras?: string[] } = {}): SegstreamClient => {
    const c = connect({ url: `ws://127.0.0.1:${app.address.port}/ws`, WebSocket, token: TOKEN, ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    app = await startApp(
      parseConfig({
        cameras: [
          { id: 'road', url: CLIP, loop: true },
          { id: 'road2', url: CLIP, loop: true },
        ],
        inference: { model: MODEL, threads: 1 },
        server: { host: '127.0.0.1', port: 0, token: TOKEN },
      }),
    );
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await app?.close();
  });

  it('connects with the token, gets hello and frames whose masks decode as the server decodes them', async () => {
    const client = open();
    const hello = await client.ready();
    expect(hello.protocol).toBe(1);
    expect(hello.model.classes[2]).toBe('car');
    expect(hello.cameras.map((c) => c.id)).toEqual(['road', 'road2']);
    let masks = 0;
    let frames = 0;
    for await (const f of client.messages('frame')) {
      for (const o of f.objects) {
        if (!o.mask) continue;
        masks++;
        const bits = decodeRle(o.mask);
        expect(Buffer.from(bits).equals(Buffer.from(serverDecodeRle(o.mask)))).toBe(true);
        expect(bits.reduce((n, b) => n + b, 0)).toBe(o.area);
      }
      if (++frames === 10) break;
    }
    expect(masks).toBeGreaterThan(10);
  });

  it('subscribe() narrows the frames to one camera; an unknown camera rejects with E_UNKNOWN_CAMERA', async () => {
    const client = open();
    await expect(client.subscribe(['road2'])).resolves.toEqual({ type: 'subscribed', cameras: ['road2'], masks: 'rle' });
    await expect(client.subscribe(['nope'])).rejects.toMatchObject({ code: 'E_UNKNOWN_CAMERA' });
    // The refused subscription left the previous one in place on the server.
    const seen = new Set<string>();
    let n = 0;
    for await (const f of client.messages('frame')) {
      seen.add(f.camera);
      if (++n === 10) break;
    }
    expect([...seen]).toEqual(['road2']);
  });

  it('prompt() resolves with prompt.ok for a box around a tracked car and clear() with prompt.cleared; refusals reject with the server code', async () => {
    const client = open({ cameras: ['road'] });
    let frame: FrameMessage | undefined;
    for await (const f of client.messages('frame')) {
      if (f.objects.some((o) => o.id !== undefined && o.label === 'car' && !o.predicted)) {
        frame = f;
        break;
      }
    }
    const car = frame!.objects.filter((o) => o.id !== undefined && o.label === 'car' && !o.predicted).sort((a, b) => b.area - a.area)[0]!;
    const ok = await client.prompt({ camera: 'road', box: car.box });
    expect(ok).toMatchObject({ type: 'prompt.ok', camera: 'road', method: 'box' });
    expect(ok.target).toBeGreaterThan(0);
    // The following frames mark the target's objects.
    let marked = false;
    for await (const f of client.messages('frame')) {
      if (f.objects.some((o) => o.target === ok.target)) marked = true;
      if (marked || f.seq > frame!.seq + 60) break;
    }
    expect(marked).toBe(true);
    const cleared = await client.clear('road', ok.target);
    expect(cleared).toMatchObject({ type: 'prompt.cleared', camera: 'road', targets: [ok.target] });
    await expect(client.clear('road', ok.target)).rejects.toMatchObject({ code: 'E_UNKNOWN_TARGET' });
    await expect(client.prompt({ camera: 'nope', text: 'car' })).rejects.toMatchObject({ code: 'E_UNKNOWN_CAMERA' });
    await expect(client.prompt({ camera: 'road', box: [10, 10, 5, 5] })).rejects.toMatchObject({ code: 'E_PROMPT_INVALID' });
    await expect(client.prompt({ camera: 'road', box: [0, 0, 1e6, 1e6] })).rejects.toMatchObject({ code: 'E_PROMPT_INVALID' });
    // Several at once, answered in any order, each with its own reply.
    const results = await Promise.allSettled([client.prompt({ camera: 'road', text: 'car' }), client.prompt({ camera: 'road', points: [[1, 1, 0]] }), client.ping()]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { type: 'prompt.ok', method: expect.any(String) } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: expect.stringMatching(/^E_PROMPT_/) } });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { type: 'pong' } });
    await client.clear('road');
  });

  it('with a wrong token the upgrade is refused (401, named in the state change) and retried; it never opens, and close() ends it', async () => {
    const states: string[] = [];
    const errors: (string | undefined)[] = [];
    const client = connect({ url: `ws://127.0.0.1:${app.address.port}/ws`, WebSocket, token: 'wrong', reconnect: { minDelayMs: 20, maxDelayMs: 40 } });
    clients.push(client);
    client.on('state', (s) => {
      states.push(s.state);
      errors.push(s.error);
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(states.length).toBeGreaterThanOrEqual(3);
    expect(errors[0]).toMatch(/401/);
    expect(new Set(states)).toEqual(new Set(['reconnecting']));
    await expect(client.ready(100)).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    client.close();
    expect(client.state).toBe('closed');
  });
});
