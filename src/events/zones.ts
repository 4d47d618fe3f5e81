import type { MaskCrop } from '../core/index.js';

/**
 * Zone geometry in source px, by scanlines: a polygon's inside at one horizontal line is the
 * union of intervals between its edge crossings, taken in pairs (even-odd rule, half-open
 * [c0, c1) u [c2, c3) ...). A pixel (col, row) is represented by its centre (col + 0.5, row + 0.5).
 * Invalid input (non-finite vertices, fewer than 3, zero area, bad crops or boxes) gives 0,
 * never NaN and never an exception.
 */

export type Point = readonly [number, number];
export type Polygon = readonly Point[];
/** x1, y1, x2, y2 in source px. */
export type Box = readonly [number, number, number, number];

/** A polygon ready for scanlines: its finite vertices and their bounding box. */
export interface PreparedPolygon {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
  /** Scratch for one scanline's crossings (at most one per edge). */
  readonly crossings: Float64Array;
  /**
   * Crossings of the pixel rows' centre lines (row r: y = r + 0.5), computed once per row and
   * kept: a zone is fixed, masks come every frame. Rows 0..MAX_CACHED_ROW only, up to
   * MAX_CACHED_CROSSINGS numbers in all (a hostile polygon is scanned afresh instead).
   */
  readonly rows: Map<number, Float64Array>;
  cached: number;
}

const MAX_CACHED_ROW = 8192;
const MAX_CACHED_CROSSINGS = 1 << 20;

/** The crossings of row `row`'s centre line (see PreparedPolygon.rows): an array and its length. */
function rowCrossings(p: PreparedPolygon, row: number): { c: Float64Array; k: number } {
  const hit = p.rows.get(row);
  if (hit) return { c: hit, k: hit.length };
  const k = scanline(p, row + 0.5);
  if (row >= 0 && row < MAX_CACHED_ROW && p.cached + k <= MAX_CACHED_CROSSINGS) {
    const c = p.crossings.slice(0, k);
    p.rows.set(row, c);
    p.cached += k;
    return { c, k };
  }
  return { c: p.crossings, k };
}

/** Non-finite vertices are dropped; fewer than 3 left gives a polygon that contains nothing. */
export function preparePolygon(polygon: Polygon): PreparedPolygon {
  const pts = (Array.isArray(polygon) ? polygon : []).filter(
    (p): p is Point => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]),
  );
  const usable = pts.length >= 3 ? pts : [];
  const xs = Float64Array.from(usable, (p) => p[0]);
  const ys = Float64Array.from(usable, (p) => p[1]);
  const bound = (v: Float64Array, f: (...a: number[]) => number): number => (v.length === 0 ? NaN : f(...v));
  return {
    xs,
    ys,
    minX: bound(xs, Math.min),
    minY: bound(ys, Math.min),
    maxX: bound(xs, Math.max),
    maxY: bound(ys, Math.max),
    crossings: new Float64Array(xs.length),
    rows: new Map(),
    cached: 0,
  };
}

function asPrepared(polygon: Polygon | PreparedPolygon): PreparedPolygon {
  return typeof polygon === 'object' && polygon !== null && 'xs' in polygon ? polygon : preparePolygon(polygon);
}

/**
 * The x of every edge crossing of the line at `y`, ascending, in `p.crossings`; returns how
 * many. An edge counts when its ends lie on either side of y (one strictly above): horizontal
 * edges never do, a vertex on the line counts once.
 */
export function scanline(p: PreparedPolygon, y: number): number {
  const { xs, ys, crossings: c } = p;
  const n = xs.length;
  let k = 0;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const yi = ys[i]!;
    const yj = ys[j]!;
    if (yi > y !== yj > y) {
      const x = xs[i]! + ((y - yi) * (xs[j]! - xs[i]!)) / (yj - yi);
      // Insertion sort: a zone has a handful of crossings per line.
      let m = k++;
      while (m > 0 && c[m - 1]! > x) {
        c[m] = c[m - 1]!;
        m--;
      }
      c[m] = x;
    }
  }
  return k;
}

/** Even-odd point test with the scanline's convention (a point on a left edge is inside). */
export function pointInPolygon(polygon: Polygon | PreparedPolygon, x: number, y: number): boolean {
  const p = asPrepared(polygon);
  if (!Number.isFinite(x) || !Number.isFinite(y) || p.xs.length < 3) return false;
  const k = scanline(p, y);
  let inside = false;
  for (let i = 0; i < k; i++) if (p.crossings[i]! <= x) inside = !inside;
  return inside;
}

/** Does the segment a-b touch the closed rectangle? (Liang-Barsky clipping.) */
function segmentTouchesRect(ax: number, ay: number, bx: number, by: number, x0: number, y0: number, x1: number, y1: number): boolean {
  let t0 = 0;
  let t1 = 1;
  const clip = (p: number, q: number): boolean => {
    if (p === 0) return q >= 0;
    const r = q / p;
    if (p < 0) {
      if (r > t1) return false;
      if (r > t0) t0 = r;
    } else {
      if (r < t0) return false;
      if (r < t1) t1 = r;
    }
    return true;
  };
  const dx = bx - ax;
  const dy = by - ay;
  return clip(-dx, ax - x0) && clip(dx, x1 - ax) && clip(-dy, ay - y0) && clip(dy, y1 - ay);
}

/** Is the closed rectangle wholly inside the polygon? (No edge touches it and its centre is inside.) */
export function rectInPolygon(polygon: Polygon | PreparedPolygon, x0: number, y0: number, x1: number, y1: number): boolean {
  const p = asPrepared(polygon);
  const n = p.xs.length;
  if (n < 3 || !(x0 >= p.minX && x1 <= p.maxX && y0 >= p.minY && y1 <= p.maxY)) return false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    if (segmentTouchesRect(p.xs[j]!, p.ys[j]!, p.xs[i]!, p.ys[i]!, x0, y0, x1, y1)) return false;
  }
  return pointInPolygon(p, (x0 + x1) / 2, (y0 + y1) / 2);
}

/** Rows of a crop that its data really holds (0 for a malformed crop). */
function usableRows(mask: MaskCrop): number {
  const { width: w, height: h } = mask;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0) return 0;
  if (!Number.isFinite(mask.x) || !Number.isFinite(mask.y) || !(mask.data instanceof Uint8Array)) return 0;
  return Math.min(h, Math.floor(mask.data.length / w));
}

/** Set pixels of a crop and the mean of their centres, source px (x, y NaN when count is 0). */
export function maskMoments(mask: MaskCrop): { count: number; x: number; y: number } {
  const rows = usableRows(mask);
  const { width: w, data } = mask;
  let count = 0;
  let sx = 0;
  let sy = 0;
  for (let r = 0; r < rows; r++) {
    let rowCount = 0;
    let rowSx = 0;
    for (let c = 0, i = r * w; c < w; c++, i++) {
      if (data[i] !== 0) {
        rowCount++;
        rowSx += c;
      }
    }
    count += rowCount;
    sx += rowSx;
    sy += rowCount * r;
  }
  if (count === 0) return { count, x: NaN, y: NaN };
  return { count, x: mask.x + sx / count + 0.5, y: mask.y + sy / count + 0.5 };
}

/** A box with finite coordinates in order (x1 <= x2, y1 <= y2), or null. */
export function saneBox(box: Box | null | undefined): [number, number, number, number] | null {
  if (!Array.isArray(box) || box.length < 4) return null;
  const [a, b, c, d] = box as Box;
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c) || !Number.isFinite(d)) return null;
  return [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
}

/**
 * The mean of the mask's set pixel centres, source px; for an empty or malformed mask the
 * centre of `fallback` (the object's box) when it is a finite box, else of the crop rectangle.
 */
export function maskCentroid(mask: MaskCrop, fallback?: Box): [number, number] {
  const m = maskMoments(mask);
  if (m.count > 0) return [m.x, m.y];
  const box = saneBox(fallback);
  if (box !== null) return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
  const cx = mask.x + mask.width / 2;
  const cy = mask.y + mask.height / 2;
  return Number.isFinite(cx) && Number.isFinite(cy) ? [cx, cy] : [0, 0];
}

/**
 * Share (0..1) of the mask's set pixels whose centres lie inside the polygon; 0 for an empty
 * mask. Per crop row the polygon's intervals at the row's centre line bound the columns to
 * count; crops clear of the polygon's bounding box are rejected, crops wholly inside accepted,
 * without scanlines. `setPixels`, the mask's set pixel count when the caller has it (from
 * maskMoments), spares counting them again: only the pixels inside intervals are then read.
 */
/**
 * Per row of the mask, the running count of set pixels: `prefix[r * (w + 1) + c]` is the number
 * set in columns [0, c) of row r. Made once per object and frame, it makes each zone's count a
 * lookup per crossing instead of a pass over the row's pixels.
 */
export function maskRowPrefix(mask: MaskCrop): Int32Array {
  const rows = usableRows(mask);
  const w = mask.width;
  const out = new Int32Array(rows * (w + 1));
  const { data } = mask;
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    const o = r * (w + 1);
    const base = r * w;
    for (let c = 0; c < w; c++) {
      if (data[base + c] !== 0) acc++;
      out[o + c + 1] = acc;
    }
  }
  return out;
}

export function maskShareInPolygon(mask: MaskCrop, polygon: Polygon | PreparedPolygon, setPixels?: number, prefix?: Int32Array): number {
  const p = asPrepared(polygon);
  const rows = usableRows(mask);
  if (rows === 0 || p.xs.length < 3) return 0;
  const { x: ox, y: oy, width: w, data } = mask;
  // Pixel centres span [ox + 0.5, ox + w - 0.5] x [oy + 0.5, oy + rows - 0.5].
  if (ox + w - 0.5 < p.minX || ox + 0.5 > p.maxX || oy + rows - 0.5 < p.minY || oy + 0.5 > p.maxY) return 0;
  // The quick accept tests every edge; with row counts at hand the rows are as cheap.
  if (prefix === undefined && rectInPolygon(p, ox, oy, ox + w, oy + rows)) {
    for (let i = 0, n = rows * w; i < n; i++) if (data[i] !== 0) return 1;
    return 0;
  }
  const known = setPixels !== undefined && Number.isInteger(setPixels) && setPixels >= 0;
  let total = known ? setPixels : 0;
  let inside = 0;
  const pre = prefix !== undefined && prefix.length === rows * (w + 1) ? prefix : undefined;
  for (let r = 0; r < rows; r++) {
    const base = r * w;
    if (!known) for (let i = base, end = base + w; i < end; i++) if (data[i] !== 0) total++;
    const cy = oy + r + 0.5;
    if (cy < p.minY || cy > p.maxY) continue;
    const { c, k } = Number.isInteger(oy) ? rowCrossings(p, oy + r) : { c: p.crossings, k: scanline(p, cy) };
    for (let e = 0; e + 1 < k; e += 2) {
      // Columns whose centre ox + col + 0.5 lies in [c[e], c[e + 1]).
      const from = Math.max(0, Math.ceil(c[e]! - ox - 0.5));
      const to = Math.min(w, Math.ceil(c[e + 1]! - ox - 0.5));
      if (to <= from) continue;
      if (pre) inside += pre[r * (w + 1) + to]! - pre[r * (w + 1) + from]!;
      else for (let i = base + from, end = base + to; i < end; i++) if (data[i] !== 0) inside++;
    }
  }
  return total === 0 ? 0 : Math.min(1, inside / total);
}

/** Scanlines a box is cut into at most (one per px of height below this). */
const MAX_BOX_ROWS = 256;

/**
 * Share (0..1) of the box's area inside the polygon, for objects without a mask: the box cut
 * into rows (one per px of height, at most 256), each row's inside length at its centre line
 * summed. A box of zero width or height counts as its centre point (1 inside, 0 outside).
 */
export function boxShareInPolygon(box: Box, polygon: Polygon | PreparedPolygon): number {
  const p = asPrepared(polygon);
  const b = saneBox(box);
  if (b === null || p.xs.length < 3) return 0;
  const [x1, y1, x2, y2] = b;
  const w = x2 - x1;
  const h = y2 - y1;
  if (!(w > 0) || !(h > 0)) return pointInPolygon(p, (x1 + x2) / 2, (y1 + y2) / 2) ? 1 : 0;
  if (x2 <= p.minX || x1 >= p.maxX || y2 <= p.minY || y1 >= p.maxY) return 0;
  if (rectInPolygon(p, x1, y1, x2, y2)) return 1;
  const rows = Math.min(MAX_BOX_ROWS, Math.max(1, Math.ceil(h)));
  const rowH = h / rows;
  const c = p.crossings;
  let length = 0;
  for (let r = 0; r < rows; r++) {
    const k = scanline(p, y1 + (r + 0.5) * rowH);
    for (let e = 0; e + 1 < k; e += 2) {
      const a = Math.max(c[e]!, x1);
      const z = Math.min(c[e + 1]!, x2);
      if (z > a) length += z - a;
    }
  }
  return Math.min(1, length / (rows * w));
}
