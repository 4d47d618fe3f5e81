import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import type { FrameMessage, WireObject } from '../../src/publish/index.js';
import { TestClient } from '../helpers/wsClient.js';

const SHARED = join(import.meta.dirname, '../../../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
// 640x480 at 30 fps; a car sits near the top right for the first ~4 s.
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');

function iou(a: readonly number[], b: readonly number[]): number {
  const iw = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const ih = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
}

const area = (o: WireObject): number => (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]);

describe('prompts over WebSocket, following their object (real clip, model, tracker)', () => {
  let app: App;
  let c: TestClient;

  beforeAll(async () => {
    // Files as fast as possible wait for the pipeline, so every frame is processed.
    app = await startApp(
      parseConfig({ cameras: [{ id: 'road', url: CLIP }], inference: { model: MODEL, threads: 1 }, server: { host: '127.0.0.1', port: 0 }, ingest: { realtime: false } }),
    );
    c = await TestClient.connect(app.address.port);
  });

  afterAll(async () => {
    c?.close();
    await app?.close();
  });

  it('a box prompt on a car in an early frame keeps the same car, id and smooth box for over 3 s', async () => {
    // The largest tracked car of an early frame.
    let first: FrameMessage | undefined;
    let car: WireObject | undefined;
    while (!car) {
      [first] = await c.frames(1, 'road');
      car = first!.objects.filter((o) => o.label === 'car' && o.id !== undefined && !o.predicted).sort((a, b) => area(b) - area(a))[0];
    }
    expect(first!.seq).toBeLessThan(30);
    const before = c.messages.length;
    c.ws.send(JSON.stringify({ type: 'prompt', camera: 'road', box: car.box.map(Math.round), id: 'p1' }));
    const ok = await c.next((m) => (m.type === 'prompt.ok' || m.type === 'error') && c.messages.indexOf(m) >= before);
    expect(ok).toMatchObject({ type: 'prompt.ok', camera: 'road', method: 'box', id: 'p1' });
    const target = ok['target'] as number;
    expect(ok['tracks']).toEqual([car.id]);

    const frames = await c.frames(105, 'road'); // 3.5 s at 30 fps
    const seqs = frames.map((f) => f.seq);
    expect(seqs[seqs.length - 1]! - seqs[0]!).toBe(104); // nothing dropped
    let prev: readonly number[] | undefined;
    for (const f of frames) {
      const mine = f.objects.filter((o) => o.target === target);
      expect(mine, `frame ${f.seq}`).toHaveLength(1);
      const o = mine[0]!;
      expect(o.id).toBe(car.id);
      expect(o.label).toBe('car');
      expect(o.mask).not.toBeNull();
      if (prev) expect(iou(prev, o.box), `frame ${f.seq}`).toBeGreaterThan(0.6);
      prev = o.box;
      // Other objects are not part of the target.
      expect(f.objects.filter((x) => x.id !== car.id && x.target !== undefined)).toHaveLength(0);
    }
    // The car moved over those seconds: the box follows it rather than standing still.
    const firstBox = frames[0]!.objects.find((o) => o.target === target)!.box;
    const lastBox = frames[frames.length - 1]!.objects.find((o) => o.target === target)!.box;
    expect(iou(firstBox, lastBox)).toBeLessThan(0.95);

    c.ws.send(JSON.stringify({ type: 'prompt.clear', camera: 'road', target }));
    const cleared = await c.next((m) => m.type === 'prompt.cleared');
    expect(cleared['targets']).toEqual([target]);
    const after = await c.frames(3, 'road');
    for (const f of after) expect(f.objects.every((o) => o.target === undefined)).toBe(true);
  });

  it('a text prompt by class synonym selects every vehicle of the frame', async () => {
    const [f] = await c.frames(1, 'road');
    const before = c.messages.length;
    c.ws.send(JSON.stringify({ type: 'prompt', camera: 'road', text: 'vehicles' }));
    const ok = await c.next((m) => (m.type === 'prompt.ok' || m.type === 'error') && c.messages.indexOf(m) >= before);
    expect(ok).toMatchObject({ type: 'prompt.ok', method: 'class' });
    const vehicles = new Set(['car', 'bus', 'truck', 'motorcycle']);
    const later = await c.frames(2, 'road');
    const tagged = later[1]!.objects.filter((o) => o.target === ok['target']);
    expect(tagged.length).toBeGreaterThan(0);
    expect(tagged.every((o) => vehicles.has(o.label))).toBe(true);
    expect(f!.objects.length).toBeGreaterThan(0);
    c.ws.send(JSON.stringify({ type: 'prompt.clear', camera: 'road' }));
    await c.next((m) => m.type === 'prompt.cleared' && c.messages.indexOf(m) > before);
  });

  it('bad prompts get error codes and leave the targets as they were', async () => {
    await c.frames(1, 'road');
    const bad: [unknown, string][] = [
      [{ type: 'prompt', camera: 'nope', box: [1, 1, 50, 50] }, 'E_UNKNOWN_CAMERA'],
      [{ type: 'prompt', camera: 'road', box: [300, 100, 200, 150] }, 'E_PROMPT_INVALID'],
      [{ type: 'prompt', camera: 'road', box: [0, 0, 5000, 50] }, 'E_PROMPT_INVALID'],
      [{ type: 'prompt', camera: 'road', points: [] }, 'E_PROMPT_INVALID'],
      [{ type: 'prompt', camera: 'road', points: [[10, 'NaN', 1]] }, 'E_PROMPT_INVALID'],
      [{ type: 'prompt', camera: 'road', points: [[10, 10, 2]] }, 'E_PROMPT_INVALID'],
      [{ type: 'prompt', camera: 'road', text: 'x'.repeat(201) }, 'E_PROMPT_INVALID'],
      [{ type: 'prompt', camera: 'road', text: 'giraffe' }, 'E_PROMPT_NO_MATCH'],
      [{ type: 'prompt', camera: 'road', box: [1, 1, 50, 50], text: 'car' }, 'E_PROMPT_INVALID'],
      [{ type: 'prompt.clear', camera: 'road', target: 999 }, 'E_UNKNOWN_TARGET'],
    ];
    for (const [msg, code] of bad) {
      const before = c.messages.length;
      c.ws.send(JSON.stringify(msg));
      const reply = await c.next((m) => (m.type === 'error' || m.type.startsWith('prompt.')) && c.messages.indexOf(m) >= before);
      expect(reply, JSON.stringify(msg)).toMatchObject({ type: 'error', code });
      expect(typeof reply['message']).toBe('string');
    }
    const frames = await c.frames(3, 'road');
    for (const f of frames) expect(f.objects.every((o) => o.target === undefined)).toBe(true);
  });
});
