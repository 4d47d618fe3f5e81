/**
 * Zones as the dashboard edits them: the wire shape of `GET/PUT /api/cameras/<id>/zones`, the
 * vertex collection of a polygon being drawn, the hit test and the rule form. Pure: positions
 * are source-frame px (the tile maps pointer positions with gesture.ts's `toSource`), so all of
 * it is tested without a browser.
 */

export type Point = [number, number];

/**
 * A rule as the server holds it. Only the fields the form sets are named; the others (endSeconds,
 * maxMove, expected, ...) are kept as they came, so a PUT sends back what a GET gave.
 */
export interface WireRule {
  kind: string;
  seconds: number;
  classes?: string[];
  above?: number;
  [field: string]: unknown;
}

/** A zone as the server holds it; fields other than these are kept as they came. */
export interface WireZone {
  name: string;
  /** Vertices [x, y] in source px, implicitly closed. */
  polygon: Point[];
  minOverlap?: number;
  rules: WireRule[];
  [field: string]: unknown;
}

/** The server's rule for zone names (src/config/schema.ts ZONE_NAME_RE); it checks again. */
export const ZONE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;
/** The rule kinds the form offers (the server's RULE_KINDS). */
export const FORM_RULE_KINDS = ['presence', 'stopped', 'count', 'unknown'] as const;
export type FormRuleKind = (typeof FORM_RULE_KINDS)[number];
/** A polygon has at least this many vertices, and at most the server's limit. */
export const MIN_VERTICES = 3;
export const MAX_VERTICES = 256;
/** The form's defaults: a car, truck or bus in the zone for 1 s. */
export const DEFAULT_RULE_FORM: RuleForm = { kind: 'presence', classes: 'car, truck, bus', seconds: '1', above: '1' };
/** A click this close to the first vertex closes the polygon, or to the last one adds nothing (a double-click's second click), display px. */
export const SNAP_PX = 8;

/** What adding a vertex did. */
export type AddResult = 'added' | 'duplicate' | 'close' | 'full';

/**
 * The vertices of a polygon being drawn. `add` reports `close` for a click on the first vertex
 * (the caller then calls `close`), and ignores a click on the last one: a double-click's two
 * clicks add one vertex, its `dblclick` closes.
 */
export class PolygonDraft {
  private readonly points: Point[] = [];

  get vertices(): readonly Point[] {
    return this.points;
  }

  get empty(): boolean {
    return this.points.length === 0;
  }

  /** `tolerance`: SNAP_PX in source px (SNAP_PX * frame width / displayed width). */
  add(p: Point, tolerance: number): AddResult {
    const first = this.points[0];
    const last = this.points[this.points.length - 1];
    if (first && this.points.length >= MIN_VERTICES && distance(p, first) <= tolerance) return 'close';
    if (last && distance(p, last) <= tolerance) return 'duplicate';
    if (this.points.length >= MAX_VERTICES) return 'full';
    this.points.push([p[0], p[1]]);
    return 'added';
  }

  /** Removes the last vertex; false when there was none. */
  undo(): boolean {
    return this.points.pop() !== undefined;
  }

  /** The finished polygon, the draft emptied; or why it cannot close (the draft kept). */
  close(): { polygon: Point[] } | { error: string } {
    if (this.points.length < MIN_VERTICES) return { error: `a zone needs at least ${MIN_VERTICES} corners (${this.points.length} so far)` };
    if (Math.abs(polygonArea(this.points)) < 1) return { error: 'the corners are on one line: the zone has no area' };
    const polygon = this.points.splice(0).map((p): Point => [p[0], p[1]]);
    return { polygon };
  }

  clear(): void {
    this.points.length = 0;
  }
}

export function distance(a: readonly [number, number], b: readonly [number, number]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/** Signed area (shoelace), px²: positive when the vertices go clockwise in image coordinates (y down). */
export function polygonArea(polygon: readonly (readonly [number, number])[]): number {
  let twice = 0;
  for (let i = 0; i < polygon.length; i++) {
    const [x0, y0] = polygon[i]!;
    const [x1, y1] = polygon[(i + 1) % polygon.length]!;
    twice += x0 * y1 - x1 * y0;
  }
  return twice / 2;
}

/** Whether p lies inside the polygon (even-odd rule: a self-crossing polygon has holes); a point exactly on an edge may fall either way. */
export function pointInPolygon(p: readonly [number, number], polygon: readonly (readonly [number, number])[]): boolean {
  const [x, y] = p;
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The index of the zone under p: the last drawn (topmost) of those containing it, or -1. */
export function zoneAt(zones: readonly Pick<WireZone, 'polygon'>[], p: Point): number {
  for (let i = zones.length - 1; i >= 0; i--) if (pointInPolygon(p, zones[i]!.polygon)) return i;
  return -1;
}

/** Where a zone's name is drawn: its topmost vertex (the leftmost of equals), px. */
export function labelAnchor(polygon: readonly (readonly [number, number])[]): Point {
  let best: readonly [number, number] = polygon[0] ?? [0, 0];
  for (const v of polygon) if (v[1] < best[1] || (v[1] === best[1] && v[0] < best[0])) best = v;
  return [best[0], best[1]];
}

/** Why a new zone cannot take this name, or undefined when it can. */
export function zoneNameError(name: string, taken: readonly string[]): string | undefined {
  if (!ZONE_NAME_RE.test(name)) return 'names are 1-64 of A-Z a-z 0-9 space _ . -, starting with a letter or digit';
  if (taken.includes(name)) return `there is already a zone named '${name}'`;
  return undefined;
}

/** The first of "zone 1", "zone 2", ... not taken. */
export function nextZoneName(taken: readonly string[]): string {
  for (let i = 1; ; i++) if (!taken.includes(`zone ${i}`)) return `zone ${i}`;
}

/** The rule form's fields as typed. */
export interface RuleForm {
  kind: string;
  /** Class names separated by commas or spaces; empty: every class. */
  classes: string;
  seconds: string;
  /** `count`: the event holds while more than this many objects are in the zone. */
  above: string;
}

/** The rule the form describes, or what is wrong with it (naming the field). */
export function ruleFromForm(form: RuleForm): { rule: WireRule } | { error: string } {
  if (!(FORM_RULE_KINDS as readonly string[]).includes(form.kind)) return { error: `kind: one of ${FORM_RULE_KINDS.join(', ')}, got '${form.kind}'` };
  const seconds = Number(form.seconds);
  if (form.seconds.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 86_400) return { error: `seconds: a number from 0 to 86400, got '${form.seconds}'` };
  const rule: WireRule = { kind: form.kind, seconds };
  // `unknown` rules name the expected classes instead (the server's default): no classes field.
  if (form.kind !== 'unknown') {
    const classes = form.classes.split(/[\s,]+/).filter((c) => c.length > 0);
    if (classes.some((c) => c.length > 64)) return { error: 'classes: each name at most 64 characters' };
    if (classes.length > 0) rule.classes = classes;
  }
  if (form.kind === 'count') {
    const above = Number(form.above);
    if (form.above.trim() === '' || !Number.isInteger(above) || above < 0 || above > 10_000) return { error: `above: a whole number from 0 to 10000, got '${form.above}'` };
    rule.above = above;
  }
  return { rule };
}

/** One line for a rule: "presence of car, truck, bus for 1 s"; a kind the dashboard does not know is shown as it is. */
export function ruleSummary(rule: WireRule): string {
  const classes = Array.isArray(rule.classes) && rule.classes.length > 0 ? rule.classes.join(', ') : 'any class';
  const secs = `${typeof rule.seconds === 'number' ? rule.seconds : '?'} s`;
  switch (rule.kind) {
    case 'presence':
      return `presence of ${classes} for ${secs}`;
    case 'stopped':
      return `${classes} stopped for ${secs}`;
    case 'count':
      return `more than ${typeof rule.above === 'number' ? rule.above : '?'} of ${classes} for ${secs}`;
    case 'unknown':
      return `unknown object stopped for ${secs}`;
    default:
      return `${String(rule.kind)} for ${secs}`;
  }
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isPoint = (v: unknown): v is Point => Array.isArray(v) && v.length === 2 && isNumber(v[0]) && isNumber(v[1]);

/**
 * The zones of a `GET /api/cameras/<id>/zones` (or PUT) body: `{"zones": [...]}`. Throws a
 * TypeError naming the first field that is not as expected (the server's answer is not trusted
 * to draw).
 */
export function parseZones(body: unknown): WireZone[] {
  const zones = (body as { zones?: unknown } | null)?.zones;
  if (!Array.isArray(zones)) throw new TypeError('zones: expected an array in the body\'s "zones"');
  return zones.map((z: unknown, i): WireZone => {
    const zone = z as Partial<WireZone> | null;
    if (typeof zone !== 'object' || zone === null) throw new TypeError(`zones[${i}]: expected an object`);
    if (typeof zone.name !== 'string') throw new TypeError(`zones[${i}].name: expected a string`);
    if (!Array.isArray(zone.polygon) || !zone.polygon.every(isPoint)) throw new TypeError(`zones[${i}].polygon: expected [[x, y], ...]`);
    const rules = zone.rules ?? [];
    if (!Array.isArray(rules) || !rules.every((r) => typeof r === 'object' && r !== null && typeof (r as { kind?: unknown }).kind === 'string')) {
      throw new TypeError(`zones[${i}].rules: expected [{kind, ...}, ...]`);
    }
    return { ...zone, name: zone.name, polygon: zone.polygon.map((p): Point => [p[0], p[1]]), rules: rules.map((r) => ({ ...r })) };
  });
}
