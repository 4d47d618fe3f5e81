import { describe, expect, it } from 'vitest';
import { rng } from '../../helpers/random.js';
import { boxIou as iouAt } from '../../../src/core/geometry.js';
import { nms, type NmsOptions } from '../../../src/pipeline/nms.js';

/** IoU of boxes i and j of one flat xyxy array. */
const boxIou = (boxes: ArrayLike<number>, i: number, j: number): number => iouAt(boxes, i * 4, boxes, j * 4);


/** IoU of two integer boxes by counting unit cells, independent of boxIou's formula. */
function iouByCounting(a: number[], b: number[]): number {
  let inter = 0;
  let union = 0;
  const x0 = Math.min(a[0]!, b[0]!), x1 = Math.max(a[2]!, b[2]!);
  const y0 = Math.min(a[1]!, b[1]!), y1 = Math.max(a[3]!, b[3]!);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const inA = x >= a[0]! && x < a[2]! && y >= a[1]! && y < a[3]!;
      const inB = x >= b[0]! && x < b[2]! && y >= b[1]! && y < b[3]!;
      if (inA && inB) inter++;
      if (inA || inB) union++;
    }
  }
  return union === 0 ? 0 : inter / union;
}

/**
 * Reference NMS in its textbook form: repeatedly take the best remaining box and delete
 * every remaining box that overlaps it too much (same class unless agnostic).
 */
function referenceNms(boxes: number[][], scores: number[], classes: number[], o: NmsOptions): number[] {
  let remaining = scores.map((_, i) => i);
  const keep: number[] = [];
  while (remaining.length > 0 && keep.length < o.maxDetections) {
    let best = remaining[0]!;
    for (const i of remaining) if (scores[i]! > scores[best]!) best = i;
    keep.push(best);
    remaining = remaining.filter(
      (i) => i !== best && !((o.agnostic || classes[i] === classes[best]) && iouByCounting(boxes[i]!, boxes[best]!) > o.iouThreshold),
    );
  }
  return keep;
}

describe('boxIou', () => {
  it('is 1/7 for two 2x2 boxes overlapping in one unit square', () => {
    // intersection 1, union 4 + 4 - 1 = 7
    expect(boxIou([0, 0, 2, 2, 1, 1, 3, 3], 0, 1)).toBeCloseTo(1 / 7, 12);
  });

  it('is 1/2 when one box covers half of the other', () => {
    // [0,0,4,2] inside [0,0,4,4]: intersection 8, union 16
    expect(boxIou([0, 0, 4, 4, 0, 0, 4, 2], 0, 1)).toBe(0.5);
  });

  it('is 1 for identical boxes and symmetric in its arguments', () => {
    const b = [10, 20, 30, 50, 15, 25, 40, 60];
    expect(boxIou(b, 0, 0)).toBe(1);
    expect(boxIou(b, 0, 1)).toBe(boxIou(b, 1, 0));
  });

  it('is 0 for boxes that only touch or are apart', () => {
    expect(boxIou([0, 0, 2, 2, 2, 0, 4, 2], 0, 1)).toBe(0);
    expect(boxIou([0, 0, 2, 2, 5, 5, 6, 6], 0, 1)).toBe(0);
  });

  it('is 0 for degenerate (zero-area) boxes', () => {
    expect(boxIou([1, 1, 1, 1, 1, 1, 1, 1], 0, 1)).toBe(0);
  });

  it('matches cell counting on random integer boxes', () => {
    const r = rng(7);
    for (let t = 0; t < 200; t++) {
      const b: number[] = [];
      for (let k = 0; k < 2; k++) {
        const x = Math.floor(r() * 20), y = Math.floor(r() * 20);
        b.push(x, y, x + 1 + Math.floor(r() * 12), y + 1 + Math.floor(r() * 12));
      }
      expect(boxIou(b, 0, 1)).toBeCloseTo(iouByCounting(b.slice(0, 4), b.slice(4)), 12);
    }
  });
});

describe('nms', () => {
  const opts: NmsOptions = { iouThreshold: 0.5, agnostic: false, maxDetections: 100 };
  // Boxes 0 and 1 overlap with IoU 0.81 (9x9 of 10x10); box 2 is apart.
  const boxes = [0, 0, 10, 10, 1, 1, 10, 10, 50, 50, 60, 60];

  it('returns kept indices highest score first', () => {
    expect(nms(boxes, [0.3, 0.2, 0.9], [0, 1, 2], opts)).toEqual([2, 0, 1]);
  });

  it('suppresses an overlapping box of the same class', () => {
    expect(nms(boxes, [0.8, 0.9, 0.5], [0, 0, 0], opts)).toEqual([1, 2]);
  });

  it('keeps overlapping boxes of different classes unless agnostic', () => {
    expect(nms(boxes, [0.8, 0.9, 0.5], [0, 1, 0], opts)).toEqual([1, 0, 2]);
    expect(nms(boxes, [0.8, 0.9, 0.5], [0, 1, 0], { ...opts, agnostic: true })).toEqual([1, 2]);
  });

  it('suppresses only above the IoU threshold', () => {
    // IoU is 0.81: kept at threshold 0.81 (not strictly greater), suppressed at 0.8.
    expect(nms(boxes, [0.9, 0.8, 0.1], [0, 0, 0], { ...opts, iouThreshold: 0.81 })).toEqual([0, 1, 2]);
    expect(nms(boxes, [0.9, 0.8, 0.1], [0, 0, 0], { ...opts, iouThreshold: 0.8 })).toEqual([0, 2]);
  });

  it('stops at maxDetections, keeping the best', () => {
    const apart = [0, 0, 1, 1, 5, 5, 6, 6, 10, 10, 11, 11, 20, 20, 21, 21];
    expect(nms(apart, [0.1, 0.4, 0.3, 0.2], [0, 0, 0, 0], { ...opts, maxDetections: 2 })).toEqual([1, 2]);
    expect(nms(apart, [0.1, 0.4, 0.3, 0.2], [0, 0, 0, 0], { ...opts, maxDetections: 0 })).toEqual([]);
  });

  it('returns nothing for no boxes', () => {
    expect(nms([], [], [], opts)).toEqual([]);
  });

  it('a suppressed box does not suppress others (chain A > B > C, A and C apart)', () => {
    // A=[0,10], B=[5,15], C=[10,20] on x; IoU(A,B)=IoU(B,C)=1/3, IoU(A,C)=0.
    const chain = [0, 0, 10, 10, 5, 0, 15, 10, 10, 0, 20, 10];
    expect(nms(chain, [0.9, 0.8, 0.7], [0, 0, 0], { ...opts, iouThreshold: 0.3 })).toEqual([0, 2]);
  });

  it.each([
    ['per-class', false, 0.5],
    ['agnostic', true, 0.5],
    ['per-class, tight threshold', false, 0.1],
    ['agnostic, loose threshold', true, 0.9],
  ])('matches the textbook reference on random boxes (%s)', (_name, agnostic, iouThreshold) => {
    const r = rng(agnostic ? 11 : 13);
    for (let t = 0; t < 30; t++) {
      const n = 1 + Math.floor(r() * 40);
      const list: number[][] = [];
      const scores: number[] = [];
      const classes: number[] = [];
      for (let i = 0; i < n; i++) {
        const x = Math.floor(r() * 30), y = Math.floor(r() * 30);
        list.push([x, y, x + 1 + Math.floor(r() * 15), y + 1 + Math.floor(r() * 15)]);
        scores.push(r());
        classes.push(Math.floor(r() * 3));
      }
      const o = { iouThreshold, agnostic, maxDetections: 1 + Math.floor(r() * n) };
      expect(nms(list.flat(), scores, classes, o)).toEqual(referenceNms(list, scores, classes, o));
    }
  });
});
