/**
 * `segstream segment`: offline segmentation of still images into COCO results, through the
 * real CLI, the real model and the live path's letterbox, inference and mask decoding.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRle } from '../../src/publish/rle.js';
import { imageIdOf, type CocoResult } from '../../src/segmentCommand.js';

const ROOT = join(import.meta.dirname, '../..');
const COCO = join(ROOT, '../shared/data/seg/coco128-seg/images/train2017');
const ROAD = join(ROOT, '../shared/data/images/road');
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'segment'];

const dir = mkdtempSync(join(tmpdir(), 'segstream-segment-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function segment(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Result = CocoResult;

describe('segstream segment', () => {
  let results: Result[];
  const folder = join(dir, 'images');
  const named = join(dir, 'street photo.jpg');

  beforeAll(async () => {
    // A folder of three COCO images (with a text file that is not an image), and one named file.
    mkdirSync(folder);
    for (const f of ['000000000009.jpg', '000000000025.jpg', '000000000030.jpg']) copyFileSync(join(COCO, f), join(folder, f));
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    await sharp(join(ROAD, readdirSync(ROAD).sort()[0]!)).jpeg().toFile(named);
    const out = join(dir, 'results.json');
    const r = segment([folder, named, '--out', out, '--conf', '0.25']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/results\.json: \d+ detections in 4 images/);
    results = JSON.parse(readFileSync(out, 'utf8')) as Result[];
  }, 180_000);

  it("writes COCO's results format: every field, model class ids and names, boxes as x, y, w, h", () => {
    expect(results.length).toBeGreaterThan(5);
    for (const r of results) {
      expect(Object.keys(r).sort()).toEqual(['bbox', 'category_id', 'category_name', 'file_name', 'image_id', 'score', 'segmentation']);
      expect(Number.isInteger(r.category_id) && r.category_id >= 0 && r.category_id < 80).toBe(true);
      expect(r.score).toBeGreaterThan(0.25);
      expect(r.bbox[2]).toBeGreaterThan(0);
      expect(r.bbox[3]).toBeGreaterThan(0);
    }
    // 000000000009.jpg is a meal: bowls (45) and broccoli (50) among what the model finds.
    const names = new Set(results.filter((r) => r.image_id === 9).map((r) => `${r.category_id}:${r.category_name}`));
    expect(names.has('45:bowl')).toBe(true);
  });

  it('numbers images by their file name, else by their position; skips what is not an image', () => {
    expect([...new Set(results.map((r) => r.image_id))].sort((a, b) => a - b)).toEqual(expect.arrayContaining([9, 25, 30]));
    const other = results.filter((r) => r.file_name === named);
    expect(other.length).toBeGreaterThan(0);
    // Position 3: after the folder's three images.
    expect(new Set(other.map((r) => r.image_id))).toEqual(new Set([3]));
    expect(imageIdOf('/x/000000000042.jpg', 7)).toBe(42);
    expect(imageIdOf('/x/img_42.jpg', 7)).toBe(7);
    expect(results.some((r) => r.file_name.endsWith('notes.txt'))).toBe(false);
  });

  it('keeps 4 or more decimals of each score and 2 of each box (no 0.001 rounding)', () => {
    const decimals = (v: number): number => (String(v).split('.')[1] ?? '').length;
    expect(results.filter((r) => decimals(r.score) >= 4).length).toBeGreaterThan(results.length * 0.8);
    expect(results.every((r) => r.bbox.every((v) => decimals(v) <= 2))).toBe(true);
    expect(results.some((r) => r.bbox.some((v) => decimals(v) === 2))).toBe(true);
  });

  it('gives each mask as a full-image compressed RLE that lies inside its box', async () => {
    const meta = await sharp(join(COCO, '000000000025.jpg')).metadata();
    for (const r of results) {
      const [h, w] = r.segmentation.size;
      if (r.image_id === 25) expect([w, h]).toEqual([meta.width, meta.height]);
      const bits = decodeRle(r.segmentation);
      expect(bits.length).toBe(w * h);
      let area = 0;
      let outside = 0;
      const [bx, by, bw, bh] = r.bbox;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          if (!bits[y * w + x]) continue;
          area++;
          if (x + 0.5 < bx - 0.5 || x + 0.5 > bx + bw + 0.5 || y + 0.5 < by - 0.5 || y + 0.5 > by + bh + 0.5) outside++;
        }
      }
      expect(outside).toBe(0);
      if (r.score > 0.5) expect(area).toBeGreaterThan(0);
    }
  });

  it('reports an unreadable image with its code, writes the rest, and exits 1', () => {
    const bad = join(dir, 'broken.jpg');
    writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
    const out = join(dir, 'partial.json');
    const r = segment([bad, join(COCO, '000000000009.jpg'), '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/E_SOURCE_UNREADABLE: cannot decode .*broken\.jpg/);
    const partial = JSON.parse(readFileSync(out, 'utf8')) as Result[];
    expect(partial.length).toBeGreaterThan(0);
    expect(new Set(partial.map((p) => p.image_id))).toEqual(new Set([9]));
  }, 120_000);

  it('refuses a missing input and a bad option with exit 2 and a clear message', () => {
    const missing = segment([join(dir, 'nope'), '--out', join(dir, 'x.json')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/E_SOURCE_UNREADABLE: cannot read .*nope: ENOENT/);
    const conf = segment([folder, '--out', join(dir, 'x.json'), '--conf', '2']);
    expect(conf.status).toBe(2);
    expect(conf.stderr).toMatch(/E_CONFIG: .*inference\.confidence/);
    // No CUDA build here: the device is refused naming how to get it (no silent CPU run).
    const cuda = segment([join(COCO, '000000000009.jpg'), '--out', join(dir, 'x.json'), '--device', 'cuda']);
    expect(cuda.status).toBe(2);
    expect(cuda.stderr).toMatch(/E_DEVICE_UNAVAILABLE: cannot run inference on cuda: .*onnxruntime-node-install=cuda12/);
  }, 120_000);
});
