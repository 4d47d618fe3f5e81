import { describe, expect, it } from 'vitest';
import { ringArea, simplifyPolyline, simplifyRing, type Point } from '../../../src/publish/simplify.js';

describe('simplifyPolyline (Douglas-Peucker)', () => {
  it('drops points closer to the line than the tolerance and keeps the ends', () => {
    const line: Point[] = [[0, 0], [1, 0.2], [2, -0.1], [3, 0.3], [4, 0]];
    expect(simplifyPolyline(line, 0.5)).toEqual([[0, 0], [4, 0]]);
  });

  it('keeps a point farther than the tolerance, and the points that shape each side of it', () => {
    const line: Point[] = [[0, 0], [1, 1.6], [2, 3], [3, 1.4], [4, 0]];
    expect(simplifyPolyline(line, 0.5)).toEqual([[0, 0], [2, 3], [4, 0]]);
    expect(simplifyPolyline(line, 5)).toEqual([[0, 0], [4, 0]]);
  });

  it('measures distance to the segment, not the infinite line (a point beyond an end is far)', () => {
    // (6, 0) lies on the line through (0,0)-(4,0) but 2 px beyond the segment.
    const line: Point[] = [[0, 0], [6, 0], [4, 0]];
    expect(simplifyPolyline(line, 1)).toEqual(line);
  });

  it('returns short lines and a tolerance of 0 unchanged, as a copy', () => {
    const two: Point[] = [[0, 0], [1, 1]];
    expect(simplifyPolyline(two, 1)).toEqual(two);
    expect(simplifyPolyline(two, 1)).not.toBe(two);
    const zigzag: Point[] = [[0, 0], [1, 0.1], [2, 0]];
    expect(simplifyPolyline(zigzag, 0)).toEqual(zigzag);
  });

  it('handles 100,000 points without recursion', () => {
    const many: Point[] = Array.from({ length: 100_000 }, (_, i) => [i, Math.sin(i / 50) * 10] as const);
    const out = simplifyPolyline(many, 0.5);
    expect(out.length).toBeLessThan(many.length / 10);
    expect(out[0]).toEqual(many[0]);
    expect(out.at(-1)).toEqual(many.at(-1));
  });
});

describe('simplifyRing', () => {
  it('reduces a densely sampled square to its 4 corners, keeping its area', () => {
    const ring: Point[] = [];
    for (let i = 0; i < 10; i++) ring.push([i, 0]);
    for (let i = 0; i < 10; i++) ring.push([10, i]);
    for (let i = 10; i > 0; i--) ring.push([i, 10]);
    for (let i = 10; i > 0; i--) ring.push([0, i]);
    const out = simplifyRing(ring, 0.5);
    expect(out).toHaveLength(4);
    expect(ringArea(out)).toBe(100);
  });

  it('ringArea is the shoelace area whatever the winding', () => {
    expect(ringArea([[0, 0], [4, 0], [4, 3]])).toBe(6);
    expect(ringArea([[4, 3], [4, 0], [0, 0]])).toBe(6);
  });
});
