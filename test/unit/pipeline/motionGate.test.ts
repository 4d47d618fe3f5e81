import { describe, expect, it } from 'vitest';
import { changedShare, DEFAULT_MOTION_GATE, greyThumbnail, MotionGate, type GateFrame } from '../../../src/pipeline/motionGate.js';
import { rng } from '../../helpers/random.js';

/** A textured scene (gradients and a pattern, so cells differ), rgb24. */
function scene(width: number, height: number): Uint8Array {
  const d = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const v = 60 + ((x * 120) / width) + 40 * Math.sin(x / 7) * Math.cos(y / 11);
      d[p] = v;
      d[p + 1] = v + (y * 30) / height;
      d[p + 2] = 200 - v / 2;
    }
  }
  return d;
}

/** A copy of `base` with a `size` px square at (x, y): black, or `darker` grey levels darker than the scene. */
function withSquare(base: Uint8Array, width: number, x: number, y: number, size: number, darker?: number): Uint8Array {
  const d = new Uint8Array(base);
  for (let yy = y; yy < y + size; yy++) {
    for (let xx = x; xx < x + size; xx++) {
      const p = (yy * width + xx) * 3;
      for (let c = 0; c < 3; c++) d[p + c] = darker === undefined ? 0 : Math.max(0, base[p + c]! - darker);
    }
  }
  return d;
}

/** A copy of `base` with independent noise per byte, roughly normal with `sigma` grey levels. */
function noisy(base: Uint8Array, sigma: number, random: () => number): Uint8Array {
  const d = new Uint8Array(base.length);
  for (let i = 0; i < base.length; i++) {
    // Irwin-Hall: the sum of 12 uniforms less 6 is close to a standard normal.
    let z = -6;
    for (let k = 0; k < 12; k++) z += random();
    d[i] = Math.max(0, Math.min(255, Math.round(base[i]! + sigma * z)));
  }
  return d;
}

const W = 640;
const H = 480;
const frame = (data: Uint8Array, ptsMs: number, width = W, height = H): GateFrame => ({ width, height, data, pts: ptsMs });
const FRAME_MS = 1000 / 30;

describe('greyThumbnail', () => {
  it('is 64 cells wide with the aspect kept (64x48 at 640x480, 64x36 at 640x360), fewer for a narrow picture', () => {
    expect(greyThumbnail(scene(640, 480), 640, 480)).toMatchObject({ width: 64, height: 48 });
    expect(greyThumbnail(scene(640, 360), 640, 360)).toMatchObject({ width: 64, height: 36 });
    expect(greyThumbnail(scene(20, 10), 20, 10)).toMatchObject({ width: 20, height: 10 });
    expect(greyThumbnail(scene(641, 479), 641, 479)).toMatchObject({ width: 64, height: 48 });
  });

  it('averages each cell: a flat picture gives its luma everywhere, a half-dark one two values', () => {
    const flat = new Uint8Array(W * H * 3).fill(100);
    expect([...new Set(greyThumbnail(flat, W, H).data)]).toEqual([100]);
    const half = new Uint8Array(W * H * 3).fill(200);
    half.fill(0, 0, (W * H * 3) / 2);
    const t = greyThumbnail(half, W, H);
    expect(t.data[0]).toBe(0);
    expect(t.data[t.data.length - 1]).toBe(200);
  });

  it('refuses a buffer shorter than width x height x 3 and non-positive sizes with TypeError', () => {
    expect(() => greyThumbnail(new Uint8Array(10), 4, 4)).toThrow(TypeError);
    expect(() => greyThumbnail(new Uint8Array(0), 0, 4)).toThrow(TypeError);
  });
});

describe('changedShare', () => {
  it('counts cells that differ by more than the threshold', () => {
    expect(changedShare(new Float32Array([0, 10, 20, 30]), new Float32Array([0, 15, 31, 30]), 5)).toBe(0.25);
    expect(() => changedShare(new Float32Array(2), new Float32Array(3), 1)).toThrow(TypeError);
  });
});

describe('MotionGate', () => {
  it('calls the first frame changed and identical frames unchanged', () => {
    const g = new MotionGate();
    const base = scene(W, H);
    expect(g.update(frame(base, 0))).toBe('changed');
    expect(g.lastReason).toBe('first');
    for (let i = 1; i < 10; i++) expect(g.update(frame(new Uint8Array(base), i * FRAME_MS))).toBe('unchanged');
    expect(g.toJSON()).toMatchObject({ frames: 10, changed: 1, unchanged: 9 });
  });

  it('calls sensor noise (sigma 8 grey levels per byte) and one flickering 16x16 block unchanged', () => {
    const random = rng(7);
    const base = scene(W, H);
    const g = new MotionGate();
    g.update(frame(noisy(base, 8, random), 0));
    for (let i = 1; i < 8; i++) expect(g.update(frame(noisy(base, 8, random), i * FRAME_MS))).toBe('unchanged');
    // Compression flicker: a block's level jumps by 30 (more than any real encoder does).
    const flicker = new Uint8Array(base);
    for (let y = 96; y < 112; y++) for (let x = 320; x < 336; x++) for (let c = 0; c < 3; c++) flicker[(y * W + x) * 3 + c] = base[(y * W + x) * 3 + c]! + 30;
    expect(g.update(frame(flicker, 9 * FRAME_MS))).toBe('unchanged');
  });

  it('calls a moving object changed, and the moved frame becomes the reference', () => {
    const base = scene(W, H);
    const g = new MotionGate();
    g.update(frame(withSquare(base, W, 100, 100, 40), 0));
    expect(g.update(frame(withSquare(base, W, 100, 100, 40), FRAME_MS))).toBe('unchanged');
    expect(g.update(frame(withSquare(base, W, 130, 100, 40), 2 * FRAME_MS))).toBe('changed');
    expect(g.lastReason).toBe('motion');
    expect(g.update(frame(withSquare(base, W, 130, 100, 40), 3 * FRAME_MS))).toBe('unchanged');
  });

  it('adds up a slow drift against the last changed frame, not the previous one', () => {
    const base = scene(W, H);
    const g = new MotionGate();
    g.update(frame(withSquare(base, W, 200, 200, 40, 30), 0));
    const decisions: string[] = [];
    // A low-contrast object, 1 px a frame: each step alone is below the threshold; together they count.
    for (let i = 1; i <= 20; i++) decisions.push(g.update(frame(withSquare(base, W, 200 + i, 200, 40, 30), i * FRAME_MS)));
    expect(decisions[0]).toBe('unchanged');
    expect(decisions).toContain('changed');
    expect(g.toJSON().reasons.motion).toBeGreaterThan(0);
  });

  it('calls a lighting change (every pixel 15 levels brighter) changed', () => {
    const base = scene(W, H);
    const g = new MotionGate();
    g.update(frame(base, 0));
    expect(g.update(frame(base.map((v) => Math.min(255, v + 15)), FRAME_MS))).toBe('changed');
  });

  it('sends a frame to inference after maxSkipS of media time without change', () => {
    const base = scene(W, H);
    const g = new MotionGate({ maxSkipS: 0.5 });
    g.update(frame(base, 1000));
    expect(g.update(frame(base, 1499))).toBe('unchanged');
    expect(g.update(frame(base, 1500))).toBe('changed');
    expect(g.lastReason).toBe('maxSkip');
    // The interval starts again at the forced frame.
    expect(g.update(frame(base, 1900))).toBe('unchanged');
    expect(g.update(frame(base, 2000))).toBe('changed');
  });

  it('starts over on a size change, and after reset()', () => {
    const g = new MotionGate();
    g.update(frame(scene(W, H), 0));
    expect(g.update(frame(scene(320, 240), 10, 320, 240))).toBe('changed');
    expect(g.lastReason).toBe('size');
    expect(g.update(frame(scene(320, 240), 20, 320, 240))).toBe('unchanged');
    g.reset();
    expect(g.update(frame(scene(320, 240), 30, 320, 240))).toBe('changed');
    expect(g.lastReason).toBe('first');
  });

  it('calls a forced frame changed whatever its picture', () => {
    const g = new MotionGate();
    const base = scene(W, H);
    g.update(frame(base, 0));
    expect(g.update(frame(base, 10), true)).toBe('changed');
    expect(g.lastReason).toBe('forced');
  });

  it('keeps no reference to the frame bytes (a buffer reused by its owner changes nothing)', () => {
    const g = new MotionGate();
    const buf = scene(W, H);
    g.update(frame(buf, 0));
    const copy = new Uint8Array(buf);
    buf.fill(0);
    expect(g.update(frame(copy, 10))).toBe('unchanged');
  });

  it('takes new thresholds in place and refuses bad ones with TypeError', () => {
    const g = new MotionGate();
    expect(g.settings).toEqual(DEFAULT_MOTION_GATE);
    g.configure({ threshold: 4 });
    expect(g.settings.threshold).toBe(4);
    expect(() => new MotionGate({ threshold: -1 })).toThrow(TypeError);
    expect(() => new MotionGate({ minChangedShare: 2 })).toThrow(TypeError);
    expect(() => new MotionGate({ maxSkipS: 0 })).toThrow(TypeError);
  });
});
