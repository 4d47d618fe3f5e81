import { describe, expect, it } from 'vitest';
import { CameraHealth, DEFAULT_CAMERA_HEALTH, greyThumbnail, type HealthThumbnail } from '../../../src/events/health.js';
import type { HealthTransition } from '../../../src/events/types.js';
import { rng } from '../../helpers/random.js';

const W = 64;
const H = 36;

/** A blocky world (2 x 2 cell blocks of random grey in lo..hi) of w x h cells. */
function world(seed: number, w = 100, h = 60, lo = 30, hi = 220): Uint8Array {
  const random = rng(seed);
  const bw = Math.ceil(w / 2);
  const blocks = Array.from({ length: bw * Math.ceil(h / 2) }, () => lo + Math.floor(random() * (hi - lo)));
  const d = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = blocks[(y >> 1) * bw + (x >> 1)]!;
  return d;
}

/** The camera's W x H view of a 100-wide world at (ox, oy). */
function view(w: Uint8Array, ox = 10, oy = 10): Uint8Array {
  const d = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d[y * W + x] = w[(y + oy) * 100 + x + ox]!;
  return d;
}

/** A copy with integer noise uniform in -amp..amp per cell, clamped to 0..255. */
function noisy(d: Uint8Array, amp: number, random: () => number): Uint8Array {
  return Uint8Array.from(d, (v) => Math.max(0, Math.min(255, v + Math.floor(random() * (2 * amp + 1)) - amp)));
}

const thumb = (data: Uint8Array): HealthThumbnail => ({ width: W, height: H, data });

type Timed = HealthTransition & { t: number };

/** Feeds one thumbnail per 1/fps s for t in [from, to). */
function feed(health: CameraHealth, fps: number, from: number, to: number, at: (t: number) => Uint8Array): Timed[] {
  const out: Timed[] = [];
  for (let i = Math.round(from * fps); i / fps < to - 1e-9; i++) {
    const t = i / fps + 0;
    for (const tr of health.update(thumb(at(t)), t)) out.push({ ...tr, t });
  }
  return out;
}

const kinds = (trs: readonly HealthTransition[]): string[] => trs.map((x) => `${x.state} ${x.kind}`);

describe('CameraHealth frozen', () => {
  const scene = view(world(1));

  it('fires after frozenS on bit-identical frames, from the first of them', () => {
    const health = new CameraHealth();
    const trs = feed(health, 5, 0, 14, () => scene);
    expect(kinds(trs)).toEqual(['start frozen']);
    expect(trs[0]!.startS).toBe(0);
    expect(trs[0]!.t).toBeCloseTo(10, 9);
    expect(trs[0]!.detail).toEqual({ meanDiff: 0 });
  });

  it('does not fire on a live static scene whose cells move 1 or 2 levels frame to frame', () => {
    for (const amp of [1, 2]) {
      const random = rng(amp);
      const health = new CameraHealth();
      expect(feed(health, 5, 0, 30, () => noisy(scene, amp, random))).toEqual([]);
    }
  });

  it('tolerates a re-encoded repeat (a few cells off by one now and then)', () => {
    const health = new CameraHealth();
    const at = (t: number) => (Math.round(t * 5) % 10 === 0 ? scene.map((v, i) => (i % 97 === 0 ? v + 1 : v)) : scene);
    expect(kinds(feed(health, 5, 0, 12, at))).toEqual(['start frozen']);
  });

  it('does not fire when one small thing moves in a still picture (max cell difference)', () => {
    const health = new CameraHealth();
    const at = (t: number) => {
      const d = scene.slice();
      const x = Math.round(t * 5) % 60;
      d[20 * W + x] = 255;
      return d;
    };
    expect(feed(health, 5, 0, 20, at)).toEqual([]);
  });

  it('ends endSeconds after the picture changes again, at the last frozen sample', () => {
    const random = rng(8);
    const health = new CameraHealth();
    const trs = feed(health, 5, 0, 20, (t) => (t < 15 ? scene : noisy(scene, 2, random)));
    expect(kinds(trs)).toEqual(['start frozen', 'end frozen']);
    expect(trs[1]!.endS).toBeCloseTo(14.8, 9);
    expect(trs[1]!.t).toBeCloseTo(16.8, 9);
  });

  it('a change shorter than endSeconds neither ends nor restarts it', () => {
    const random = rng(2);
    const health = new CameraHealth();
    const trs = feed(health, 5, 0, 20, (t) => (t >= 12 && t < 13 ? noisy(scene, 2, random) : scene));
    expect(kinds(trs)).toEqual(['start frozen']);
    expect(health.open).toBe(1);
  });
});

describe('CameraHealth obstructed', () => {
  it('fires on a flat picture (covered lens: noise and a smooth light leak) after obstructedS', () => {
    const random = rng(6);
    const leak = Uint8Array.from({ length: W * H }, (_, i) => 20 + Math.floor(((i % W) * 60) / W));
    const health = new CameraHealth();
    const trs = feed(health, 2, 0, 12, () => noisy(leak, 2, random));
    expect(kinds(trs)).toEqual(['start obstructed']);
    expect(trs[0]!.t).toBeCloseTo(10, 9);
    expect(trs[0]!.detail!.edges).toBeLessThan(DEFAULT_CAMERA_HEALTH.obstructedMinEdges);
  });

  it('does not fire on a dark textured night scene, nor on a dark road with three lamps', () => {
    const random = rng(7);
    const night = view(world(3, 100, 60, 5, 45));
    const lamps = new Uint8Array(W * H).fill(12);
    for (const [x, y] of [
      [10, 5],
      [30, 6],
      [50, 5],
    ] as const) {
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) lamps[(y + dy) * W + x + dx] = 230;
    }
    for (const scene of [night, lamps]) {
      const health = new CameraHealth();
      expect(kinds(feed(health, 2, 0, 20, () => noisy(scene, 2, random))).filter((k) => k.includes('obstructed'))).toEqual([]);
    }
  });
});

describe('CameraHealth moved', () => {
  const w = world(5);

  it('fires movedS after the view shifts, with the shift as a share of the thumbnail size', () => {
    const random = rng(10);
    const health = new CameraHealth();
    // Panned 4 cells right and 2 down at t = 3: the content moves left and up.
    const trs = feed(health, 5, 0, 12, (t) => noisy(t < 3 ? view(w) : view(w, 14, 12), 2, random));
    expect(kinds(trs)).toEqual(['start moved']);
    expect(trs[0]!.startS).toBeCloseTo(3, 9);
    expect(trs[0]!.t).toBeCloseTo(8, 9);
    expect(trs[0]!.detail).toEqual({ dx: -4 / W, dy: -2 / H });
  });

  it('does not fire when vehicles (blocks) move across a still background, or the light changes', () => {
    const random = rng(12);
    const background = view(w);
    const health = new CameraHealth();
    const at = (t: number) => {
      const d = noisy(background, 2, random);
      const k = Math.round(t * 5);
      for (let v = 0; v < 4; v++) {
        const x0 = (k * 3 + v * 17) % (W - 6);
        const y0 = 4 + v * 8;
        for (let y = y0; y < y0 + 3; y++) for (let x = x0; x < x0 + 6; x++) d[y * W + x] = v % 2 === 0 ? 250 : 5;
      }
      if (t > 15) for (let i = 0; i < d.length; i++) d[i] = Math.min(255, d[i]! + 30);
      return d;
    };
    expect(feed(health, 5, 0, 30, at)).toEqual([]);
  });

  it('does not fire for a shift below movedMinShift (one cell)', () => {
    const random = rng(13);
    const health = new CameraHealth();
    expect(feed(health, 5, 0, 12, (t) => noisy(t < 1 ? view(w) : view(w, 11, 10), 2, random))).toEqual([]);
  });

  it('updates when the shift changes, ends after the camera swings back, and resetReference re-bases it', () => {
    const random = rng(14);
    const health = new CameraHealth();
    const pos = (t: number): [number, number] => (t < 2 ? [10, 10] : t < 10 ? [14, 10] : t < 14 ? [16, 10] : [10, 10]);
    const trs = feed(health, 5, 0, 20, (t) => noisy(view(w, ...pos(t)), 2, random));
    expect(trs.map((x) => [x.state, x.detail?.dx])).toEqual([
      ['start', -4 / W],
      ['update', -6 / W],
      ['end', -6 / W],
    ]);
    expect(trs[2]!.endS).toBeCloseTo(13.8, 9);

    const again = new CameraHealth();
    feed(again, 5, 0, 10, (t) => view(w, ...(t < 2 ? [10, 10] : [14, 10])));
    expect(again.open).toBe(1);
    expect(kinds(again.resetReference())).toEqual(['end moved']);
    expect(feed(again, 5, 10, 20, () => view(w, 14, 10)).filter((x) => x.kind === 'moved')).toEqual([]);
  });
});

describe('CameraHealth video_lost', () => {
  it('starts videoLostS after the last frame (startS that frame) and ends at the next frame', () => {
    const random = rng(15);
    const health = new CameraHealth();
    feed(health, 5, 0, 4, () => noisy(view(world(1)), 2, random));
    const lost: HealthTransition[] = [];
    for (let t = 5; t <= 12; t++) lost.push(...health.noFrame(t));
    expect(kinds(lost)).toEqual(['start video_lost']);
    expect(lost[0]!.startS).toBeCloseTo(3.8, 9);
    expect(lost[0]!.lastS).toBe(9);
    const back = health.update(thumb(noisy(view(world(1)), 2, random)), 12.5);
    expect(back.map((x) => [x.state, x.kind, x.startS, x.endS])).toEqual([['end', 'video_lost', lost[0]!.startS, 12.5]]);
  });

  it('starts videoLostS after the first noFrame call when no frame ever came', () => {
    const health = new CameraHealth();
    const trs: HealthTransition[] = [];
    for (let t = 100; t <= 106; t++) trs.push(...health.noFrame(t));
    expect(trs.map((x) => [x.state, x.startS, x.lastS])).toEqual([['start', 100, 105]]);
  });

  it('ends the picture events once frames have stopped for endSeconds', () => {
    const health = new CameraHealth();
    feed(health, 5, 0, 12, () => view(world(1)));
    expect(health.open).toBe(1);
    const trs: HealthTransition[] = [];
    for (let t = 12; t <= 18; t++) trs.push(...health.noFrame(t));
    expect(kinds(trs)).toEqual(['end frozen', 'start video_lost']);
    expect(trs[0]!.endS).toBeCloseTo(11.8, 9);
  });

  it('does not call the picture frozen at once when the same picture returns after a loss', () => {
    const health = new CameraHealth();
    const scene = view(world(1));
    feed(health, 5, 0, 5, () => scene);
    for (let t = 5; t <= 30; t++) health.noFrame(t);
    const trs = feed(health, 5, 30.2, 36, () => scene);
    expect(kinds(trs)).toEqual(['end video_lost']);
  });
});

describe('CameraHealth flush and input', () => {
  it('flush() ends open events at their last held time; time going backwards does too', () => {
    const health = new CameraHealth();
    feed(health, 5, 0, 12, () => view(world(1)));
    expect(kinds(health.flush())).toEqual(['end frozen']);
    expect(health.flush()).toEqual([]);
    feed(health, 5, 12, 24, () => view(world(1)));
    const trs = health.update(thumb(view(world(1))), 1);
    expect(kinds(trs)).toEqual(['end frozen']);
    expect(trs[0]!.endS).toBeCloseTo(23.8, 9);
  });

  it('ignores a non-finite time and takes a malformed thumbnail as a frame only', () => {
    const health = new CameraHealth();
    expect(health.update(thumb(view(world(1))), NaN)).toEqual([]);
    for (let t = 0; t < 20; t++) expect(health.update({ width: 64, height: 36, data: new Uint8Array(3) }, t)).toEqual([]);
    expect(health.noFrame(20)).toEqual([]);
  });

  it('rejects a negative or non-numeric option with a TypeError', () => {
    expect(() => new CameraHealth({ frozenS: -1 })).toThrow(/frozenS must be a finite number >= 0, got -1/);
  });
});

describe('greyThumbnail', () => {
  /** Each cell's mean luma, summed pixel by pixel in floating point. */
  function direct(rgb: Uint8Array, width: number, height: number, cols: number): { width: number; height: number; data: number[] } {
    const tw = Math.min(cols, width);
    const th = Math.max(1, Math.min(height, Math.round((tw * height) / width)));
    const data: number[] = [];
    for (let r = 0; r < th; r++) {
      for (let c = 0; c < tw; c++) {
        let sum = 0;
        let n = 0;
        for (let y = Math.floor((r * height) / th); y < Math.floor(((r + 1) * height) / th); y++) {
          for (let x = Math.floor((c * width) / tw); x < Math.floor(((c + 1) * width) / tw); x++) {
            const p = (y * width + x) * 3;
            sum += (77 * rgb[p]! + 150 * rgb[p + 1]! + 29 * rgb[p + 2]!) / 256;
            n++;
          }
        }
        data.push(Math.round(sum / n));
      }
    }
    return { width: tw, height: th, data };
  }

  it.each([
    [1280, 720, 64],
    [101, 37, 64],
    [10, 5, 64],
    [33, 20, 1],
  ])('matches a direct computation on random rgb24 %ix%i, %i cols', (width, height, cols) => {
    const random = rng(width + height);
    const rgb = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256));
    const t = greyThumbnail(rgb, width, height, cols);
    const want = direct(rgb, width, height, cols);
    expect([t.width, t.height]).toEqual([want.width, want.height]);
    expect(Array.from(t.data)).toEqual(want.data);
  });

  it('keeps the aspect ratio: 1280x720 gives 64x36', () => {
    const t = greyThumbnail(new Uint8Array(1280 * 720 * 3), 1280, 720);
    expect([t.width, t.height, t.data.length]).toEqual([64, 36, 64 * 36]);
  });

  it('rejects a short buffer and bad sizes with a TypeError', () => {
    expect(() => greyThumbnail(new Uint8Array(5), 2, 2)).toThrow(/needs 12 bytes, got 5/);
    expect(() => greyThumbnail(new Uint8Array(12), 0, 2)).toThrow(TypeError);
  });
});
