import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { computeLetterbox, type Frame, type MaskCrop } from '../../../src/core/index.js';
import { drawSnapshot, encodeSnapshot, type SnapshotScene } from '../../../src/events/snapshot.js';

const ZONE = [255, 214, 0];
const OBJECT = [255, 48, 48];

/** A frame of w x h (source srcW x srcH, capped when larger) whose pixel (x, y) is `fill(x, y)`. */
function frameOf(w: number, h: number, fill: (x: number, y: number) => [number, number, number], srcW = w, srcH = h): Frame {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data.set(fill(x, y), (y * w + x) * 3);
  }
  return { camera: 'cam', seq: 0, timestamp: 0, pts: 0, width: w, height: h, format: 'rgb24', data, letterbox: computeLetterbox(srcW, srcH, 64, 64, w, h) };
}

const grey = (w: number, h: number, srcW = w, srcH = h): Frame => frameOf(w, h, () => [100, 100, 100], srcW, srcH);
/** One-pixel checkerboard of black and white. */
const checker = (w: number, h: number): Frame => frameOf(w, h, (x, y) => ((x + y) & 1 ? [255, 255, 255] : [0, 0, 0]));

const px = (rgb: Uint8Array, w: number, x: number, y: number): number[] => [...rgb.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];

function mask(x: number, y: number, width: number, height: number, set: (mx: number, my: number) => boolean = () => true): MaskCrop {
  const data = new Uint8Array(width * height);
  for (let my = 0; my < height; my++) for (let mx = 0; mx < width; mx++) data[my * width + mx] = set(mx, my) ? 1 : 0;
  return { x, y, width, height, data };
}

const empty: SnapshotScene = { polygon: null, objects: [], hidden: [] };

describe('drawSnapshot', () => {
  it("draws on a copy of the frame's own size; the frame's buffer is untouched", () => {
    const frame = checker(40, 30);
    const before = Uint8Array.from(frame.data);
    const rgb = drawSnapshot(frame, {
      polygon: [
        [2, 2],
        [38, 2],
        [38, 28],
      ],
      objects: [{ box: [5, 5, 20, 20], mask: mask(5, 5, 15, 15) }],
      hidden: [mask(20, 10, 12, 12)],
    });
    expect(rgb).toHaveLength(40 * 30 * 3);
    expect(rgb.buffer).not.toBe(frame.data.buffer);
    expect(frame.data).toEqual(before);
    // ... and the copy was drawn on.
    expect(rgb).not.toEqual(before);
  });

  it('with nothing to draw, the copy equals the picture', () => {
    const frame = checker(16, 8);
    expect(drawSnapshot(frame, empty)).toEqual(frame.data);
  });

  it("tints an object's mask pixels half way to red; pixels outside the mask, even inside its box, are untouched", () => {
    const frame = grey(40, 30);
    // Box 10..30 x 5..25; the mask covers its left half only.
    const rgb = drawSnapshot(frame, { ...empty, objects: [{ box: [10, 5, 30, 25], mask: mask(10, 5, 20, 20, (mx) => mx < 10) }] });
    const tinted = OBJECT.map((c) => (100 + c) >> 1);
    expect(px(rgb, 40, 15, 15)).toEqual(tinted);
    expect(px(rgb, 40, 19, 12)).toEqual(tinted);
    // Right half of the box: outside the mask.
    expect(px(rgb, 40, 25, 15)).toEqual([100, 100, 100]);
    // Outside the box.
    expect(px(rgb, 40, 35, 15)).toEqual([100, 100, 100]);
    expect(px(rgb, 40, 2, 2)).toEqual([100, 100, 100]);
    // The box outline, in the object colour.
    expect(px(rgb, 40, 20, 5)).toEqual(OBJECT);
    expect(px(rgb, 40, 30, 15)).toEqual(OBJECT);
  });

  it("outlines the zone's polygon in the zone colour, its inside and outside untouched", () => {
    const frame = grey(40, 30);
    const rgb = drawSnapshot(frame, {
      ...empty,
      polygon: [
        [5, 5],
        [35, 5],
        [35, 25],
        [5, 25],
      ],
    });
    for (const [x, y] of [
      [5, 5],
      [20, 5],
      [35, 15],
      [20, 25],
      [5, 15],
    ] as const) {
      expect(px(rgb, 40, x, y), `(${x}, ${y})`).toEqual(ZONE);
    }
    expect(px(rgb, 40, 20, 15)).toEqual([100, 100, 100]);
    expect(px(rgb, 40, 20, 8)).toEqual([100, 100, 100]);
    expect(px(rgb, 40, 1, 1)).toEqual([100, 100, 100]);
    expect(px(rgb, 40, 38, 28)).toEqual([100, 100, 100]);
  });

  it('an edge to a vertex far off the picture is drawn without gaps where it crosses the picture', () => {
    const frame = grey(40, 30);
    const rgb = drawSnapshot(frame, {
      ...empty,
      polygon: [
        [-100_000, 10],
        [100_000, 10],
        [0, 100_000],
      ],
    });
    for (let x = 0; x < 40; x++) expect(px(rgb, 40, x, 10), `x ${x}`).toEqual(ZONE);
    expect(px(rgb, 40, 20, 5)).toEqual([100, 100, 100]);
  });

  it('a hidden mask leaves no detail: a checkerboard under it turns uniform per block, far pixels keep theirs', () => {
    const frame = checker(48, 48);
    // 24 x 24 mask at (12, 12): two 12 px blocks each way.
    const rgb = drawSnapshot(frame, { ...empty, hidden: [mask(12, 12, 24, 24)] });
    for (const [bx, by] of [
      [12, 12],
      [24, 12],
      [12, 24],
      [24, 24],
    ] as const) {
      const values = new Set<number>();
      for (let y = by; y < by + 12; y++) for (let x = bx; x < bx + 12; x++) for (const v of px(rgb, 48, x, y)) values.add(v);
      expect(values.size, `block (${bx}, ${by})`).toBe(1);
      // Half black, half white: the mean grey (truncated or rounded).
      expect(Math.abs([...values][0]! - 127.5), `block (${bx}, ${by})`).toBeLessThanOrEqual(0.5);
    }
    // Outside the mask: the checkerboard as it was.
    for (const [x, y] of [
      [0, 0],
      [11, 20],
      [36, 20],
      [47, 47],
      [20, 5],
    ] as const) {
      expect(px(rgb, 48, x, y), `(${x}, ${y})`).toEqual(px(frame.data, 48, x, y));
    }
  });

  it('a hidden mask pixelates only the blocks it touches', () => {
    const frame = checker(48, 48);
    // Only the top-left 12 x 12 of the 24 x 24 crop is set.
    const rgb = drawSnapshot(frame, { ...empty, hidden: [mask(12, 12, 24, 24, (mx, my) => mx < 12 && my < 12)] });
    expect(px(rgb, 48, 12, 12)).toEqual(px(rgb, 48, 13, 12));
    // The bottom-right block of the crop holds no mask pixel: its detail stays.
    for (let y = 24; y < 36; y++) for (let x = 24; x < 36; x++) expect(px(rgb, 48, x, y)).toEqual(px(frame.data, 48, x, y));
  });

  it('a hidden object that is also an event object is pixelated first, then tinted', () => {
    const frame = checker(48, 48);
    const m = mask(12, 12, 12, 12);
    const rgb = drawSnapshot(frame, { ...empty, hidden: [m], objects: [{ box: [12, 12, 24, 24], mask: m }] });
    // Inside (away from the box outline): one uniform tinted grey, no checkerboard left.
    const inside = px(rgb, 48, 16, 16);
    expect(px(rgb, 48, 17, 16)).toEqual(inside);
    expect(px(rgb, 48, 18, 19)).toEqual(inside);
    expect(inside[0]).toBeGreaterThan(inside[1]!);
  });

  it('a source larger than the frame (capped by ingest) maps source px to frame px by the scale', () => {
    // Source 80 x 60, frame 40 x 30: half scale.
    const frame = grey(40, 30, 80, 60);
    const rgb = drawSnapshot(frame, {
      polygon: [
        [10, 10],
        [70, 10],
        [70, 50],
        [10, 50],
      ],
      // Source 20..40 x 20..40 -> frame 10..20 x 10..20.
      objects: [{ box: [20, 20, 40, 40], mask: mask(20, 20, 20, 20) }],
      hidden: [],
    });
    const tinted = OBJECT.map((c) => (100 + c) >> 1);
    expect(px(rgb, 40, 15, 15)).toEqual(tinted);
    // Where the mask would be unscaled (source 30, 30 read as frame px): outside the scaled mask.
    expect(px(rgb, 40, 25, 20)).toEqual([100, 100, 100]);
    // Box outline at frame x 20 (source 40), zone edges at frame y 5 and x 35.
    expect(px(rgb, 40, 20, 15)).toEqual(OBJECT);
    expect(px(rgb, 40, 20, 5)).toEqual(ZONE);
    expect(px(rgb, 40, 35, 15)).toEqual(ZONE);
    expect(px(rgb, 40, 30, 10)).toEqual([100, 100, 100]);
  });

  it('a hidden mask of a capped source covers the scaled area', () => {
    const frame = frameOf(48, 48, (x, y) => ((x + y) & 1 ? [255, 255, 255] : [0, 0, 0]), 96, 96);
    // Source 24..72 -> frame 12..36.
    const rgb = drawSnapshot(frame, { ...empty, hidden: [mask(24, 24, 48, 48)] });
    expect(px(rgb, 48, 13, 12)).toEqual(px(rgb, 48, 12, 12));
    expect(px(rgb, 48, 35, 35)).toEqual(px(rgb, 48, 34, 35));
    expect(px(rgb, 48, 40, 40)).toEqual(px(frame.data, 48, 40, 40));
    expect(px(rgb, 48, 5, 30)).toEqual(px(frame.data, 48, 5, 30));
  });
});

describe('encodeSnapshot', () => {
  it('is a JPEG of the frame size when it is the source size', async () => {
    const jpeg = await encodeSnapshot(grey(40, 30).data, 40, 30, 40, 30, 80);
    expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 40, 30]);
  });

  it('is scaled up to the source size when the frame was capped, the picture kept in place', async () => {
    // Left half red, right half blue.
    const frame = frameOf(40, 30, (x) => (x < 20 ? [255, 0, 0] : [0, 0, 255]), 80, 60);
    const jpeg = await encodeSnapshot(frame.data, 40, 30, 80, 60, 90);
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 80, 60]);
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([80, 60, 3]);
    const left = px(data, 80, 10, 30);
    const right = px(data, 80, 70, 30);
    expect(left[0]).toBeGreaterThan(200);
    expect(left[2]).toBeLessThan(60);
    expect(right[2]).toBeGreaterThan(200);
    expect(right[0]).toBeLessThan(60);
  });

  it('a lower quality gives a smaller file for a detailed picture', async () => {
    const frame = checker(64, 64);
    const hi = await encodeSnapshot(frame.data, 64, 64, 64, 64, 95);
    const lo = await encodeSnapshot(frame.data, 64, 64, 64, 64, 20);
    expect(lo.length).toBeLessThan(hi.length);
  });
});
