import { describe, expect, it } from 'vitest';
import { computeLetterbox, type MaskCrop } from '../../../src/core/index.js';
import { assembleMask, boxToSource, type Prototypes } from '../../../src/pipeline/masks.js';

// A 640x480 source letterboxed into 320x320: scale 0.5, 40 px bars top and bottom.
// Prototypes are 80x80 for the 320x320 input, so one prototype cell is 4 input px, i.e.
// 8 source px: cell (u, v) covers source x in [8u, 8u + 8) and y in [8v - 80, 8v - 72).
const lb = computeLetterbox(640, 480, 320, 320);
const P = 80;

/** Two prototypes: #0 is +1 on cells where `inside(u, v)` holds and -1 elsewhere; #1 is noise. */
function protos(inside: (u: number, v: number) => boolean): Prototypes {
  const data = new Float32Array(2 * P * P);
  for (let v = 0; v < P; v++) {
    for (let u = 0; u < P; u++) {
      data[v * P + u] = inside(u, v) ? 1 : -1;
      data[P * P + v * P + u] = ((u * 7 + v * 13) % 5) - 2;
    }
  }
  return { data, numMasks: 2, width: P, height: P, inputWidth: 320, inputHeight: 320 };
}

// Rectangle of cells u in [20, 40), v in [20, 40) -> source x in [160, 320), y in [80, 240).
const rectProtos = protos((u, v) => u >= 20 && u < 40 && v >= 20 && v < 40);
const inRect = (x: number, y: number): boolean => x >= 160 && x < 320 && y >= 80 && y < 240;

/**
 * Hand-derived expectation for the rectangle. Bilinear sampling between a -1 and a +1 cell
 * centre crosses 0 on the cell border, so a pixel centre d px inside an edge gives the
 * inside cells weight w = min(1, 0.5 + d / 8) (8 px per cell). Near one edge the logit is
 * 2w - 1 > 0; in a corner the one +1 cell of the four has weight wx * wy, logit
 * 2 * wx * wy - 1, so the corners are rounded off.
 */
function expectedRect(x: number, y: number): number {
  if (!inRect(x, y)) return 0;
  const dx = Math.min(x + 0.5 - 160, 320 - (x + 0.5));
  const dy = Math.min(y + 0.5 - 80, 240 - (y + 0.5));
  const wx = Math.min(1, 0.5 + dx / 8);
  const wy = Math.min(1, 0.5 + dy / 8);
  return 2 * wx * wy - 1 > 0 ? 1 : 0;
}

// Disc of radius 10 cells around the cell corner (40, 40): source centre (320, 240), radius 80 px.
const discProtos = protos((u, v) => (u + 0.5 - 40) ** 2 + (v + 0.5 - 40) ** 2 < 100);

function at(m: MaskCrop, x: number, y: number): number {
  return m.data[(y - m.y) * m.width + (x - m.x)]!;
}

/** Input-px box -> source box through boxToSource, then the mask. */
function maskFor(p: Prototypes, inputBox: number[], coefficients = [1, 0]): MaskCrop {
  return assembleMask(Float32Array.from(coefficients), 0, p, lb, boxToSource(lb, inputBox));
}

describe('boxToSource', () => {
  it('undoes the letterbox', () => {
    // input x 50 -> source 100; input y 60 -> (60 - 40) * 2 = 40
    expect(boxToSource(lb, [50, 60, 150, 200])).toEqual([100, 40, 300, 320]);
  });

  it('clamps boxes reaching into the padding to the source frame', () => {
    expect(boxToSource(lb, [-10, 0, 330, 300])).toEqual([0, 0, 640, 480]);
  });

  it('reads the box at an offset', () => {
    expect(boxToSource(lb, [9, 9, 9, 9, 50, 60, 150, 200], 4)).toEqual([100, 40, 300, 320]);
  });
});

describe('assembleMask', () => {
  it('crops to the rounded source box', () => {
    const m = assembleMask(Float32Array.from([1, 0]), 0, rectProtos, lb, [100.4, 40.6, 400.5, 319.2]);
    // Math.round: 100.4 -> 100, 40.6 -> 41, 400.5 -> 401, 319.2 -> 319
    expect([m.x, m.y, m.width, m.height]).toEqual([100, 41, 301, 278]);
    expect(m.data.length).toBe(301 * 278);
  });

  it('is 1 exactly where a prototype rectangle maps to, with bilinearly rounded corners', () => {
    // Box around the rectangle with a margin: source [120, 40, 400, 320].
    const m = maskFor(rectProtos, [60, 60, 200, 200]);
    expect([m.x, m.y, m.width, m.height]).toEqual([120, 40, 280, 280]);
    const wrong: string[] = [];
    for (let y = m.y; y < m.y + m.height; y++) {
      for (let x = m.x; x < m.x + m.width; x++) if (at(m, x, y) !== expectedRect(x, y)) wrong.push(`${x},${y}`);
    }
    expect(wrong).toEqual([]);
    // Each corner loses the 6 pixels whose weights multiply to <= 0.5:
    // (0.5625, 0.5625), (0.5625, 0.6875) x2, (0.5625, 0.8125) x2, (0.6875, 0.6875).
    expect(m.data.reduce((a, b) => a + b, 0)).toBe(160 * 160 - 4 * 6);
  });

  it('is 1 inside and 0 outside a prototype disc, away from its edge', () => {
    const m = maskFor(discProtos, [100, 100, 220, 220]); // source [200, 120, 440, 360]
    expect([m.x, m.y, m.width, m.height]).toEqual([200, 120, 240, 240]);
    let checked = 0;
    const wrong: string[] = [];
    for (let y = m.y; y < m.y + m.height; y++) {
      for (let x = m.x; x < m.x + m.width; x++) {
        // Staircase of 8 px cells plus bilinear blur: skip one cell either side of r = 80.
        const r = Math.hypot(x + 0.5 - 320, y + 0.5 - 240);
        if (r > 72 && r < 88) continue;
        checked++;
        if (at(m, x, y) !== (r < 80 ? 1 : 0)) wrong.push(`${x},${y}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(0.7 * m.width * m.height);
  });

  it('excludes the parts of a shape outside the box', () => {
    // Box cuts through the middle of the rectangle: source [200, 120, 280, 200].
    const m = maskFor(rectProtos, [100, 100, 140, 140]);
    expect([m.x, m.y, m.width, m.height]).toEqual([200, 120, 80, 80]);
    expect(m.data.every((b) => b === 1)).toBe(true);
  });

  it('is all 0 for a box away from the shape', () => {
    const m = maskFor(rectProtos, [200, 200, 260, 260]); // source [400, 320, 520, 440]
    expect(m.data.length).toBe(120 * 120);
    expect(m.data.every((b) => b === 0)).toBe(true);
  });

  it('inverts the mask for a negative coefficient', () => {
    const pos = maskFor(rectProtos, [60, 60, 200, 200], [1, 0]);
    const neg = maskFor(rectProtos, [60, 60, 200, 200], [-1, 0]);
    expect(neg.data.length).toBe(pos.data.length);
    expect(pos.data.some((b) => b === 1)).toBe(true);
    expect(neg.data.filter((b, i) => b !== 1 - pos.data[i]!).length).toBe(0);
  });

  it('reads the coefficients at the given offset', () => {
    const coefficients = Float32Array.from([9, 9, 9, 1, 0]);
    const m = assembleMask(coefficients, 3, rectProtos, lb, boxToSource(lb, [60, 60, 200, 200]));
    const ref = maskFor(rectProtos, [60, 60, 200, 200]);
    expect(m.data.length).toBe(ref.data.length);
    expect(m.data.filter((b, i) => b !== ref.data[i]).length).toBe(0);
  });

  it('returns an empty crop for a zero-area box', () => {
    const m = assembleMask(Float32Array.from([1, 0]), 0, rectProtos, lb, [300, 100, 300, 200]);
    expect([m.width, m.height, m.data.length]).toEqual([0, 100, 0]);
  });

  it('reads only the prototype cells under the box (cost confined to the box)', () => {
    const read = new Set<number>();
    const spy = new Proxy(rectProtos.data, {
      get(target, prop) {
        if (typeof prop === 'string' && /^\d+$/.test(prop)) read.add(Number(prop));
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const p: Prototypes = { ...rectProtos, data: spy };
    // Source box [200, 120, 280, 200] = cells u in [25, 35), v in [25, 35).
    const m = assembleMask(Float32Array.from([1, 1]), 0, p, lb, [200, 120, 280, 200]);
    expect([m.width, m.height]).toEqual([80, 80]);
    expect(read.size).toBeGreaterThan(0);
    const outside: number[] = [];
    for (const k of read) {
      const plane = Math.floor(k / (P * P));
      const u = k % P;
      const v = Math.floor((k % (P * P)) / P);
      // Bilinear sampling may need one neighbouring cell on each side.
      if (plane > 1 || u < 24 || u > 35 || v < 24 || v > 35) outside.push(k);
    }
    expect(outside).toEqual([]);
    // At most (10 + 2)^2 cells per prototype, far below the 80x80 plane.
    expect(read.size).toBeLessThanOrEqual(2 * 12 * 12);
  });
});

describe('assembleMask stability score', () => {
  // Input box around the rectangle of cells (input 80..160 x 80..160), with background around it.
  const box = [70, 70, 170, 170];
  const stability = (c: number): number => maskFor(rectProtos, box, [c, 0]).stability!;

  it('is near 1 for confident logits and falls as the logits flatten towards the threshold', () => {
    const sharp = stability(20);
    const medium = stability(2);
    const soft = stability(1.2);
    expect(sharp).toBeGreaterThan(0.9);
    expect(sharp).toBeLessThanOrEqual(1);
    expect(medium).toBeLessThan(sharp);
    expect(soft).toBeLessThan(medium);
    expect(soft).toBeGreaterThan(0);
  });

  it('is 0 when no pixel clears the +1 logit margin, though the mask itself is not empty', () => {
    const m = maskFor(rectProtos, box, [0.5, 0]);
    expect(m.data.some((v) => v === 1)).toBe(true);
    expect(m.stability).toBe(0);
  });

  it('does not change the mask itself', () => {
    const a = maskFor(rectProtos, box, [1, 0]);
    const b = maskFor(rectProtos, box, [20, 0]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});
