import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { cameraConfig, parseConfig, type Config } from '../../src/config/index.js';
import { decodeJpegMessage, frameMessageSchema, type FrameMessage, type WireObject } from '../../src/protocol/index.js';
import { CCTV_640x480, countFrames, makeStillThenMovingClip } from '../helpers/media.js';
import { TestClient } from '../helpers/wsClient.js';

const MODEL = join(import.meta.dirname, '../../../shared/models/yolov8n-seg-320.onnx');
const ROOT = mkdtempSync(join(tmpdir(), 'segstream-gate-'));
const CLIP = join(ROOT, 'still-then-moving.mp4');
/** 3 s of the intersection's first frame, then 3 s of its traffic: seq 0-89 still, seq 90 the same picture, then motion. */
const STILL = 90;
makeStillThenMovingClip(CCTV_640x480, CLIP, STILL, 3);
const FRAMES = countFrames(CLIP);
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

/** What a carried object must keep: id, label, box (masks: none). */
const objectsOf = (f: FrameMessage): Pick<WireObject, 'id' | 'label' | 'box' | 'predicted'>[] => f.objects.map((o) => ({ id: o.id, label: o.label, box: o.box, predicted: o.predicted }));

describe('motion gating through the real service (ffmpeg, model, tracker, WebSocket, JPEG frames)', () => {
  let app: App;
  let config: Config;
  let client: TestClient;
  const frames = new Map<string, FrameMessage[]>();

  beforeAll(async () => {
    config = parseConfig({
      inference: { model: MODEL, threads: 1 },
      server: { host: '127.0.0.1', port: 0 },
      ingest: { realtime: false, mediaRoots: [ROOT] },
    });
    app = await startApp(config);
    client = await TestClient.connect(app.address.port);
    await client.request({ type: 'subscribe', masks: 'none', jpeg: { fps: 30, overlay: true } }, (m) => m.type === 'subscribed');
    // Added once the client listens, so it sees every frame: one camera gated, one as by default.
    const entry = (id: string, extra: object) => cameraConfig({ id, url: CLIP, enabled: true, ...extra }, config, { field: 'camera' });
    await app.cameras.add(entry('gated', { motionGate: { enabled: true } }));
    await app.cameras.add(entry('plain', {}));
    for (const camera of ['gated', 'plain']) await client.next((m) => m.type === 'frame' && m['camera'] === camera && m['seq'] === FRAMES - 1, 90_000);
    for (const camera of ['gated', 'plain']) frames.set(camera, client.messages.filter((m) => m.type === 'frame' && m['camera'] === camera) as unknown as FrameMessage[]);
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it('publishes the still stretch gated, each frame with the objects and track ids of the last inferred frame', () => {
    const gated = frames.get('gated')!;
    expect(gated.map((f) => f.seq)).toEqual([...Array(FRAMES).keys()]);
    const still = gated.filter((f) => f.seq < STILL);
    expect(still[0]!.gated).toBeUndefined();
    // At most one inferred frame a second (maxSkipS 1) besides the first.
    expect(still.filter((f) => f.gated).length).toBeGreaterThanOrEqual(STILL - 5);
    let last: FrameMessage | undefined;
    for (const f of still) {
      if (!f.gated) {
        last = f;
        continue;
      }
      expect(objectsOf(f), `seq ${f.seq}`).toEqual(objectsOf(last!));
      expect(frameMessageSchema.parse(f)).toEqual(f);
      expect(f.pts).toBeGreaterThan(last!.pts);
    }
    const cars = still[0]!.objects.filter((o) => o.label === 'car' && o.id !== undefined);
    expect(cars.length).toBeGreaterThan(0);
    // The frames inferred during the stretch see the same picture: the same tracks.
    const ids = (f: FrameMessage) => f.objects.map((o) => o.id).filter((id) => id !== undefined).sort();
    for (const f of still.filter((x) => !x.gated)) expect(ids(f)).toEqual(ids(still[0]!));
  });

  it('sends every frame after the still stretch to inference', () => {
    const moving = frames.get('gated')!.filter((f) => f.seq > STILL);
    expect(moving.length).toBeGreaterThan(30);
    expect(moving.filter((f) => f.gated)).toEqual([]);
  });

  it('gates nothing on a camera with the default options', () => {
    const plain = frames.get('plain')!;
    expect(plain.length).toBeGreaterThanOrEqual(FRAMES - 2);
    expect(plain.filter((f) => f.gated !== undefined)).toEqual([]);
  });

  it('counts gated frames in /metrics and in the camera view', async () => {
    const n = frames.get('gated')!.filter((f) => f.gated).length;
    const text = await (await fetch(`http://127.0.0.1:${app.address.port}/metrics`)).text();
    expect(text).toContain(`segstream_frames_gated_total{camera="gated"} ${n}`);
    expect(text).not.toContain('segstream_frames_gated_total{camera="plain"} 1');
    expect(app.cameras.require('gated').view()).toMatchObject({ framesGated: n });
    expect(app.cameras.require('plain').view()).toMatchObject({ framesGated: 0 });
    // Gated frames are published frames.
    expect(app.cameras.require('gated').view().framesProcessed).toBe(FRAMES);
  });

  it("sends a gated frame's picture out as a JPEG frame with its overlay", () => {
    const gatedSeqs = new Set(frames.get('gated')!.filter((f) => f.gated).map((f) => f.seq));
    const jpegs = client.binary.map((b) => decodeJpegMessage(b.data).header).filter((h) => h.camera === 'gated');
    expect(jpegs.filter((h) => gatedSeqs.has(h.seq) && h.overlay).length).toBeGreaterThan(0);
  });
});
