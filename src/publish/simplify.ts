/** A point [x, y], px. */
export type Point = readonly [number, number];

/** Squared distance of p from the segment a-b, px². */
function segmentDistanceSq(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len = dx * dx + dy * dy;
  let t = len === 0 ? 0 : ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len;
  t = Math.max(0, Math.min(1, t));
  const ex = a[0] + t * dx - p[0];
  const ey = a[1] + t * dy - p[1];
  return ex * ex + ey * ey;
}

/**
 * Ramer-Douglas-Peucker: the fewest of `points` (an open polyline, first and last kept, order
 * kept) such that no dropped point lies farther than `tolerance` px from the simplified line.
 * Iterative (a stack, no recursion), O(n log n) typical, O(n²) worst case.
 */
export function simplifyPolyline(points: readonly Point[], tolerance: number): Point[] {
  const n = points.length;
  if (n <= 2 || !(tolerance > 0)) return points.slice();
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  const tolSq = tolerance * tolerance;
  const stack: [number, number][] = [[0, n - 1]];
  while (stack.length > 0) {
    const [first, last] = stack.pop()!;
    let worst = -1;
    let worstSq = tolSq;
    for (let i = first + 1; i < last; i++) {
      const d = segmentDistanceSq(points[i]!, points[first]!, points[last]!);
      if (d > worstSq) {
        worst = i;
        worstSq = d;
      }
    }
    if (worst < 0) continue;
    keep[worst] = 1;
    stack.push([first, worst], [worst, last]);
  }
  return points.filter((_, i) => keep[i] === 1);
}

/**
 * Simplifies a closed ring (given without its closing point): cut at its first point and the
 * point farthest from it, each half simplified as a polyline. Returns the ring without a
 * closing point; fewer than 3 points when nothing of area survives.
 */
export function simplifyRing(ring: readonly Point[], tolerance: number): Point[] {
  const n = ring.length;
  if (n <= 3) return ring.slice();
  const start = ring[0]!;
  let far = 0;
  let farSq = -1;
  for (let i = 1; i < n; i++) {
    const dx = ring[i]![0] - start[0];
    const dy = ring[i]![1] - start[1];
    if (dx * dx + dy * dy > farSq) {
      far = i;
      farSq = dx * dx + dy * dy;
    }
  }
  const a = simplifyPolyline(ring.slice(0, far + 1), tolerance);
  const b = simplifyPolyline([...ring.slice(far), start], tolerance);
  // a ends with ring[far], b starts with it and ends with the start point again.
  return [...a, ...b.slice(1, -1)];
}

/** Shoelace area of a closed ring, px² (positive whatever the winding). */
export function ringArea(ring: readonly Point[]): number {
  let twice = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) twice += (ring[j]![0] + ring[i]![0]) * (ring[j]![1] - ring[i]![1]);
  return Math.abs(twice) / 2;
}
