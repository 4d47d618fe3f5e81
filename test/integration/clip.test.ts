import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeLetterbox, Detections, SegstreamError, type MaskCrop } from '../../src/core/index.js';
import { ClipTextSelector } from '../../src/prompts/clip.js';
import { ClipThreadSelector } from '../../src/prompts/clipThread.js';
import type { RgbImage } from '../../src/prompts/image.js';
import { select } from '../../src/prompts/select.js';
import { ClipTokenizer } from '../../src/prompts/tokenizer.js';
import { startApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { buildImageEncoder, buildTextEncoder, embeddingTable } from '../helpers/clipModels.js';
import { TestClient } from '../helpers/wsClient.js';

const dir = mkdtempSync(join(tmpdir(), 'segstream-clip-'));
const write = (name: string, bytes: Uint8Array | string): string => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

// A tiny merges list: 'green', 'red' and 'blue' become single tokens; everything else stays
// bytes. Order matters: with 'r e' ranked first, 'green' would stop at g|re|e|n.
const MERGES = ['g r', 'e e', 'gr ee', 'gree n</w>', 'r e', 're d</w>', 'b l', 'u e</w>', 'bl ue</w>'];
const MERGES_FILE = `#version: 0.2\n${MERGES.join('\n')}\n`;
// Token ids as the CLIP vocabulary layout gives them: 512 byte symbols, then one per merge.
const GREEN = 512 + 3;
const RED = 512 + 5;
const BLUE = 512 + 8;
const DIM = 3;
// Text embeddings, in the image encoder's space (per-channel means of the normalised crop).
const ROWS = { [RED]: [1, -1, -1], [BLUE]: [-1, -1, 1], [GREEN]: [-1, 1, -1] };
const EYE = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);

/** A 96 x 64 grey frame with a red disc, a blue disc whose box overlaps the red disc's box, and a small green square. */
function scene(): { image: RgbImage; det: Detections } {
  const W = 96;
  const H = 64;
  const data = new Uint8Array(W * H * 3).fill(128);
  const masks: MaskCrop[] = [];
  const boxes: number[] = [];
  const disc = (cx: number, cy: number, r: number, rgb: [number, number, number]): void => {
    const x0 = cx - r;
    const y0 = cy - r;
    const size = 2 * r;
    const m = new Uint8Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if ((x + 0.5 - r) ** 2 + (y + 0.5 - r) ** 2 > r * r) continue;
        m[y * size + x] = 1;
        data.set(rgb, ((y0 + y) * W + x0 + x) * 3);
      }
    }
    masks.push({ x: x0, y: y0, width: size, height: size, data: m });
    boxes.push(x0, y0, x0 + size, y0 + size);
  };
  disc(24, 32, 14, [255, 0, 0]);
  disc(50, 32, 11, [0, 0, 255]);
  // 8 x 8 = 64 px: below FastSAM's 100 px floor, never scored.
  disc(84, 10, 4, [0, 255, 0]);
  const det = new Detections({
    boxes: Float32Array.from(boxes),
    scores: Float32Array.from([0.9, 0.9, 0.9]),
    classIds: Int32Array.from([0, 0, 0]),
    masks,
  });
  return { image: { width: W, height: H, data }, det };
}

const selectors: ClipTextSelector[] = [];
let tokenizer: ClipTokenizer;
let files: { image: string; text: string; merges: string };

beforeAll(async () => {
  const merges = write('merges.txt.gz', gzipSync(MERGES_FILE));
  tokenizer = await ClipTokenizer.fromFiles(merges);
  files = {
    merges,
    image: write('image.onnx', buildImageEncoder({ weights: EYE, dim: DIM })),
    text: write('text.onnx', buildTextEncoder({ table: embeddingTable(tokenizer.vocabSize, DIM, ROWS), vocabSize: tokenizer.vocabSize, dim: DIM })),
  };
});

afterAll(async () => {
  await Promise.all(selectors.map((s) => s.close()));
});

async function load(over: Partial<typeof files> = {}): Promise<ClipTextSelector> {
  const s = await ClipTextSelector.load({ ...files, ...over });
  selectors.push(s);
  return s;
}

describe('CLIP text prompt with tiny ONNX encoders', () => {
  it('the tokenizer built from the gzipped merges file maps the colour words to single tokens', () => {
    expect(tokenizer.encode('Red')).toEqual([RED]);
    expect(tokenizer.encode('green')).toEqual([GREEN]);
    expect(tokenizer.encode('a photo of a BLUE object').includes(BLUE)).toBe(true);
    expect(tokenizer.sotId).toBe(512 + MERGES.length);
    expect(tokenizer.eotId).toBe(512 + MERGES.length + 1);
  });

  it("'red' selects the red disc and 'a photo of a blue object' the blue one, by softmax over masks", async () => {
    const clip = await load();
    const { image, det } = scene();
    const red = await clip.selectByText('red', det, image);
    expect(red.index).toBe(0);
    expect(red.probabilities[0]).toBeGreaterThan(0.99);
    const blue = await clip.selectByText('a photo of a blue object', det, image);
    expect(blue.index).toBe(1);
    expect(blue.probabilities[1]).toBeGreaterThan(0.99);
    // The green square is under minMaskArea: not scored, probability 0; the rest sums to 1.
    expect(blue.probabilities[2]).toBe(0);
    expect(blue.probabilities[0]! + blue.probabilities[1]!).toBeCloseTo(1, 5);
  });

  it('scores the green square only once minMaskArea allows it', async () => {
    const clip = await load();
    const small = await ClipTextSelector.create(readFileSync(files.image), readFileSync(files.text), tokenizer, { minMaskArea: 10 });
    selectors.push(small);
    const { image, det } = scene();
    expect((await small.selectByText('green', det, image)).index).toBe(2);
    expect((await clip.selectByText('green', det, image)).index).not.toBe(2);
  });

  it('select() routes a text prompt to CLIP when a selector and the frame image are given', async () => {
    const clip = await load();
    const { image, det } = scene();
    const s = await select({ kind: 'text', text: 'blue' }, det, { classNames: ['object'], textSelector: clip, image });
    expect(s).toMatchObject({ indices: [1], method: 'clip' });
  });

  it('crops from a letterboxed frame (the model input a segstream Frame carries)', async () => {
    const clip = await load();
    const { image: src, det } = scene();
    // Letterbox the 96x64 source into 48x48 by 2x2 averaging; 8 rows of padding top and bottom.
    const lb = computeLetterbox(96, 64, 48, 48);
    expect([lb.innerWidth, lb.innerHeight, lb.padX, lb.padY]).toEqual([48, 32, 0, 8]);
    const data = new Uint8Array(48 * 48 * 3).fill(114);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 48; x++) {
        for (let c = 0; c < 3; c++) {
          const at = (sx: number, sy: number): number => src.data[(sy * 96 + sx) * 3 + c]!;
          data[((y + 8) * 48 + x) * 3 + c] = Math.round((at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1)) / 4);
        }
      }
    }
    const image: RgbImage = { width: 48, height: 48, data, letterbox: lb };
    expect((await clip.selectByText('red', det, image)).index).toBe(0);
    expect((await clip.selectByText('blue', det, image)).index).toBe(1);
  });

  it('works with int32 ids plus an attention mask, and a fixed batch-1 image encoder', async () => {
    const clip = await load({
      image: write('image-b1.onnx', buildImageEncoder({ weights: EYE, dim: DIM, batch: 1 })),
      text: write(
        'text-mask.onnx',
        buildTextEncoder({ table: embeddingTable(tokenizer.vocabSize, DIM, ROWS), vocabSize: tokenizer.vocabSize, dim: DIM, idsType: 'int32', attentionMask: true }),
      ),
    });
    const { image, det } = scene();
    expect((await clip.selectByText('the red one', det, image)).index).toBe(0);
    expect((await clip.selectByText('blue', det, image)).index).toBe(1);
  });

  it('no mask large enough to score is E_PROMPT_NO_MATCH', async () => {
    const clip = await load();
    const { image, det } = scene();
    const onlyGreen = new Detections({ boxes: det.boxes.slice(8, 12), scores: det.scores.slice(2), classIds: det.classIds.slice(2), masks: [det.masks[2]!] });
    await expect(clip.selectByText('green', onlyGreen, image)).rejects.toMatchObject({ code: 'E_PROMPT_NO_MATCH' });
  });

  it('a missing encoder file is E_MODEL_NOT_FOUND, garbage E_MODEL_CORRUPT, a 1-channel image input E_MODEL_SHAPE', async () => {
    await expect(ClipTextSelector.load({ ...files, image: join(dir, 'nope.onnx') })).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND' });
    await expect(ClipTextSelector.load({ ...files, text: write('garbage.onnx', new Uint8Array(512).fill(7)) })).rejects.toMatchObject({
      code: 'E_MODEL_CORRUPT',
    });
    await expect(
      ClipTextSelector.load({ ...files, image: write('gray.onnx', buildImageEncoder({ weights: Float32Array.from([1, 1, 1]), dim: DIM, channels: 1 })) }),
    ).rejects.toMatchObject({ code: 'E_MODEL_SHAPE' });
  });

  it('close() is safe twice and later use throws', async () => {
    const clip = await load();
    await clip.close();
    await clip.close();
    await expect(clip.encodeText('red')).rejects.toMatchObject({ code: 'E_INFERENCE' });
  });
});

describe('CLIP in its worker thread (ClipThreadSelector)', () => {
  it('gives the same selection as in-process CLIP, and the main thread keeps running meanwhile', async () => {
    const threaded = await ClipThreadSelector.load(files);
    try {
      const { image, det } = scene();
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const red = await threaded.selectByText('red', det, image);
      const blue = await threaded.selectByText('a photo of a blue object', det, image);
      clearInterval(timer);
      expect(red.index).toBe(0);
      expect(blue.index).toBe(1);
      const local = await (await load()).selectByText('a photo of a blue object', det, image);
      expect(Array.from(blue.probabilities)).toEqual(Array.from(local.probabilities));
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await threaded.close();
      await threaded.close();
    }
  });

  it('refuses text prompts beyond 4 waiting instead of queueing them without bound', async () => {
    const threaded = await ClipThreadSelector.load(files);
    try {
      const { image, det } = scene();
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => threaded.selectByText('red', det, image)));
      expect(results.slice(0, 4).every((r) => r.status === 'fulfilled')).toBe(true);
      for (const r of results.slice(4)) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'E_INFERENCE', message: expect.stringContaining('busy') });
      }
      // Once the queue drains, prompts are taken again.
      expect((await threaded.selectByText('red', det, image)).index).toBe(0);
    } finally {
      await threaded.close();
    }
  });

  it('fails the prompt a crashed worker had, then starts a new worker for the next one', async () => {
    const threaded = await ClipThreadSelector.load(files);
    try {
      const { image, det } = scene();
      const first = threaded.worker;
      const lost = threaded.selectByText('red', det, image);
      await first.terminate();
      await expect(lost).rejects.toMatchObject({ code: 'E_INFERENCE' });
      expect((await threaded.selectByText('a photo of a blue object', det, image)).index).toBe(1);
      expect(threaded.worker).not.toBe(first);
    } finally {
      await threaded.close();
    }
  });

  it('reports a broken encoder file with its code at load, and E_PROMPT_NO_MATCH per request', async () => {
    await expect(ClipThreadSelector.load({ ...files, text: write('garbage2.onnx', new Uint8Array(512).fill(7)) })).rejects.toMatchObject({
      code: 'E_MODEL_CORRUPT',
    });
    const threaded = await ClipThreadSelector.load(files);
    try {
      const { image } = scene();
      const empty = new Detections({ boxes: new Float32Array(0), scores: new Float32Array(0), classIds: new Int32Array(0) });
      const err = await threaded.selectByText('red', empty, image).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SegstreamError);
      expect((err as SegstreamError).code).toBe('E_PROMPT_NO_MATCH');
    } finally {
      await threaded.close();
    }
  });
});

describe('CLIP text prompts through the running service', () => {
  it("a text prompt goes to CLIP when encoders are configured and binds the one best object", async () => {
    const shared = join(import.meta.dirname, '../../../shared');
    const app = await startApp(
      parseConfig({
        cameras: [{ id: 'road', url: join(shared, 'data/videos/urban_intersection_cctv.mp4') }],
        inference: { model: join(shared, 'models/yolov8n-seg-320.onnx'), threads: 1, clip: files },
        server: { host: '127.0.0.1', port: 0 },
        ingest: { realtime: false },
      }),
    );
    const c = await TestClient.connect(app.address.port);
    try {
      // Wait for a frame with a tracked object to select among.
      while (!(await c.frames(1, 'road'))[0]!.objects.some((o) => o.id !== undefined));
      c.ws.send(JSON.stringify({ type: 'prompt', camera: 'road', text: 'red' }));
      const ok = await c.next((m) => m.type === 'prompt.ok' || m.type === 'error');
      expect(ok, JSON.stringify(ok)).toMatchObject({ type: 'prompt.ok', method: 'clip' });
      expect(ok['tracks']).toHaveLength(1);
    } finally {
      c.close();
      await app.close();
    }
  });
});
