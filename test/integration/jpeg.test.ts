import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startApp, type App } from '../../src/app.js';
import { connect as connectClient, type JpegFrame } from '../../src/client/index.js';
import { parseConfig } from '../../src/config/index.js';
import { decodeJpegMessage, jpegHeaderSchema, type FrameMessage, type JpegHeader } from '../../src/protocol/index.js';
import { CCTV_640x480 } from '../helpers/media.js';
import { TestClient } from '../helpers/wsClient.js';

const MODEL = join(import.meta.dirname, '../../../shared/models/yolov8n-seg-320.onnx');
const ROOT = mkdtempSync(join(tmpdir(), 'segstream-jpeg-'));
const ROAD = join(ROOT, 'road.mp4');
copyFileSync(CCTV_640x480, ROAD);
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const jpegsOf = (c: TestClient): { header: JpegHeader; jpeg: Uint8Array }[] => c.binary.map((b) => decodeJpegMessage(b.data));

describe('JPEG frames over the WebSocket (real ffmpeg, model, overlay worker and sharp)', () => {
  let app: App;
  const clients: TestClient[] = [];
  const connect = async (): Promise<TestClient> => {
    const c = await TestClient.connect(app.address.port);
    clients.push(c);
    await c.next((m) => m.type === 'hello');
    return c;
  };
  const encoded = async (overlay: boolean): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${app.address.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('segstream_jpeg_frames_encoded_total') && l.includes('camera="road"') && l.includes(`overlay="${overlay}"`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  beforeAll(async () => {
    const config = parseConfig({
      cameras: [{ id: 'road', url: ROAD }],
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

  it('hello offers jpeg; invalid jpeg options get E_MSG_INVALID and change nothing', async () => {
    const c = await connect();
    expect(c.messages[0]).toMatchObject({ type: 'hello', offers: { jpeg: true } });
    for (const jpeg of [{ fps: 0.1, overlay: true }, { fps: 31, overlay: false }, { fps: '5', overlay: true }, { fps: 5 }, { fps: 5, overlay: 'yes' }, { fps: 5, overlay: true, quality: 9 }, true, null]) {
      const reply = await c.request({ type: 'subscribe', jpeg, id: 'j' }, (m) => m.type === 'error' || m.type === 'subscribed');
      expect(reply, JSON.stringify(jpeg)).toMatchObject({ type: 'error', code: 'E_MSG_INVALID' });
    }
    await c.frames(3, 'road');
    expect(c.binary).toHaveLength(0);
  });

  it('a client that asked gets binary JPEG frames at most at its rate, in its variant; clients that did not ask get none', async () => {
    const fast = await connect();
    const slow = await connect();
    const plain = await connect();
    const never = await connect();
    expect(await fast.request({ type: 'subscribe', cameras: ['road'], masks: 'none', jpeg: { fps: 5, overlay: true } }, (m) => m.type === 'subscribed')).toEqual({
      type: 'subscribed',
      cameras: ['road'],
      masks: 'none',
      jpeg: { fps: 5, overlay: true },
    });
    await slow.request({ type: 'subscribe', jpeg: { fps: 1.5, overlay: false } }, (m) => m.type === 'subscribed');
    expect(await plain.request({ type: 'subscribe', cameras: ['road'] }, (m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', cameras: ['road'], masks: 'rle' });
    const encodedBefore = [await encoded(true), await encoded(false)] as const;
    const t0 = Date.now();
    await sleep(4000);
    const seconds = (Date.now() - t0) / 1000;
    const encodedNow = [await encoded(true), await encoded(false)] as const;
    // Each variant encoded once per frame, at most at the highest rate asked, shared by its clients.
    expect(encodedNow[0] - encodedBefore[0]).toBeLessThanOrEqual(5 * seconds + 3);
    expect(encodedNow[1] - encodedBefore[1]).toBeLessThanOrEqual(1.5 * seconds + 3);
    const f = jpegsOf(fast);
    const s = jpegsOf(slow);
    // At most the rate asked (+ one frame either end), and not far under it.
    expect(f.length).toBeLessThanOrEqual(5 * seconds + 2);
    expect(f.length).toBeGreaterThanOrEqual(5 * seconds * 0.5);
    expect(s.length).toBeLessThanOrEqual(1.5 * seconds + 2);
    expect(s.length).toBeGreaterThanOrEqual(2);
    // By capture time too: n frames span at least (n - 2) intervals.
    const span = (xs: { header: JpegHeader }[]): number => xs[xs.length - 1]!.header.timestamp - xs[0]!.header.timestamp;
    expect(span(f)).toBeGreaterThanOrEqual((f.length - 2) * 200);
    expect(span(s)).toBeGreaterThanOrEqual((s.length - 2) * (1000 / 1.5));
    for (const [list, overlay] of [[f, true], [s, false]] as const) {
      let lastSeq = -1;
      for (const { header, jpeg } of list) {
        expect(jpegHeaderSchema.parse(header)).toEqual(header);
        expect(header).toMatchObject({ type: 'jpeg', camera: 'road', overlay, width: 640, height: 480 });
        expect(header.seq).toBeGreaterThan(lastSeq);
        lastSeq = header.seq;
        expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
      }
      for (const { header, jpeg } of [list[0]!, list[list.length - 1]!]) {
        const meta = await sharp(jpeg).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', header.width, header.height]);
      }
    }
    expect(plain.binary).toHaveLength(0);
    expect(never.binary).toHaveLength(0);
    // The JSON frames go on as before for every client.
    expect(plain.messages.filter((m) => m.type === 'frame').length).toBeGreaterThan(20);
    expect(fast.messages.filter((m) => m.type === 'frame').length).toBeGreaterThan(20);
    if (process.env['JPEG_TEST_LOG']) console.log({ seconds, fast: f.length, slow: s.length, encoded: [encodedNow[0] - encodedBefore[0], encodedNow[1] - encodedBefore[1]] });
    for (const c of [fast, slow]) await c.request({ type: 'subscribe' }, (m) => m.type === 'subscribed');
  });

  it('nothing is encoded while nobody asks; overlay true and false differ inside an object\'s box and hardly outside', async () => {
    await sleep(500);
    const before = [await encoded(true), await encoded(false)];
    await sleep(1500);
    expect([await encoded(true), await encoded(false)]).toEqual(before);

    const drawn = await connect();
    const clean = await connect();
    await drawn.request({ type: 'subscribe', cameras: ['road'], jpeg: { fps: 4, overlay: true } }, (m) => m.type === 'subscribed');
    await clean.request({ type: 'subscribe', cameras: ['road'], jpeg: { fps: 4, overlay: false } }, (m) => m.type === 'subscribed');
    // The same frames in both variants: find one with a large detected object.
    let compared = 0;
    const deadline = Date.now() + 20_000;
    while (compared < 3 && Date.now() < deadline) {
      await sleep(500);
      const frames = new Map((drawn.messages.filter((m) => m.type === 'frame') as unknown as FrameMessage[]).map((m) => [m.seq, m]));
      const cleanBySeq = new Map(jpegsOf(clean).map((j) => [j.header.seq, j]));
      for (const d of jpegsOf(drawn)) {
        const c = cleanBySeq.get(d.header.seq);
        const frame = frames.get(d.header.seq);
        const big = frame?.objects.filter((o) => !o.predicted && (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]) > 2000);
        if (!c || !frame || !big || big.length === 0) continue;
        const [a, b] = await Promise.all([sharp(d.jpeg).raw().toBuffer(), sharp(c.jpeg).raw().toBuffer()]);
        const { width, height } = d.header;
        const sx = width / frame.width;
        const sy = height / frame.height;
        const inAnyBox = (x: number, y: number, pad: number): boolean =>
          frame.objects.some((o) => x >= o.box[0] * sx - pad && x <= o.box[2] * sx + pad && y >= o.box[1] * sy - pad - 30 && y <= o.box[3] * sy + pad);
        const meanDiff = (pred: (x: number, y: number) => boolean): number => {
          let sum = 0;
          let n = 0;
          for (let y = 0; y < height; y++) {
            for (let x = 0; x < width; x++) {
              if (!pred(x, y)) continue;
              const i = (y * width + x) * 3;
              sum += Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!);
              n++;
            }
          }
          return n === 0 ? 0 : sum / n / 3;
        };
        const o = big[0]!;
        const inside = meanDiff((x, y) => x >= o.box[0] * sx && x < o.box[2] * sx && y >= o.box[1] * sy && y < o.box[3] * sy);
        const outside = meanDiff((x, y) => !inAnyBox(x, y, 12));
        expect(inside, `seq ${d.header.seq}: mean |drawn - clean| inside the box of ${o.label}`).toBeGreaterThan(8);
        expect(outside, `seq ${d.header.seq}: outside every box`).toBeLessThan(3);
        compared++;
        if (compared >= 3) break;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(3);
    expect(await encoded(true)).toBeGreaterThan(before[0]!);
  });

  it('segstream/client emits JPEG frames as jpeg events, asked for again after a subscribe without options', async () => {
    const client = connectClient({ url: `ws://127.0.0.1:${app.address.port}`, WebSocket: WebSocket as never, reconnect: false });
    try {
      const got: JpegFrame[] = [];
      client.on('jpeg', (f) => got.push(f));
      expect(await client.subscribe(['road'], { jpeg: { fps: 3, overlay: false } })).toMatchObject({ jpeg: { fps: 3, overlay: false } });
      const deadline = Date.now() + 10_000;
      while (got.length < 3 && Date.now() < deadline) await sleep(100);
      expect(got.length).toBeGreaterThanOrEqual(3);
      const meta = await sharp(got[0]!.jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', got[0]!.header.width, got[0]!.header.height]);
      expect(got[0]!.header).toMatchObject({ type: 'jpeg', camera: 'road', overlay: false });
      expect(client.malformed).toBe(0);
      // A subscribe without options keeps the JPEG frames asked for; null stops them.
      expect(await client.subscribe('*')).toMatchObject({ cameras: '*', jpeg: { fps: 3, overlay: false } });
      expect((await client.subscribe('*', { jpeg: null })).jpeg).toBeUndefined();
    } finally {
      client.close();
    }
  });
});
