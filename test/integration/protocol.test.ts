import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { frameMessageSchema, serverMessageSchema, type FrameMessage, type WireObject } from '../../src/protocol/index.js';
import { decodeRle, ringArea, type Point } from '../../src/publish/index.js';
import { CCTV_640x480 } from '../helpers/media.js';
import { TestClient } from '../helpers/wsClient.js';

const MODEL = join(import.meta.dirname, '../../../shared/models/yolov8n-seg-320.onnx');
const ROOT = mkdtempSync(join(tmpdir(), 'segstream-protocol-'));
const ROAD = join(ROOT, 'road.mp4');
copyFileSync(CCTV_640x480, ROAD);
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const pairs = (flat: readonly number[]): Point[] => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!] as const);
const framesOf = (c: TestClient, camera: string): FrameMessage[] => c.messages.filter((m) => m.type === 'frame' && m['camera'] === camera) as unknown as FrameMessage[];

describe('the wire protocol of a running service (real ffmpeg, model and sockets)', () => {
  let app: App;
  /** Every client opened here; each message any of them got is checked against the schemas at the end. */
  const clients: TestClient[] = [];
  const connect = async (): Promise<TestClient> => {
    const c = await TestClient.connect(app.address.port);
    clients.push(c);
    await c.next((m) => m.type === 'hello');
    return c;
  };
  const api = async (method: string, path: string, body?: unknown): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${app.address.port}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    const config = parseConfig({
      cameras: [
        { id: 'road', url: ROAD },
        { id: 'broken', url: join(ROOT, 'missing.mp4') },
        { id: 'off', url: ROAD, enabled: false },
      ],
      inference: { model: MODEL, threads: 1 },
      server: { host: '127.0.0.1', port: 0 },
      ingest: { realtime: true, loop: true, mediaRoots: [ROOT] },
    });
    app = await startApp(config);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await app?.close();
  });

  it('hello carries the version, the cameras with state and size, the model classes and the offers', async () => {
    const c = await connect();
    await c.frames(1, 'road');
    const late = await connect();
    const hello = late.messages.find((m) => m.type === 'hello')!;
    expect(hello).toMatchObject({ protocol: 1, offers: { masks: ['rle', 'polygons', 'none'], jpeg: true, whep: true } });
    expect((hello['model'] as { classes: string[] }).classes[2]).toBe('car');
    const cams = hello['cameras'] as { id: string; state: string; width?: number; height?: number }[];
    expect(cams.map((x) => [x.id, x.state])).toEqual([
      ['road', 'streaming'],
      ['broken', 'failed'],
      ['off', 'disabled'],
    ]);
    expect([cams[0]!.width, cams[0]!.height]).toEqual([640, 480]);
  });

  it('a client that never subscribes gets every camera, cameras added later included; each frame has clientDropped 0 while it reads', async () => {
    const c = await connect();
    expect(await api('POST', '/api/cameras', { id: 'late', url: ROAD })).toBe(201);
    const late = await c.frames(3, 'late');
    expect(late.every((f) => f.clientDropped === 0 && typeof f.dropped === 'number')).toBe(true);
    await c.next((m) => m.type === 'status' && m['camera'] === 'late' && m['state'] === 'streaming');
    expect(await api('DELETE', '/api/cameras/late')).toBe(200);
    await c.next((m) => m.type === 'status' && m['camera'] === 'late' && m['state'] === 'removed');
  });

  it('subscribe with masks polygons and none: the same objects as RLE, polygons inside each box with about the mask area', async () => {
    const rle = await connect();
    const poly = await connect();
    const none = await connect();
    expect(await rle.request({ type: 'subscribe', cameras: ['road'] }, (m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', cameras: ['road'], masks: 'rle' });
    expect(await poly.request({ type: 'subscribe', cameras: ['road'], masks: 'polygons' }, (m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', cameras: ['road'], masks: 'polygons' });
    expect(await none.request({ type: 'subscribe', masks: 'none' }, (m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', cameras: '*', masks: 'none' });
    await Promise.all([rle.frames(20, 'road'), poly.frames(20, 'road'), none.frames(20, 'road')]);
    const bySeq = (c: TestClient): Map<number, FrameMessage> => new Map(framesOf(c, 'road').map((f) => [f.seq, f]));
    const [r, p, n] = [bySeq(rle), bySeq(poly), bySeq(none)];
    const strip = (o: WireObject): unknown => ({ ...o, mask: undefined, polygons: undefined });
    let compared = 0;
    let large = 0;
    const ratios: number[] = [];
    for (const [seq, fr] of r) {
      const fp = p.get(seq);
      const fn = n.get(seq);
      if (!fp || !fn) continue;
      compared++;
      expect(fp.objects.map(strip)).toEqual(fr.objects.map(strip));
      expect(fn.objects.map(strip)).toEqual(fr.objects.map(strip));
      for (const o of fn.objects) expect('mask' in o || 'polygons' in o).toBe(false);
      fp.objects.forEach((o, i) => {
        expect('mask' in o).toBe(false);
        const [x1, y1, x2, y2] = o.box;
        // Clamped to the published box exactly.
        for (const poly of o.polygons!) for (const [x, y] of pairs(poly)) expect(x >= x1 && x <= x2 && y >= y1 && y <= y2, `seq ${seq}: (${x}, ${y}) outside [${o.box.join(', ')}]`).toBe(true);
        const mask = fr.objects[i]!.mask;
        if (!mask || o.area <= 400) return;
        large++;
        const bits = decodeRle(mask);
        expect(bits.reduce((s, b) => s + b, 0)).toBe(o.area);
        const polyArea = o.polygons!.reduce((s, ring) => s + ringArea(pairs(ring)), 0);
        ratios.push(polyArea / o.area);
      });
    }
    expect(compared).toBeGreaterThan(10);
    expect(large).toBeGreaterThan(20);
    // Outer contours leave holes in, so the polygons may be a little larger, never much smaller.
    for (const ratio of ratios) expect(Math.abs(ratio - 1)).toBeLessThan(0.15);
  });

  it('prompts, pings and errors get replies that the schemas describe; a removed camera ends its targets', async () => {
    const c = await connect();
    let car: WireObject | undefined;
    while (!car) [car] = (await c.frames(1, 'road'))[0]!.objects.filter((o) => o.label === 'car' && o.id !== undefined && !o.predicted);
    const ok = await c.request({ type: 'prompt', camera: 'road', box: car.box.map(Math.round), id: 'p1' }, (m) => m.type === 'prompt.ok' || m.type === 'error');
    expect(ok).toMatchObject({ type: 'prompt.ok', id: 'p1' });
    expect(await c.request({ type: 'prompt.clear', camera: 'road', id: 2 }, (m) => m.type === 'prompt.cleared')).toMatchObject({ targets: [ok['target']] });
    expect(await c.request({ type: 'ping', id: 'x' }, (m) => m.type === 'pong')).toMatchObject({ id: 'x' });
    expect(await c.request({ type: 'subscribe', masks: 'png' }, (m) => m.type === 'error')).toMatchObject({ code: 'E_MSG_INVALID' });
    expect(await c.request({ type: 'prompt', camera: 'road' }, (m) => m.type === 'error')).toMatchObject({ code: 'E_PROMPT_INVALID' });
    // A camera with a target, removed: target.ended (removed), then status removed.
    expect(await api('POST', '/api/cameras', { id: 'gone', url: ROAD })).toBe(201);
    let other: WireObject | undefined;
    while (!other) [other] = (await c.frames(1, 'gone'))[0]!.objects.filter((o) => o.id !== undefined && !o.predicted);
    expect(await c.request({ type: 'prompt', camera: 'gone', box: other.box.map(Math.round) }, (m) => m.type === 'prompt.ok' || m.type === 'error')).toMatchObject({ type: 'prompt.ok' });
    expect(await api('DELETE', '/api/cameras/gone')).toBe(200);
    expect(await c.next((m) => m.type === 'target.ended' && m['camera'] === 'gone')).toMatchObject({ reason: 'removed' });
    await c.next((m) => m.type === 'status' && m['camera'] === 'gone' && m['state'] === 'removed');
  });

  it('every message any client got here is exactly what the protocol schemas describe', () => {
    const types = new Set<string>();
    let frames = 0;
    for (const c of clients) {
      for (const m of c.messages) {
        const parsed = serverMessageSchema.safeParse(m);
        expect(parsed.success, `${JSON.stringify(m).slice(0, 300)}: ${parsed.error?.message ?? ''}`).toBe(true);
        // Strict schemas: parsing drops nothing and adds nothing.
        expect(parsed.data).toEqual(m);
        types.add(m.type);
        if (m.type === 'frame') frames++;
      }
    }
    expect([...types].sort()).toEqual(['error', 'frame', 'hello', 'pong', 'prompt.cleared', 'prompt.ok', 'status', 'subscribed', 'target.ended']);
    expect(frames).toBeGreaterThan(50);
    expect(frameMessageSchema.safeParse(clients[0]!.messages.find((m) => m.type === 'frame')).success).toBe(true);
  });
});
