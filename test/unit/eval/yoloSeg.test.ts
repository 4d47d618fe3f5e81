import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cocoImageIds, labelsDirFor, loadYoloSegDataset, parseYoloSegLabels } from '../../../src/eval/index.js';

describe('cocoImageIds', () => {
  it('takes the number of an all-digit name, else the position in sorted order', () => {
    // Sorted: 000000000042.png, a.jpg, b.jpg -> a is 1, b is 2.
    expect(cocoImageIds(['/x/b.jpg', '/x/000000000042.png', '/x/a.jpg'])).toEqual([2, 42, 1]);
    expect(() => cocoImageIds(['1.jpg', '001.png'])).toThrow(/image id 1/);
  });
});

describe('parseYoloSegLabels', () => {
  it('reads one polygon per line and rejects what is not one', () => {
    expect(parseYoloSegLabels('3 0.1 0.2 0.3 0.4 0.5 0.6\n\n')).toEqual([{ classId: 3, points: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6] }]);
    // A detection label (class cx cy w h) is not a polygon.
    expect(() => parseYoloSegLabels('0 0.5 0.5 0.2 0.2', 'a.txt')).toThrow(/a.txt:1/);
    expect(() => parseYoloSegLabels('0 0.1 0.2 0.3 0.4 0.5 0.6 0.7')).toThrow(SyntaxError);
    expect(() => parseYoloSegLabels('x 0.1 0.2 0.3 0.4 0.5 0.6')).toThrow(SyntaxError);
  });
});

describe('loadYoloSegDataset', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'segstream-yolo-'));
    mkdirSync(join(root, 'images', 'val'), { recursive: true });
    mkdirSync(join(root, 'labels', 'val'), { recursive: true });
    const png = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#808080' } }).png().toBuffer();
    writeFileSync(join(root, 'images', 'val', '000000000007.png'), await png(10, 8));
    writeFileSync(join(root, 'images', 'val', 'street.png'), await png(4, 4));
    writeFileSync(join(root, 'images', 'val', 'notes.txt'), 'not an image');
    // A square from (1, 2) to (4, 6) px in the 10x8 image: 0.1*10, 0.25*8, 0.4*10, 0.75*8.
    // Centres x 1.5..3.5 (3) by y 2.5..5.5 (4) are inside: 12 px.
    writeFileSync(join(root, 'labels', 'val', '000000000007.txt'), '5 0.1 0.25 0.4 0.25 0.4 0.75 0.1 0.75\n');
    // street.png has no label file: an image without instances.
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds the labels beside the images as Ultralytics does', () => {
    expect(labelsDirFor(join(root, 'images', 'val'))).toBe(join(root, 'labels', 'val'));
  });

  it('reads images, sizes, polygons in px, boxes and rasterised masks', async () => {
    const ds = await loadYoloSegDataset(join(root, 'images', 'val'), { names: ['a', 'b', 'c', 'd', 'e', 'f'] });
    // Sorted names: 000000000007.png (id 7), street.png (position 1).
    expect(ds.images.map((im) => [im.id, im.file_name, im.width, im.height])).toEqual([
      [1, 'street.png', 4, 4],
      [7, '000000000007.png', 10, 8],
    ]);
    expect(ds.categories).toHaveLength(6);
    expect(ds.categories[5]).toEqual({ id: 5, name: 'f' });
    expect(ds.annotations).toHaveLength(1);
    const a = ds.annotations[0]!;
    expect(a.image_id).toBe(7);
    expect(a.category_id).toBe(5);
    expect(a.bbox.map((v) => Number(v.toFixed(9)))).toEqual([1, 2, 3, 4]);
    expect(a.mask!.area).toBe(12);
    expect([a.mask!.width, a.mask!.height]).toEqual([10, 8]);
    // Column-major: column 1 starts at index 8, rows 2..5 -> first pixel 8 + 2 = 10.
    expect(a.mask!.counts.slice(0, 4)).toEqual([10, 4, 4, 4]);
  });

  it('without names, the categories are the classes that occur', async () => {
    const ds = await loadYoloSegDataset(join(root, 'images', 'val'));
    expect(ds.categories).toEqual([{ id: 5 }]);
  });
});
