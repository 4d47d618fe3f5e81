import { advance, reached, type Run } from './hysteresis.js';
import { HISTORY_BUCKETS, TrackMotion } from './trackMotion.js';
import type { Rule, RuleKind, RuleObject, Transition, Zone } from './types.js';
import { boxShareInPolygon, maskMoments, maskRowPrefix, maskShareInPolygon, preparePolygon, saneBox, type PreparedPolygon } from './zones.js';
import type { MaskCrop } from '../core/index.js';

/**
 * COCO classes of expected road users and road furniture: what `unknown` does not report.
 * person .. truck and train are the road users. Traffic lights, stop signs, fire hydrants and
 * parking meters are fixed in the picture: a zone drawn over one would report it for ever.
 * Animals, bags and everything else stay unknown: on a road they are the hazards to report.
 */
export const DEFAULT_EXPECTED_CLASSES: readonly string[] = [
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'bus',
  'truck',
  'train',
  'traffic light',
  'stop sign',
  'fire hydrant',
  'parking meter',
];

export interface RuleEngineOptions {
  /** Classes `unknown` rules take as expected road users unless a rule names its own. */
  readonly expectedClasses?: readonly string[];
  /** The model has no road classes (open-vocabulary, SAM): every object counts as unknown. */
  readonly classAgnostic?: boolean;
  /** Default end hysteresis, s (a rule's own `endSeconds` overrides). */
  readonly endSeconds?: number;
  /** Default membership share, 0..1 (a zone's own `minOverlap` overrides). */
  readonly minOverlap?: number;
  /** Time constant of the centroid smoothing, s. */
  readonly smoothingS?: number;
}

export const DEFAULT_RULE_ENGINE = {
  // A long truck partly on the shoulder or a car straddling a lane line has 30 to 50% of its
  // mask inside; a neighbour whose mask bleeds over the line (perspective, occlusion) 5 to 15%.
  minOverlap: 0.25,
  // ByteTrack keeps a lost track about 1 s (30 frames at 30 fps) and detections drop out for a
  // few frames under occlusion; 2 s bridges both without holding an event long after it left.
  endSeconds: 2,
  // Mask centroids jitter a few px frame to frame; 0.5 s averages 15 frames at 30 fps while
  // lagging a rule of several seconds by a negligible half second.
  smoothingS: 0.5,
  // A parked car's smoothed centroid wanders a few % of its diagonal (occlusion by passing
  // traffic, mask noise); a car creeping in a queue moves more than a tenth of its length
  // (about 0.5 m) within a rule's seconds.
  maxMove: 0.1,
} as const;

/** Track state outlives its last sighting by the longest rule time plus this, s. */
const FORGET_MARGIN_S = 2;

interface PreparedRule {
  readonly index: number;
  readonly kind: RuleKind;
  readonly seconds: number;
  readonly endS: number;
  /** Which labels the rule looks at (for unknown: the unexpected ones). */
  readonly matches: (label: string) => boolean;
  /** stopped and unknown: the largest move still stopped, px, for a box diagonal. */
  readonly maxMove: ((diag: number) => number) | null;
  readonly above: number;
  /** Per-object rules: one event per track; count: one under key -1. */
  readonly events: Map<number, EventState>;
}

interface PreparedZone {
  readonly name: string;
  readonly polygon: PreparedPolygon;
  readonly minOverlap: number;
  readonly rules: readonly PreparedRule[];
}

interface EventState {
  run: Run;
  /** Set on start. */
  startS: number;
  /** stopped, unknown: the smoothed position when the event started; it holds while the object stays within maxMove of it. */
  anchor?: { x: number; y: number };
  tracks: readonly number[];
  labels: readonly string[];
}

/** An object of this frame, checked, with its track's motion state. */
interface Seen {
  readonly track: number;
  readonly label: string;
  readonly box: readonly [number, number, number, number];
  readonly mask: MaskCrop | null;
  /** The mask's set pixels (0 without a mask). */
  readonly setPixels: number;
  readonly motion: TrackMotion;
  /** The mask's row prefix counts (maskRowPrefix), made once a second zone needs the mask's pixels counted. */
  prefix?: Int32Array;
  /** Zones that counted its mask so far this frame. */
  counted: number;
}

/**
 * Zone rules over tracked objects, a pure synchronous core: `update(objects, t)` with the
 * frame's objects and its media time returns the events that start, change or end. Every
 * condition has the same hysteresis: an event starts once its condition held `seconds` (from
 * the first time it held: startS) and ends once it was false `endSeconds` (endS = lastS = the
 * last time it held); a false spell shorter than endSeconds changes nothing. An object is in a
 * zone when at least `minOverlap` of its mask (its box without a mask or with an empty one)
 * lies inside. A frame without any input at all (a gap in time) is no evidence of absence: only
 * frames that lack an object make its conditions false.
 *
 * Time going backwards (a source restart) resets the engine: every open event ends at its last
 * held time (as flush()), pending waits and track histories are dropped, and the frame is then
 * taken as the first of a new timeline. A non-finite t is ignored.
 */
export class RuleEngine {
  private readonly zones: readonly PreparedZone[];
  private readonly smoothingS: number;
  private readonly bucketS: number;
  private readonly forgetS: number;
  private readonly tracks = new Map<number, TrackMotion>();
  private lastT = NaN;
  private openCount = 0;

  constructor(zones: readonly Zone[], options: RuleEngineOptions = {}) {
    const endSeconds = nonNegative('endSeconds', options.endSeconds ?? DEFAULT_RULE_ENGINE.endSeconds);
    const minOverlap = share('minOverlap', options.minOverlap ?? DEFAULT_RULE_ENGINE.minOverlap);
    this.smoothingS = nonNegative('smoothingS', options.smoothingS ?? DEFAULT_RULE_ENGINE.smoothingS);
    const expected = new Set(options.expectedClasses ?? DEFAULT_EXPECTED_CLASSES);
    const agnostic = options.classAgnostic === true;
    if (!Array.isArray(zones)) throw new TypeError(`RuleEngine: zones must be an array, got ${typeof zones}`);
    const names = new Set<string>();
    this.zones = zones.map((zone) => {
      if (typeof zone?.name !== 'string') throw new TypeError(`RuleEngine: zone name must be a string, got ${typeof zone?.name}`);
      if (names.has(zone.name)) throw new TypeError(`RuleEngine: zone names must be unique, got "${zone.name}" twice`);
      names.add(zone.name);
      const rules: readonly Rule[] = Array.isArray(zone.rules) ? zone.rules : [];
      return {
        name: zone.name,
        polygon: preparePolygon(zone.polygon),
        minOverlap: zone.minOverlap === undefined ? minOverlap : share(`zone ${zone.name} minOverlap`, zone.minOverlap),
        rules: rules.map((rule, index) => prepareRule(rule, index, `zone ${zone.name} rule ${index}`, endSeconds, expected, agnostic)),
      };
    });
    const all = this.zones.flatMap((z) => z.rules);
    const window = Math.max(0, ...all.filter((r) => r.maxMove !== null).map((r) => r.seconds));
    // 62 spans per window: 64 buckets then reach back more than the window, however the
    // frames fall and the newest bucket is filled.
    this.bucketS = window / (HISTORY_BUCKETS - 2);
    // A track unseen longer than its rules' end time has no open or pending event left: its
    // motion is forgotten then, so memory follows the objects on screen, not the rules' seconds.
    this.forgetS = Math.max(endSeconds, ...all.map((r) => r.endS)) + FORGET_MARGIN_S;
  }

  /** Events open now. */
  get open(): number {
    return this.openCount;
  }

  /** Sizes of the state, for stats and the memory tests. */
  toJSON(): { open: number; pending: number; tracks: number } {
    let events = 0;
    for (const z of this.zones) for (const r of z.rules) events += r.events.size;
    return { open: this.openCount, pending: events - this.openCount, tracks: this.tracks.size };
  }

  update(objects: readonly RuleObject[], t: number): Transition[] {
    if (!Number.isFinite(t)) return [];
    const out: Transition[] = [];
    if (t < this.lastT) {
      out.push(...this.flush());
      this.tracks.clear();
    }
    this.lastT = t;
    const seen = this.observe(Array.isArray(objects) ? objects : [], t);
    for (const zone of this.zones) {
      // Membership once per zone and object, shared by the zone's rules.
      const inside = seen.filter((o) => inZone(o, zone));
      for (const rule of zone.rules) {
        if (rule.kind === 'count') this.stepCount(zone, rule, inside, t, out);
        else this.stepObjects(zone, rule, inside, t, out);
      }
    }
    for (const [track, motion] of this.tracks) if (t - motion.lastT > this.forgetS) this.tracks.delete(track);
    return out;
  }

  /** Ends every open event at its last held time and drops pending waits (shutdown, zone change). */
  flush(): Transition[] {
    const out: Transition[] = [];
    for (const zone of this.zones) {
      for (const rule of zone.rules) {
        for (const [track, ev] of rule.events) if (ev.run.open) out.push(this.end(zone, rule, track, ev));
        rule.events.clear();
      }
    }
    this.openCount = 0;
    return out;
  }

  private observe(objects: readonly RuleObject[], t: number): Seen[] {
    const seen: Seen[] = [];
    const ids = new Set<number>();
    for (const o of objects) {
      if (o === null || typeof o !== 'object' || !Number.isInteger(o.track) || o.track < 0 || ids.has(o.track)) continue;
      let mask = o.mask ?? null;
      const m = mask === null ? null : maskMoments(mask);
      if (m === null || m.count === 0) mask = null;
      const box = saneBox(o.box) ?? (mask === null ? null : ([mask.x, mask.y, mask.x + mask.width, mask.y + mask.height] as const));
      if (box === null) continue;
      // Objects away from every zone take no part (no motion state is kept for them).
      if (!this.zones.some((z) => box[2] >= z.polygon.minX && box[0] <= z.polygon.maxX && box[3] >= z.polygon.minY && box[1] <= z.polygon.maxY)) continue;
      ids.add(o.track);
      const x = mask === null ? (box[0] + box[2]) / 2 : m!.x;
      const y = mask === null ? (box[1] + box[3]) / 2 : m!.y;
      let motion = this.tracks.get(o.track);
      if (motion === undefined) this.tracks.set(o.track, (motion = new TrackMotion(this.bucketS, this.smoothingS)));
      motion.add(t, x, y, Math.hypot(box[2] - box[0], box[3] - box[1]));
      seen.push({ track: o.track, label: String(o.label), box, mask, setPixels: m?.count ?? 0, motion, counted: 0 });
    }
    return seen;
  }

  /** presence, stopped, unknown: one event per track. */
  private stepObjects(zone: PreparedZone, rule: PreparedRule, inside: readonly Seen[], t: number, out: Transition[]): void {
    const held = new Set<number>();
    for (const o of inside) {
      if (!rule.matches(o.label)) continue;
      let ev = rule.events.get(o.track);
      // Stopped: since when the object has been still (the history looks back at least `seconds`).
      const stillSince = rule.maxMove === null ? -Infinity : o.motion.stillSince(rule.maxMove(o.motion.diag));
      // An open stopped event holds while the object stays within maxMove of where it stopped
      // (an occlusion that moves the mask's centroid for a moment does not end it, a car that
      // drives off does); a pending one waits in the zone until it has been still `seconds`.
      if (ev?.run.open === true && rule.maxMove !== null && ev.anchor && Math.hypot(o.motion.x - ev.anchor.x, o.motion.y - ev.anchor.y) > rule.maxMove(o.motion.diag)) continue;
      held.add(o.track);
      if (ev === undefined) {
        ev = { run: advance(undefined, true, t, rule.endS)!, startS: NaN, tracks: [o.track], labels: [o.label] };
        rule.events.set(o.track, ev);
      } else {
        advance(ev.run, true, t, rule.endS);
      }
      if (!ev.run.open) {
        const startS = Math.max(ev.run.since, stillSince);
        if (reached(t - startS, rule.seconds)) {
          this.start(zone, rule, o.track, ev, startS, [o.track], [o.label], t, out);
          ev.anchor = { x: o.motion.x, y: o.motion.y };
        }
      } else if (ev.labels[0] !== o.label) {
        ev.labels = [o.label];
        out.push(this.transition('update', zone, rule, o.track, ev, t));
      }
    }
    for (const [track, ev] of rule.events) {
      if (held.has(track)) continue;
      if (advance(ev.run, false, t, rule.endS) === undefined) {
        rule.events.delete(track);
        if (ev.run.open) out.push(this.end(zone, rule, track, ev));
      }
    }
  }

  /** count: one event per rule, about the objects counted. */
  private stepCount(zone: PreparedZone, rule: PreparedRule, inside: readonly Seen[], t: number, out: Transition[]): void {
    const counted = inside.filter((o) => rule.matches(o.label)).sort((a, b) => a.track - b.track);
    const holds = counted.length > rule.above;
    const ev = rule.events.get(-1);
    const run = advance(ev?.run, holds, t, rule.endS);
    // Tracks and labels change only while the count holds (a dip keeps the last set).
    if (run === undefined) {
      if (ev !== undefined) {
        rule.events.delete(-1);
        if (ev.run.open) out.push(this.end(zone, rule, -1, ev));
      }
      return;
    }
    if (!holds) return;
    const tracks = counted.map((o) => o.track);
    const labels = counted.map((o) => o.label);
    const state: EventState = ev ?? { run, startS: NaN, tracks, labels };
    if (ev === undefined) rule.events.set(-1, state);
    if (!run.open) {
      if (reached(t - run.since, rule.seconds)) this.start(zone, rule, -1, state, run.since, tracks, labels, t, out);
    } else if (!sameList(state.tracks, tracks) || !sameList(state.labels, labels)) {
      state.tracks = tracks;
      state.labels = labels;
      out.push(this.transition('update', zone, rule, -1, state, t));
    }
  }

  private start(
    zone: PreparedZone,
    rule: PreparedRule,
    track: number,
    ev: EventState,
    startS: number,
    tracks: readonly number[],
    labels: readonly string[],
    t: number,
    out: Transition[],
  ): void {
    ev.run.open = true;
    ev.startS = startS;
    ev.tracks = tracks;
    ev.labels = labels;
    this.openCount++;
    out.push(this.transition('start', zone, rule, track, ev, t));
  }

  private end(zone: PreparedZone, rule: PreparedRule, track: number, ev: EventState): Transition {
    ev.run.open = false;
    this.openCount--;
    return { ...this.transition('end', zone, rule, track, ev, ev.run.last), endS: ev.run.last };
  }

  private transition(state: Transition['state'], zone: PreparedZone, rule: PreparedRule, track: number, ev: EventState, lastS: number): Transition {
    const key = track < 0 ? `${zone.name}/${rule.index}` : `${zone.name}/${rule.index}/${track}`;
    return { state, key, zone: zone.name, rule: rule.index, kind: rule.kind, tracks: ev.tracks, labels: ev.labels, startS: ev.startS, lastS };
  }
}

function inZone(o: Seen, zone: PreparedZone): boolean {
  const p = zone.polygon;
  const [x1, y1, x2, y2] = o.box;
  // Quick reject on the boxes (a mask lies within its crop, which the box usually bounds).
  const m = o.mask;
  const bx1 = m === null ? x1 : Math.min(x1, m.x);
  const by1 = m === null ? y1 : Math.min(y1, m.y);
  const bx2 = m === null ? x2 : Math.max(x2, m.x + m.width);
  const by2 = m === null ? y2 : Math.max(y2, m.y + m.height);
  if (!(bx2 >= p.minX && bx1 <= p.maxX && by2 >= p.minY && by1 <= p.maxY)) return false;
  const s = m === null ? boxShareInPolygon(o.box, p) : maskShareInPolygon(m, p, o.setPixels, o.counted++ === 0 ? undefined : (o.prefix ??= maskRowPrefix(m)));
  return s >= zone.minOverlap;
}

function prepareRule(
  rule: Rule,
  index: number,
  where: string,
  defaultEnd: number,
  expectedClasses: ReadonlySet<string>,
  agnostic: boolean,
): PreparedRule {
  const kind = rule?.kind;
  if (kind !== 'stopped' && kind !== 'presence' && kind !== 'count' && kind !== 'unknown') {
    throw new TypeError(`RuleEngine: ${where} kind must be stopped, presence, count or unknown, got ${String(kind)}`);
  }
  const seconds = nonNegative(`${where} seconds`, rule.seconds);
  const endS = rule.endSeconds === undefined ? defaultEnd : nonNegative(`${where} endSeconds`, rule.endSeconds);
  let matches: (label: string) => boolean = () => true;
  if (rule.kind === 'unknown') {
    const expected = rule.expected === undefined ? expectedClasses : new Set(rule.expected);
    matches = agnostic ? () => true : (label) => !expected.has(label);
  } else if (rule.classes !== undefined && rule.classes.length > 0) {
    const classes = new Set(rule.classes);
    matches = (label) => classes.has(label);
  }
  let maxMove: PreparedRule['maxMove'] = null;
  if (rule.kind === 'stopped' || rule.kind === 'unknown') {
    if (rule.maxMovePx !== undefined) {
      const px = nonNegative(`${where} maxMovePx`, rule.maxMovePx);
      maxMove = () => px;
    } else {
      const f = nonNegative(`${where} maxMove`, rule.maxMove ?? DEFAULT_RULE_ENGINE.maxMove);
      maxMove = (diag) => (Number.isFinite(diag) ? f * diag : 0);
    }
  }
  let above = 0;
  if (rule.kind === 'count') {
    above = rule.above;
    if (!Number.isFinite(above)) throw new TypeError(`RuleEngine: ${where} above must be a finite number, got ${String(above)}`);
  }
  return { index, kind, seconds, endS, matches, maxMove, above, events: new Map() };
}

function nonNegative(name: string, v: number): number {
  if (typeof v !== 'number' || !(v >= 0) || v === Infinity) throw new TypeError(`RuleEngine: ${name} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

function share(name: string, v: number): number {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new TypeError(`RuleEngine: ${name} must be in (0, 1], got ${String(v)}`);
  return v;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
