import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { CameraStateStore, parseConfig } from '../../src/config/index.js';
import { decodeRle } from '../../src/publish/index.js';
import { TestClient } from '../helpers/wsClient.js';

const SHARED = join(import.meta.dirname, '../../../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');

describe('segstream service over WebSocket (real ffmpeg, model and sockets)', () => {
  let app: App;

  beforeAll(async () => {
    const config = parseConfig({
      cameras: [
        { id: 'road', url: CLIP },
        { id: 'broken', url: '/nonexistent/camera.mp4' },
      ],
      inference: { model: MODEL, threads: 1 },
      server: { host: '127.0.0.1', port: 0 },
      ingest: { realtime: false },
    });
    app = await startApp(config);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('greets a client with the cameras and the model classes', async () => {
    const c = await TestClient.connect(app.address.port);
    const hello = await c.next((m) => m.type === 'hello');
    expect(hello['protocol']).toBe(1);
    expect((hello['model'] as { classes: string[] }).classes[2]).toBe('car');
    expect((hello['cameras'] as { id: string }[]).map((x) => x.id)).toEqual(['road', 'broken']);
    c.close();
  });

  it('streams frame messages whose car masks decode from COCO RLE to pixels inside their boxes', async () => {
    const c = await TestClient.connect(app.address.port);
    const frames = await c.frames(15, 'road');
    let cars = 0;
    for (const f of frames) {
      expect([f.width, f.height]).toEqual([640, 480]);
      for (const o of f.objects.filter((x) => x.label === 'car')) {
        cars++;
        expect(o.classId).toBe(2);
        expect(o.maskScore).toBeGreaterThan(0);
        expect(o.maskScore).toBeLessThanOrEqual(1);
        expect(o.mask!.size).toEqual([480, 640]);
        const bits = decodeRle(o.mask!);
        const [x1, y1, x2, y2] = o.box;
        let inside = 0;
        let outside = 0;
        for (let y = 0; y < 480; y++) {
          for (let x = 0; x < 640; x++) {
            if (!bits[y * 640 + x]) continue;
            if (x + 0.5 >= x1 - 1 && x + 0.5 <= x2 + 1 && y + 0.5 >= y1 - 1 && y + 0.5 <= y2 + 1) inside++;
            else outside++;
          }
        }
        expect(outside).toBe(0);
        expect(inside).toBe(o.area);
        expect(inside).toBeGreaterThan(0.25 * (x2 - x1) * (y2 - y1));
      }
    }
    expect(cars).toBeGreaterThan(10);
    const seqs = frames.map((f) => f.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    c.close();
  });

  it('gives cars track ids that persist across consecutive frames', async () => {
    const c = await TestClient.connect(app.address.port);
    const frames = await c.frames(30, 'road');
    const seen = new Map<number, number>();
    for (const f of frames) for (const o of f.objects) if (o.id !== undefined) seen.set(o.id, (seen.get(o.id) ?? 0) + 1);
    // Some car stays in view for the whole second and must keep one id.
    expect(Math.max(...seen.values())).toBeGreaterThanOrEqual(25);
    // Ids are not re-issued every frame.
    expect(seen.size).toBeLessThan(frames.reduce((n, f) => n + f.objects.length, 0) / 3);
    c.close();
  });

  it('answers malformed messages with error codes and keeps streaming to that client', async () => {
    const c = await TestClient.connect(app.address.port);
    await c.frames(2, 'road');
    const bad: [string, string][] = [
      ['this is not json', 'E_MSG_NOT_JSON'],
      [JSON.stringify({ type: 'launch-missiles' }), 'E_MSG_UNKNOWN_TYPE'],
      [JSON.stringify({ type: 'subscribe', cameras: 5 }), 'E_MSG_INVALID'],
      [JSON.stringify({ type: 'ping', extra: true }), 'E_MSG_INVALID'],
      [JSON.stringify({ type: 'subscribe', cameras: ['nope'] }), 'E_UNKNOWN_CAMERA'],
      [JSON.stringify({ type: 'ping', id: 'x'.repeat(40_000) }), 'E_MSG_TOO_LARGE'],
    ];
    for (const [text, code] of bad) {
      const before = c.messages.length;
      c.ws.send(text);
      const err = await c.next((m) => m.type === 'error' && c.messages.indexOf(m) >= before);
      expect(err['code']).toBe(code);
      expect(typeof err['message']).toBe('string');
    }
    const lastSeq = Math.max(...c.messages.filter((m) => m.type === 'frame').map((m) => m['seq'] as number));
    const after = await c.frames(3, 'road');
    expect(after[0]!.seq).toBeGreaterThan(lastSeq);
    c.ws.send(JSON.stringify({ type: 'ping', id: 7 }));
    expect((await c.next((m) => m.type === 'pong'))['id']).toBe(7);
    c.close();
  });

  it('reports the unreadable camera with a code while the good camera keeps streaming', async () => {
    const c = await TestClient.connect(app.address.port);
    const broken = app.cameras.require('broken');
    expect(broken.status.state).toBe('failed');
    expect(broken.status.error?.code).toBe('E_SOURCE_UNREADABLE');
    const hello = await c.next((m) => m.type === 'hello');
    const cam = (hello['cameras'] as { id: string; state: string; error?: { code: string } }[]).find((x) => x.id === 'broken')!;
    expect(cam.state).toBe('failed');
    expect(cam.error?.code).toBe('E_SOURCE_UNREADABLE');
    await c.frames(3, 'road');
    const health = await fetch(`http://127.0.0.1:${app.address.port}/healthz`);
    expect(health.status).toBe(200);
    c.close();
  });

  it('is live on /healthz but not ready on /readyz while a camera is down, which says which and why', async () => {
    const health = await fetch(`http://127.0.0.1:${app.address.port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${app.address.port}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { ok: boolean; down: { id: string; state: string; error?: { code: string } }[] };
    expect(body.ok).toBe(false);
    expect(body.down.map((d) => [d.id, d.state, d.error?.code])).toEqual([['broken', 'failed', 'E_SOURCE_UNREADABLE']]);
  });

  it('restarts the camera whose ffmpeg is killed: status says so, /readyz lists it meanwhile, frames go on', async () => {
    const c = await TestClient.connect(app.address.port);
    await c.frames(2, 'road');
    const road = app.cameras.require('road');
    process.kill(road.source!.ffmpegPid!, 'SIGKILL');
    const broken = await c.next((m) => m.type === 'status' && m['camera'] === 'road' && m['state'] === 'reconnecting', 10_000);
    expect((broken['error'] as { code: string }).code).toBe('E_SOURCE_FAILED');
    const during = (await (await fetch(`http://127.0.0.1:${app.address.port}/readyz`)).json()) as { down: { id: string }[] };
    expect(during.down.map((d) => d.id).sort()).toEqual(['broken', 'road']);
    await c.next((m) => m.type === 'status' && m['camera'] === 'road' && m['state'] === 'streaming' && c.messages.indexOf(m) > c.messages.indexOf(broken), 10_000);
    const lastSeq = Math.max(...c.messages.filter((m) => m.type === 'frame' && m['camera'] === 'road').map((m) => m['seq'] as number));
    const after = await c.frames(3, 'road');
    expect(after[0]!.seq).toBeGreaterThan(lastSeq);
    c.close();
  });

  it('sends only the subscribed cameras', async () => {
    const c = await TestClient.connect(app.address.port);
    c.ws.send(JSON.stringify({ type: 'subscribe', cameras: ['broken'] }));
    await c.next((m) => m.type === 'subscribed');
    const at = c.messages.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(c.messages.slice(at).filter((m) => m.type === 'frame')).toHaveLength(0);
    c.ws.send(JSON.stringify({ type: 'subscribe', cameras: ['road'] }));
    await c.frames(2, 'road');
    c.close();
  });

  it('exports Prometheus counters for frames in, processed and client errors', async () => {
    const res = await fetch(`http://127.0.0.1:${app.address.port}/metrics`);
    const text = await res.text();
    const value = (re: RegExp): number => Number(text.match(re)?.[1] ?? NaN);
    expect(value(/segstream_frames_in_total\{camera="road"\} (\d+)/)).toBeGreaterThan(10);
    expect(value(/segstream_frames_processed_total\{camera="road"\} (\d+)/)).toBeGreaterThan(10);
    expect(value(/segstream_client_errors_total\{code="E_MSG_NOT_JSON"\} (\d+)/)).toBeGreaterThanOrEqual(1);
    // The streaming camera's newest frame is fresh; the broken one never published a frame.
    const age = value(/segstream_frame_age_seconds\{camera="road"\} ([\d.e-]+)/);
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(5);
    expect(text).not.toMatch(/segstream_frame_age_seconds\{camera="broken"\}/);
    expect(text).toMatch(/segstream_inference_seconds_count\{batch="1"\} \d+/);
  });
});

describe('segstream start-up checks', () => {
  it('rejects two cameras with the same id with E_CONFIG naming the second, before loading anything', () => {
    const input = {
      cameras: [
        { id: 'a', url: CLIP },
        { id: 'a', url: CLIP },
      ],
      inference: { model: '/nonexistent/model.onnx' },
    };
    expect(() => parseConfig(input)).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining("cameras[1].id: 'a'") }));
  });

  it('checks the cameras again when the app starts: a state file camera refused there stops start-up before the model loads', async () => {
    const config = parseConfig({ inference: { model: '/nonexistent/model.onnx' }, server: { port: 0 } });
    const state = new CameraStateStore(undefined, { version: 1, cameras: { x: { id: 'x', url: 'concat:/etc/passwd' } } });
    await expect(startApp(config, { state })).rejects.toMatchObject({ code: 'E_SOURCE_REFUSED', message: expect.stringContaining('cameras.x.url') });
  });
});
