import { describe, expect, it } from 'vitest';
import { Detections } from '../../../src/core/index.js';
import { classColour, drawScene, pixelateMask, rgbToYuv, sceneOf, strokePolygon, type I420Image, type MaskBitmap, type OverlayZone } from '../../../src/overlay/index.js';

/** A grey I420 picture (Y 100, U = V = 128). */
function grey(w: number, h: number): I420Image {
  const data = new Uint8Array(w * h * 1.5).fill(128);
  data.fill(100, 0, w * h);
  return { width: w, height: h, data };
}

/** Luma a one-pixel checkerboard of 16 and 236; chroma a checkerboard of its own (U 100/156, V 90/170). */
function checker(w: number, h: number): I420Image {
  const img = grey(w, h);
  const cw = w >> 1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data[y * w + x] = (x + y) & 1 ? 236 : 16;
  for (let cy = 0; cy < h >> 1; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      const odd = (cx + cy) & 1;
      img.data[w * h + cy * cw + cx] = odd ? 156 : 100;
      img.data[w * h * 1.25 + cy * cw + cx] = odd ? 170 : 90;
    }
  }
  return img;
}

const Y = (img: I420Image, x: number, y: number): number => img.data[y * img.width + x]!;
const U = (img: I420Image, x: number, y: number): number => img.data[img.width * img.height + (y >> 1) * (img.width >> 1) + (x >> 1)]!;
const V = (img: I420Image, x: number, y: number): number => img.data[img.width * img.height * 1.25 + (y >> 1) * (img.width >> 1) + (x >> 1)]!;
const yuv = (img: I420Image, x: number, y: number): [number, number, number] => [Y(img, x, y), U(img, x, y), V(img, x, y)];

function mask(x: number, y: number, width: number, height: number, set: (mx: number, my: number) => boolean = () => true): MaskBitmap {
  const data = new Uint8Array(width * height);
  for (let my = 0; my < height; my++) for (let mx = 0; mx < width; mx++) data[my * width + mx] = set(mx, my) ? 1 : 0;
  return { x, y, width, height, data };
}

/** The distinct values of plane samples (x, y) over [x0, x1) x [y0, y1), per plane. */
function distinct(img: I420Image, x0: number, y0: number, x1: number, y1: number): { y: Set<number>; u: Set<number>; v: Set<number> } {
  const out = { y: new Set<number>(), u: new Set<number>(), v: new Set<number>() };
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      out.y.add(Y(img, x, y));
      out.u.add(U(img, x, y));
      out.v.add(V(img, x, y));
    }
  }
  return out;
}

/** Is every pixel of [x0, x1) x [y0, y1) as in `ref` (luma and chroma)? */
function unchanged(img: I420Image, ref: I420Image, x0: number, y0: number, x1: number, y1: number): boolean {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (yuv(img, x, y).join() !== yuv(ref, x, y).join()) return false;
  return true;
}

describe('pixelateMask', () => {
  it('a cell the mask covers takes its mean luma and chroma; cells it does not touch keep their detail', () => {
    const img = checker(32, 32);
    const ref = checker(32, 32);
    pixelateMask(img, mask(8, 8, 8, 8), 1, 1, 8);
    const cell = distinct(img, 8, 8, 16, 16);
    // Half 16, half 236: mean 126 (rounded); chroma half 100/156 and 90/170.
    expect([...cell.y]).toEqual([126]);
    expect([...cell.u]).toEqual([128]);
    expect([...cell.v]).toEqual([130]);
    expect(unchanged(img, ref, 0, 0, 32, 8)).toBe(true);
    expect(unchanged(img, ref, 0, 16, 32, 32)).toBe(true);
    expect(unchanged(img, ref, 0, 8, 8, 16)).toBe(true);
    expect(unchanged(img, ref, 16, 8, 32, 16)).toBe(true);
  });

  it('cells are on the picture grid: a mask inside one cell pixelates the whole cell, its neighbours untouched', () => {
    const img = checker(32, 32);
    const ref = checker(32, 32);
    pixelateMask(img, mask(10, 10, 3, 3), 1, 1, 8);
    expect(distinct(img, 8, 8, 16, 16).y.size).toBe(1);
    expect(unchanged(img, ref, 0, 0, 8, 32)).toBe(true);
    expect(unchanged(img, ref, 16, 0, 32, 32)).toBe(true);
  });

  it('only cells holding a set mask pixel change, not every cell of the crop', () => {
    const img = checker(32, 32);
    const ref = checker(32, 32);
    // Crop 16 x 16 over four cells; only its top-left pixel is set.
    pixelateMask(img, mask(8, 8, 16, 16, (mx, my) => mx === 0 && my === 0), 1, 1, 8);
    expect(distinct(img, 8, 8, 16, 16).y.size).toBe(1);
    expect(unchanged(img, ref, 16, 8, 24, 24)).toBe(true);
    expect(unchanged(img, ref, 8, 16, 16, 24)).toBe(true);
  });

  it('maps the mask to the display by the scale', () => {
    const img = checker(32, 32);
    const ref = checker(32, 32);
    // Source (4, 4) 4 x 4 at 2x: display 8..16.
    pixelateMask(img, mask(4, 4, 4, 4), 2, 2, 8);
    expect(distinct(img, 8, 8, 16, 16).y.size).toBe(1);
    expect(unchanged(img, ref, 16, 0, 32, 32)).toBe(true);
    expect(unchanged(img, ref, 0, 16, 32, 32)).toBe(true);
  });

  it('an odd block size is taken down to even, so chroma cells stay whole', () => {
    const img = checker(32, 32);
    const ref = checker(32, 32);
    // Block 5 -> 4: the cell of pixel (4, 4) is 4..8, not 0..5.
    pixelateMask(img, mask(4, 4, 1, 1), 1, 1, 5);
    expect(distinct(img, 4, 4, 8, 8).y.size).toBe(1);
    expect(unchanged(img, ref, 0, 0, 4, 32)).toBe(true);
    expect(unchanged(img, ref, 8, 0, 32, 32)).toBe(true);
  });

  it('a mask partly off the picture is clipped; an empty mask does nothing', () => {
    const img = checker(16, 16);
    const ref = checker(16, 16);
    pixelateMask(img, mask(-4, -4, 8, 8), 1, 1, 4);
    expect(distinct(img, 0, 0, 4, 4).y.size).toBe(1);
    expect(unchanged(img, ref, 4, 0, 16, 16)).toBe(true);
    pixelateMask(img, mask(12, 12, 8, 8), 1, 1, 4);
    expect(distinct(img, 12, 12, 16, 16).y.size).toBe(1);
    const before = Uint8Array.from(img.data);
    pixelateMask(img, { x: 2, y: 2, width: 0, height: 0, data: new Uint8Array(0) }, 1, 1, 4);
    expect(img.data).toEqual(before);
  });
});

describe('strokePolygon', () => {
  const c = { y: 30, u: 200, v: 60 };

  it('draws the closed outline (the last vertex joined to the first) and leaves the inside and outside alone', () => {
    const img = grey(32, 32);
    strokePolygon(
      img,
      [
        [4, 4],
        [28, 4],
        [28, 28],
        [4, 28],
      ],
      2,
      c,
    );
    for (const [x, y] of [
      [16, 4],
      [28, 16],
      [16, 28],
      // The closing edge, from (4, 28) back to (4, 4).
      [4, 16],
    ] as const) {
      expect(yuv(img, x, y), `(${x}, ${y})`).toEqual([c.y, c.u, c.v]);
    }
    expect(Y(img, 16, 16)).toBe(100);
    expect(Y(img, 16, 8)).toBe(100);
    expect(Y(img, 1, 1)).toBe(100);
    expect(Y(img, 31, 31)).toBe(100);
  });

  it('a diagonal edge has no gaps', () => {
    const img = grey(32, 32);
    strokePolygon(
      img,
      [
        [2, 2],
        [29, 29],
        [2, 29],
      ],
      2,
      c,
    );
    for (let k = 3; k <= 28; k++) expect(Y(img, k, k), `(${k}, ${k})`).toBe(c.y);
  });

  it('is as thick as asked', () => {
    const img = grey(48, 48);
    strokePolygon(
      img,
      [
        [4, 16],
        [28, 16],
        [28, 40],
        [4, 40],
      ],
      6,
      c,
    );
    // 6 px squares centred on y 16: rows 13..18.
    expect([12, 13, 18, 19].map((y) => Y(img, 16, y))).toEqual([100, c.y, c.y, 100]);
  });

  it('clips vertices far off the picture and skips non-finite ones without throwing', () => {
    const img = grey(32, 32);
    strokePolygon(
      img,
      [
        [-100_000, 10],
        [100_000, 10],
        [0, -100_000],
      ],
      2,
      c,
    );
    // The horizontal edge crosses the whole picture.
    for (let x = 0; x < 32; x++) expect(Y(img, x, 10), `x ${x}`).toBe(c.y);
    expect(Y(img, 16, 20)).toBe(100);
    expect(() =>
      strokePolygon(
        img,
        [
          [Number.NaN, 0],
          [4, 4],
          [Infinity, 8],
        ],
        2,
        c,
      ),
    ).not.toThrow();
  });
});

describe('scenes with zones and privacy', () => {
  const dets = new Detections({
    boxes: new Float32Array([16, 24, 40, 48, 44, 30, 60, 50]),
    scores: new Float32Array([0.9, 0.8]),
    classIds: new Int32Array([0, 2]),
    trackIds: new Int32Array([5, 6]),
    masks: [mask(16, 24, 24, 24), mask(44, 30, 16, 20)],
  });
  const names = ['person', 'bicycle', 'car'];
  const zones: OverlayZone[] = [
    {
      name: 'A',
      polygon: [
        [2, 2],
        [60, 2],
        [60, 20],
        [2, 20],
      ],
      active: true,
    },
    {
      name: 'B',
      polygon: [
        [2, 54],
        [60, 54],
        [60, 62],
        [2, 62],
      ],
      active: false,
    },
  ];

  it('sceneOf marks objects of a hidden class and passes zones on (none when empty)', () => {
    const scene = sceneOf(dets, names, new Map(), 64, 64, { zones, hidden: new Set(['person']) });
    expect(scene.objects.map((o) => [o.label, o.hidden === true])).toEqual([
      ['person 5', true],
      ['car 6', false],
    ]);
    expect(scene.zones).toEqual(zones);
    expect(sceneOf(dets, names, new Map(), 64, 64, { zones: [] }).zones).toBeUndefined();
    expect(sceneOf(dets, names, new Map(), 64, 64).objects.some((o) => o.hidden)).toBe(false);
  });

  it('drawScene outlines an active zone in the active colour and an idle one in the idle colour', () => {
    const img = grey(64, 64);
    drawScene(img, sceneOf(Detections.empty(), names, new Map(), 64, 64, { zones }));
    const active = rgbToYuv(255, 32, 32);
    const idle = rgbToYuv(255, 200, 0);
    // Right edges, away from the labels at the first vertex.
    expect(yuv(img, 60, 12)).toEqual([active.y, active.u, active.v]);
    expect(yuv(img, 60, 58)).toEqual([idle.y, idle.u, idle.v]);
    expect(Y(img, 60, 12)).not.toBe(Y(img, 60, 58));
    // Inside a zone: untouched.
    expect(Y(img, 40, 12)).toBe(100);
  });

  it('drawScene maps zones by the display scale', () => {
    const img = grey(128, 128); // source 64 x 64 at 2x
    drawScene(img, sceneOf(Detections.empty(), names, new Map(), 64, 64, { zones }));
    const active = rgbToYuv(255, 32, 32);
    expect(Y(img, 120, 24)).toBe(active.y);
    expect(Y(img, 60, 24)).toBe(100);
  });

  it("drawScene pixelates a hidden object's mask instead of tinting it; other objects are tinted", () => {
    const hidden = checker(64, 64);
    drawScene(hidden, sceneOf(dets, names, new Map(), 64, 64, { hidden: new Set(['person']) }));
    const shown = checker(64, 64);
    drawScene(shown, sceneOf(dets, names, new Map(), 64, 64));
    // An 8 px cell well inside the person's mask (24..32 x 32..40), clear of its box outline.
    const cell = distinct(hidden, 24, 32, 32, 40);
    expect([...cell.y]).toEqual([126]);
    expect([...cell.u]).toEqual([128]);
    expect([...cell.v]).toEqual([130]);
    // Not hidden: tinted, so the checkerboard still shows (two luma levels), away from 126.
    const tinted = distinct(shown, 24, 32, 32, 40);
    expect(tinted.y.size).toBe(2);
    // The car is tinted either way: the same pixels in both pictures, and not the checkerboard.
    expect(yuv(hidden, 52, 40)).toEqual(yuv(shown, 52, 40));
    expect(Y(hidden, 52, 40)).not.toBe(Y(checker(64, 64), 52, 40));
    // The hidden person still has its box, in its class colour.
    expect(Y(hidden, 16, 36)).toBe(classColour(0).y);
  });
});

describe('drawScene with privacyOnly (the clean JPEG with privacy on)', () => {
  it('pixelates the hidden objects and draws nothing else: no box, no label', () => {
    const img = checker(64, 64);
    const before = new Uint8Array(img.data);
    // A person's mask over 16..47 x 16..47 whose box reaches out to 8..55.
    const mask: MaskBitmap = { x: 16, y: 16, width: 32, height: 32, data: new Uint8Array(32 * 32).fill(1) };
    const person = { box: [8, 8, 56, 56] as const, mask, label: 'person 1', classId: 0, trackId: 1, targetId: -1, predicted: false, hidden: true };
    drawScene(img, { srcWidth: 64, srcHeight: 64, objects: [person], privacyOnly: true });
    // Inside: 8x8 cells of one value each (the checkerboard's mean).
    const cell = Y(img, 16, 16);
    for (let y = 16; y < 24; y++) for (let x = 16; x < 24; x++) expect(Y(img, x, y)).toBe(cell);
    expect(cell).toBeGreaterThan(100);
    expect(cell).toBeLessThan(150);
    // The box's edge and the label's place are as they were.
    for (const [x, y] of [[8, 8], [9, 30], [55, 30], [30, 55], [12, 2]] as const) expect(Y(img, x, y)).toBe(before[y * 64 + x]);
  });
});
