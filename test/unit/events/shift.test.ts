import { describe, expect, it } from 'vitest';
import { findShift, shiftCost } from '../../../src/events/shift.js';
import { rng } from '../../helpers/random.js';

const W = 64;
const H = 36;

/** A blocky texture (2 x 2 cell blocks of random grey) of w x h. */
function texture(seed: number, w: number, h: number): Uint8Array {
  const random = rng(seed);
  const blocks = Array.from({ length: Math.ceil(w / 2) * Math.ceil(h / 2) }, () => 30 + Math.floor(random() * 190));
  const d = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = blocks[(y >> 1) * Math.ceil(w / 2) + (x >> 1)]!;
  return d;
}

/** The W x H window of a wider picture at (ox, oy). */
function window(world: Uint8Array, worldW: number, ox: number, oy: number): Uint8Array {
  const d = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d[y * W + x] = world[(y + oy) * worldW + x + ox]!;
  return d;
}

describe('findShift', () => {
  const world = texture(11, 100, 60);
  const ref = window(world, 100, 10, 10);

  it('finds the integer shift of the content: the view panned 3 right and 2 up moves it (-3, +2)', () => {
    const cur = window(world, 100, 13, 8);
    const s = findShift(ref, cur, W, H, 8);
    expect([s.dx, s.dy]).toEqual([-3, 2]);
    expect(s.cost).toBe(0);
    expect(s.zeroCost).toBeGreaterThan(20);
  });

  it('takes out a change of brightness (the median difference)', () => {
    const cur = window(world, 100, 12, 10).map((v) => Math.min(255, v + 25));
    const s = findShift(ref, cur, W, H, 8);
    expect([s.dx, s.dy]).toEqual([-2, 0]);
    expect(s.cost).toBeLessThan(1);
  });

  it('is not pulled by a minority of changed cells (traffic): no shift stays best', () => {
    const random = rng(5);
    const cur = ref.map((v) => (random() < 0.2 ? Math.floor(random() * 256) : v));
    const s = findShift(ref, cur, W, H, 8);
    expect([s.dx, s.dy]).toEqual([0, 0]);
    // The changed fifth costs at most 24 levels a cell.
    expect(s.cost).toBeLessThanOrEqual(0.2 * 24 + 1);
  });

  it('finds the shift through noise and a fifth of the cells changed', () => {
    const random = rng(9);
    const cur = window(world, 100, 15, 13).map((v) => (random() < 0.2 ? Math.floor(random() * 256) : v + Math.floor(random() * 5) - 2));
    const s = findShift(ref, cur, W, H, 8);
    expect([s.dx, s.dy]).toEqual([-5, -3]);
    expect(s.cost).toBeLessThan(0.8 * 2 + 0.2 * 24);
    expect(s.zeroCost).toBeGreaterThan(3 * s.cost);
  });

  it('prefers no shift on a flat picture where every shift costs the same', () => {
    const flat = new Uint8Array(W * H).fill(90);
    expect(findShift(flat, flat, W, H, 8)).toEqual({ dx: 0, dy: 0, cost: 0, zeroCost: 0 });
  });

  it('gives Infinity for a shift with no overlap', () => {
    expect(shiftCost(ref, ref, W, H, W, 0)).toBe(Infinity);
  });
});
