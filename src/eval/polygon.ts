/**
 * Rasterises one simple or self-intersecting polygon (flat `[x0, y0, x1, y1, ...]`, px, implicitly
 * closed) into a row-major bitmap of `height * width` bytes, 1 inside.
 *
 * Rule: pixel (x, y) belongs to the polygon when its centre (x + 0.5, y + 0.5) is inside under
 * the even-odd rule, tested as PNPOLY does (an edge counts on a scanline when exactly one of its
 * end points lies strictly below it, `(yi > Y) !== (yj > Y)`; a centre exactly on a left edge is
 * in, on a right edge out). Parts outside the frame are cut. This is not pycocotools' `frPoly`
 * (which rounds the outline on a 5x grid); the two differ on boundary pixels only.
 */
export function rasterizePolygon(points: ArrayLike<number>, width: number, height: number): Uint8Array {
  if (points.length % 2 !== 0) throw new TypeError(`polygon needs x, y pairs, got ${points.length} numbers`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`invalid bitmap size ${width}x${height}`);
  }
  const out = new Uint8Array(width * height);
  const n = points.length / 2;
  if (n < 3) return out;
  const xs: number[] = [];
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = points[2 * i]!;
      const yi = points[2 * i + 1]!;
      const xj = points[2 * j]!;
      const yj = points[2 * j + 1]!;
      if (yi > cy !== yj > cy) xs.push(((xj - xi) * (cy - yi)) / (yj - yi) + xi);
    }
    xs.sort((a, b) => a - b);
    // A centre cx is inside when an odd number of crossings lie strictly right of it, i.e.
    // xs[2k] <= cx < xs[2k+1]; cx = x + 0.5, so x runs from ceil(xs[2k] - 0.5) to ceil(xs[2k+1] - 0.5) - 1.
    const row = y * width;
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const x0 = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const x1 = Math.min(width, Math.ceil(xs[k + 1]! - 0.5));
      for (let x = x0; x < x1; x++) out[row + x] = 1;
    }
  }
  return out;
}

/** The polygon's bounding box as COCO writes it, `[x, y, w, h]`, px (no +1). */
export function polygonBbox(points: ArrayLike<number>): [number, number, number, number] {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i]!;
    const y = points[i + 1]!;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (x0 > x1) return [0, 0, 0, 0];
  return [x0, y0, x1 - x0, y1 - y0];
}
