import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { computeLetterbox, SegstreamError, type Frame } from '../../src/core/index.js';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec } from '../../src/ingest/index.js';
import { decodeFrame, defaultEngineOptions, InferenceEngine, readModelFile, type EngineOptions, type WorkerImage } from '../../src/pipeline/index.js';
import { buildFakeSegModel, detTensor } from '../helpers/onnxModels.js';

const SHARED = join(import.meta.dirname, '../../../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
const MODEL_INT8 = join(SHARED, 'models/yolov8n-seg-320-int8.onnx');
const HIGHWAY = join(SHARED, 'data/images/road/highway_normal_1.png');
const dir = mkdtempSync(join(tmpdir(), 'segstream-model-'));
const engines: InferenceEngine[] = [];

afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

function options(over: Partial<EngineOptions> = {}): EngineOptions {
  return { ...defaultEngineOptions(), threadsPerWorker: 1, ...over };
}

async function engineFor(path: string, over: Partial<EngineOptions> = {}): Promise<InferenceEngine> {
  const { bytes, info } = await readModelFile(path);
  const e = await InferenceEngine.create(info, bytes, options(over));
  engines.push(e);
  return e;
}

function writeModel(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Decodes a still image through the real ingest path (ffmpeg, at its own size) into one frame. */
async function imageFrame(path: string): Promise<Frame> {
  const src = new CameraSource(parseSourceSpec(path, 0), { ...DEFAULT_SOURCE_OPTIONS, realtime: false, modelWidth: 320, modelHeight: 320 });
  const frames = firstValueFrom(src.frames$.pipe(toArray()));
  src.start();
  const all = await frames;
  await src.stop();
  expect(all.length).toBe(1);
  return all[0]!;
}

/** The frame as the engine takes it, on a buffer of its own (the engine transfers it). */
const copy = (f: Frame): WorkerImage => ({ data: new Uint8Array(f.data), letterbox: f.letterbox });

describe('model loading', () => {
  it('reads class names, input size and a dynamic batch from the float32 YOLOv8n-seg export', async () => {
    const { info } = await readModelFile(MODEL);
    expect(info.numClasses).toBe(80);
    expect(info.classNames[2]).toBe('car');
    expect([info.inputWidth, info.inputHeight]).toEqual([320, 320]);
    expect(info.numMasks).toBe(32);
    expect(info.numAnchors).toBe(2100);
    expect(info.batch).toBeNull();
    expect(info.stride).toBe(32);
  });

  it('reads the int8 export as a static batch-1 model', async () => {
    const { info } = await readModelFile(MODEL_INT8);
    expect(info.batch).toBe(1);
    expect(info.numClasses).toBe(80);
  });

  it('a missing file is E_MODEL_NOT_FOUND naming the path', async () => {
    const p = join(dir, 'nope.onnx');
    await expect(readModelFile(p)).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND', message: expect.stringContaining(p) });
  });

  it('random bytes are E_MODEL_CORRUPT naming the path', async () => {
    const p = writeModel('garbage.onnx', new Uint8Array(4096).map((_, i) => (i * 7919) % 251));
    await expect(readModelFile(p)).rejects.toMatchObject({ code: 'E_MODEL_CORRUPT', message: expect.stringContaining(p) });
  });

  it('a truncated copy of the real model fails to load with E_MODEL_CORRUPT', async () => {
    const { bytes } = await readModelFile(MODEL);
    const p = writeModel('truncated.onnx', bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await (async () => {
      const { bytes: b, info } = await readModelFile(p);
      return InferenceEngine.create(info, b, options());
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SegstreamError);
    expect((err as SegstreamError).code).toBe('E_MODEL_CORRUPT');
    expect((err as SegstreamError).message).toContain(p);
  });

  it('a detection-only model (no prototypes) is E_MODEL_NOT_SEGMENTATION', async () => {
    const det = detTensor(80, 0, 10, []);
    const p = writeModel('detect.onnx', buildFakeSegModel({ numClasses: 80, numMasks: 0, numAnchors: 10, det, withProtos: false }));
    await expect(readModelFile(p)).rejects.toMatchObject({ code: 'E_MODEL_NOT_SEGMENTATION' });
  });

  it('a graph onnxruntime cannot run is E_MODEL_CORRUPT at start-up', async () => {
    const det = detTensor(1, 32, 10, []);
    const p = writeModel('badop.onnx', buildFakeSegModel({ numClasses: 1, numAnchors: 10, det, brokenOp: 'NoSuchOp' }));
    const { bytes, info } = await readModelFile(p);
    await expect(InferenceEngine.create(info, bytes, options())).rejects.toMatchObject({ code: 'E_MODEL_CORRUPT' });
  });
});

describe('FastSAM-style one-class models', () => {
  // One box at input (110..210, 120..200); prototype 0 is +1 on the left half of the
  // input and -1 on the right, so the mask is the left half of the box.
  const nm = 32;
  const protos = new Float32Array(nm * 80 * 80);
  for (let y = 0; y < 80; y++) for (let x = 0; x < 80; x++) protos[y * 80 + x] = x < 40 ? 1 : -1;
  const det = detTensor(1, nm, 50, [
    { cx: 160, cy: 160, w: 100, h: 80, classId: 0, score: 0.9, coef: [2] },
    { cx: 162, cy: 161, w: 98, h: 80, classId: 0, score: 0.6, coef: [2] }, // duplicate: NMS removes it
    { cx: 40, cy: 40, w: 20, h: 20, classId: 0, score: 0.1, coef: [2] }, // below confidence
  ]);

  for (const batch of [1, null] as const) {
    it(`derives one class from 4+1+32 channels and decodes a ${batch === null ? 'dynamic' : 'static'}-batch model, several frames per call`, async () => {
      const p = writeModel(`fastsam-${batch}.onnx`, buildFakeSegModel({ numClasses: 1, numAnchors: 50, det, protos, batch }));
      const engine = await engineFor(p, { maxBatch: 4 });
      expect(engine.info.numClasses).toBe(1);
      expect(engine.info.classNames).toEqual(['object']);
      expect(engine.maxBatch).toBe(batch === 1 ? 1 : 4);
      const lb = computeLetterbox(640, 480, 320, 320);
      const images = [0, 1, 2].map(() => ({ data: new Uint8Array(640 * 480 * 3).fill(114), letterbox: lb }));
      const out = await engine.run(images);
      expect(out.images).toHaveLength(3);
      expect(out.inputs.map((b) => b.length)).toEqual([921600, 921600, 921600]);
      for (const [i, image] of out.images.entries()) {
        const seg = decodeFrame(
          {
            frame: { camera: 'c', seq: i, timestamp: 0, pts: 0, width: 640, height: 480, format: 'rgb24', data: out.inputs[i]!, letterbox: lb },
            image,
            timings: { ...out.timings, queueMs: 0, batchSize: 3 },
          },
          engine.info,
        );
        expect(seg.detections.length).toBe(1);
        // Input box 110..210 x 120..200 -> source (x2, y-40 then x2): 220..420 x 160..320.
        expect(seg.detections.box(0).map(Math.round)).toEqual([220, 160, 420, 320]);
        const m = seg.detections.masks[0]!;
        expect([m.x, m.y, m.width, m.height]).toEqual([220, 160, 200, 160]);
        // Left half of the input = source x < 320.
        for (let y = 0; y < m.height; y += 7) {
          for (let x = 0; x < m.width; x += 7) {
            const sx = m.x + x + 0.5;
            if (Math.abs(sx - 320) < 8) continue;
            expect(m.data[y * m.width + x], `pixel ${sx},${m.y + y}`).toBe(sx < 320 ? 1 : 0);
          }
        }
      }
    });
  }
});

describe('real YOLOv8n-seg inference', () => {
  it('finds cars with masks inside their boxes in a highway photo decoded by ffmpeg', async () => {
    const engine = await engineFor(MODEL);
    const frame = await imageFrame(HIGHWAY);
    const out = await engine.run([copy(frame)]);
    const seg = decodeFrame({ frame, image: out.images[0]!, timings: { ...out.timings, queueMs: 0, batchSize: 1 } }, engine.info);
    const cars = [...seg.detections.classIds.keys()].filter((i) => engine.info.classNames[seg.detections.classIds[i]!] === 'car');
    expect(cars.length).toBeGreaterThan(0);
    for (const i of cars) {
      const [x1, y1, x2, y2] = seg.detections.box(i);
      const m = seg.detections.masks[i]!;
      expect(m.x).toBeGreaterThanOrEqual(Math.floor(x1));
      expect(m.y).toBeGreaterThanOrEqual(Math.floor(y1));
      expect(m.x + m.width).toBeLessThanOrEqual(Math.ceil(x2));
      expect(m.y + m.height).toBeLessThanOrEqual(Math.ceil(y2));
      const area = m.data.reduce((s, v) => s + v, 0);
      // A car fills a good part of its box; a square or empty mask would not pass both.
      expect(area).toBeGreaterThan(0.3 * m.width * m.height);
      expect(area).toBeLessThan(m.width * m.height);
    }
  });

  it('a dynamic batch gives the same detections as single images', async () => {
    const engine = await engineFor(MODEL, { maxBatch: 2 });
    const frame = await imageFrame(HIGHWAY);
    const single = await engine.run([copy(frame)]);
    const batched = await engine.run([copy(frame), copy(frame)]);
    expect(batched.images).toHaveLength(2);
    for (const img of batched.images) {
      expect(img.raw.classIds).toEqual(single.images[0]!.raw.classIds);
      const a = Array.from(img.raw.boxes);
      const b = Array.from(single.images[0]!.raw.boxes);
      a.forEach((v, k) => expect(v).toBeCloseTo(b[k]!, 1));
    }
  });

  it('the static batch-1 int8 model runs a batch of two as two session runs', async () => {
    const engine = await engineFor(MODEL_INT8, { maxBatch: 8 });
    expect(engine.maxBatch).toBe(1);
    const frame = await imageFrame(HIGHWAY);
    const out = await engine.run([copy(frame), copy(frame)]);
    expect(out.images).toHaveLength(2);
    expect(out.images[0]!.raw.scores.length).toBeGreaterThan(0);
    expect(Array.from(out.images[1]!.raw.classIds)).toEqual(Array.from(out.images[0]!.raw.classIds));
  });
});
