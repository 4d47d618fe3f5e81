import { advance, reached, type Run } from './hysteresis.js';
import { findShift, medianDifference, shiftCost } from './shift.js';
import { edgeShare, thumbDiff, type GreyThumbnail } from './thumbnail.js';
import type { HealthKind, HealthTransition } from './types.js';

export { greyThumbnail, type GreyThumbnail } from './thumbnail.js';

export interface CameraHealthOptions {
  /** Seconds each condition must hold before its event starts. */
  readonly frozenS?: number;
  readonly videoLostS?: number;
  readonly obstructedS?: number;
  readonly movedS?: number;
  /** Seconds a condition must be false before its event ends (video_lost ends at the next frame). */
  readonly endSeconds?: number;
  /** Frozen: mean absolute difference to the previous thumbnail at most this, grey levels... */
  readonly frozenMeanDiff?: number;
  /** ...and no cell differing by more than this, grey levels. */
  readonly frozenMaxDiff?: number;
  /** Obstructed: neighbouring cells differing by more than this make an edge, grey levels... */
  readonly obstructedEdge?: number;
  /** ...and a picture with a smaller share of edges (0..1) has no detail. */
  readonly obstructedMinEdges?: number;
  /** Moved: shifts searched, share of the thumbnail width (either direction, both axes). */
  readonly movedMaxShift?: number;
  /** Smallest shift that counts as moved, share of the thumbnail width. */
  readonly movedMinShift?: number;
  /** The best shift's cost must be at most this share of the zero-shift cost... */
  readonly movedCostRatio?: number;
  /** ...and lower by at least this, grey levels. */
  readonly movedMinGain?: number;
}

export const DEFAULT_CAMERA_HEALTH: Required<CameraHealthOptions> = {
  frozenS: 10,
  videoLostS: 5,
  obstructedS: 10,
  movedS: 5,
  endSeconds: 2,
  // An encoder repeating a frame gives bit-identical pictures (difference 0); a live camera's
  // box means move 1 to 3 levels frame to frame even on an empty road. 0.3 mean and 2 at most
  // leave room for a re-encoded repeat (a few cells off by 1) and none for a live picture.
  frozenMeanDiff: 0.3,
  frozenMaxDiff: 2,
  // Two noisy cells (+-3 levels each) differ by up to 6; any visible outline by more than 8.
  obstructedEdge: 8,
  // 0.3% is about 14 of the 4,500 neighbour pairs of a 64 x 36 thumbnail: two street lamps at
  // night make more; a covered or sprayed lens (noise, a smooth light leak) makes none.
  obstructedMinEdges: 0.003,
  // +-12% of the width (+-8 cells of 64): a knocked or re-aimed camera; beyond, the overlap is too
  // small to trust.
  movedMaxShift: 0.12,
  // 3% (about 2 cells): zones drawn on the picture are off by a lane marking's width.
  movedMinShift: 0.03,
  // A real shift matches the reference to noise (cost 1 or 2 levels) where no shift costs the
  // texture's contrast (tens of levels); halving it and gaining 2 levels rules out noise.
  movedCostRatio: 0.5,
  movedMinGain: 2,
};

/** A grey thumbnail as CameraHealth reads it (GreyThumbnail's shape). */
export type HealthThumbnail = GreyThumbnail;

const PICTURE_KINDS = ['frozen', 'obstructed', 'moved'] as const;

/**
 * Camera health from grey thumbnails, a pure synchronous core: `update(thumb, t)` per sampled
 * frame, `noFrame(t)` periodically while none comes. Every kind has the rules' hysteresis: it
 * starts once its condition held its seconds (startS when it began) and ends once false
 * `endSeconds` (endS = lastS = the last time it held); video_lost starts `videoLostS` after the
 * last frame (startS = that frame's time) and ends at the next frame (endS = its time). Frames
 * stopping makes frozen, obstructed and moved false (they end after `endSeconds`); moved is
 * also false while the picture has no detail (it cannot be told).
 *
 * `moved` reports `detail: { dx, dy }`: the picture's content shift against the reference as a
 * share of the thumbnail's width and height (times the source size: px; positive right/down).
 * `frozen` reports `{ meanDiff }` (grey levels), `obstructed` `{ edges }` (share of neighbour
 * pairs), both as measured when the event started.
 *
 * Times are one clock for update and noFrame (media or monotonic s). Time going backwards (a
 * source restart) ends every open event as flush() does and starts over; the reference stays.
 * A non-finite t is ignored; a malformed thumbnail counts only as a frame arriving.
 */
export class CameraHealth {
  private readonly o: Required<CameraHealthOptions>;
  private readonly runs = new Map<HealthKind, Run>();
  private readonly details = new Map<HealthKind, Readonly<Record<string, number>>>();
  private prev: { data: Uint8Array; width: number; height: number; t: number } | null = null;
  private ref: { data: Uint8Array; width: number; height: number } | null = null;
  private lastFrameT = NaN;
  /** The first noFrame time while no frame came at all. */
  private watchSince = NaN;
  private lastT = NaN;

  constructor(options: CameraHealthOptions = {}) {
    const o = { ...DEFAULT_CAMERA_HEALTH, ...options };
    for (const [name, v] of Object.entries(o)) {
      if (typeof v !== 'number' || !(v >= 0) || v === Infinity) throw new TypeError(`CameraHealth: ${name} must be a finite number >= 0, got ${String(v)}`);
    }
    this.o = o;
  }

  /** Events open now. */
  get open(): number {
    let n = 0;
    for (const run of this.runs.values()) if (run.open) n++;
    return n;
  }

  update(thumb: HealthThumbnail, t: number): HealthTransition[] {
    if (!Number.isFinite(t)) return [];
    const out = this.rewind(t);
    this.lastFrameT = t;
    this.watchSince = NaN;
    const lost = this.runs.get('video_lost');
    if (lost !== undefined) {
      // Frames are back: lost until now.
      this.runs.delete('video_lost');
      lost.last = t;
      if (lost.open) out.push(this.end('video_lost', lost));
    }
    const w = thumb?.width;
    const h = thumb?.height;
    if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0 || !(thumb.data instanceof Uint8Array) || thumb.data.length < w * h) {
      return out;
    }
    const data = thumb.data.slice(0, w * h);
    const o = this.o;
    if (this.prev !== null && (this.prev.width !== w || this.prev.height !== h)) this.prev = null;
    if (this.ref !== null && (this.ref.width !== w || this.ref.height !== h)) this.ref = null;

    const edges = edgeShare(data, w, h, o.obstructedEdge);
    const flat = edges < o.obstructedMinEdges;

    const diff = this.prev === null ? null : thumbDiff(this.prev.data, data);
    const frozen = diff !== null && diff.mean <= o.frozenMeanDiff && diff.max <= o.frozenMaxDiff;
    // The picture has not changed since the previous sample: frozen from then.
    this.step(out, 'frozen', frozen, t, o.frozenS, { meanDiff: diff?.mean ?? 0 }, this.prev?.t ?? t);
    this.step(out, 'obstructed', flat, t, o.obstructedS, { edges });

    let moved = false;
    let shift = { dx: 0, dy: 0 };
    if (!flat) {
      if (this.ref === null) {
        this.ref = { data, width: w, height: h };
      } else {
        // No shift can gain movedMinGain over a zero-shift cost below it: the search (a few ms) is
        // skipped while the picture still matches its reference, as it does nearly always.
        const zero = shiftCost(this.ref.data, data, w, h, 0, 0, medianDifference(this.ref.data, data, w, h, 0, 0));
        if (zero >= o.movedMinGain) {
          const s = findShift(this.ref.data, data, w, h, Math.round(o.movedMaxShift * w));
          moved =
            Math.hypot(s.dx, s.dy) >= o.movedMinShift * w - 1e-9 && s.cost <= o.movedCostRatio * s.zeroCost && s.zeroCost - s.cost >= o.movedMinGain;
          shift = { dx: s.dx / w, dy: s.dy / h };
        }
      }
    }
    this.step(out, 'moved', moved, t, o.movedS, shift, t, true);
    this.prev = { data, width: w, height: h, t };
    return out;
  }

  /** Call periodically (e.g. every second) while no frame comes, with the current time. */
  noFrame(t: number): HealthTransition[] {
    if (!Number.isFinite(t)) return [];
    const out = this.rewind(t);
    if (Number.isNaN(this.lastFrameT) && Number.isNaN(this.watchSince)) this.watchSince = t;
    const since = Number.isNaN(this.lastFrameT) ? this.watchSince : this.lastFrameT;
    if (reached(t - since, this.o.videoLostS)) {
      const run = this.runs.get('video_lost');
      if (run === undefined) {
        const fresh = { since, last: t, open: true };
        this.runs.set('video_lost', fresh);
        // A picture from before the loss says nothing about frozen after it.
        this.prev = null;
        out.push(this.transition('start', 'video_lost', fresh, t));
      } else {
        run.last = t;
      }
    }
    for (const kind of PICTURE_KINDS) this.step(out, kind, false, t, 0, undefined);
    return out;
  }

  /** Takes the next picture with detail as the reference for `moved`; ends an open moved event. */
  resetReference(): HealthTransition[] {
    this.ref = null;
    const run = this.runs.get('moved');
    this.runs.delete('moved');
    return run?.open === true ? [this.end('moved', run)] : [];
  }

  /** Ends every open event at its last held time and drops pending ones (shutdown). */
  flush(): HealthTransition[] {
    const out: HealthTransition[] = [];
    for (const [kind, run] of this.runs) if (run.open) out.push(this.end(kind, run));
    this.runs.clear();
    this.details.clear();
    return out;
  }

  /** Time going backwards: a new timeline (the camera did not move by restarting: ref stays). */
  private rewind(t: number): HealthTransition[] {
    let out: HealthTransition[] = [];
    if (t < this.lastT) {
      out = this.flush();
      this.prev = null;
      this.lastFrameT = NaN;
      this.watchSince = NaN;
    }
    this.lastT = t;
    return out;
  }

  private step(
    out: HealthTransition[],
    kind: HealthKind,
    holds: boolean,
    t: number,
    seconds: number,
    detail: Readonly<Record<string, number>> | undefined,
    startAt = t,
    updates = false,
  ): void {
    const run = this.runs.get(kind);
    const next = advance(run, holds, t, this.o.endSeconds, startAt);
    if (next === undefined) {
      this.runs.delete(kind);
      if (run?.open === true) out.push(this.end(kind, run));
      return;
    }
    this.runs.set(kind, next);
    if (!holds || detail === undefined) return;
    if (!next.open) {
      if (reached(t - next.since, seconds)) {
        next.open = true;
        this.details.set(kind, detail);
        out.push(this.transition('start', kind, next, t));
      }
    } else if (updates && !sameDetail(this.details.get(kind), detail)) {
      this.details.set(kind, detail);
      out.push(this.transition('update', kind, next, t));
    }
  }

  private end(kind: HealthKind, run: Run): HealthTransition {
    run.open = false;
    const tr = { ...this.transition('end', kind, run, run.last), endS: run.last };
    this.details.delete(kind);
    return tr;
  }

  private transition(state: HealthTransition['state'], kind: HealthKind, run: Run, lastS: number): HealthTransition {
    const detail = this.details.get(kind);
    const base = { state, kind, startS: run.since, lastS };
    return detail === undefined ? base : { ...base, detail };
  }
}

function sameDetail(a: Readonly<Record<string, number>> | undefined, b: Readonly<Record<string, number>>): boolean {
  if (a === undefined) return false;
  const keys = Object.keys(b);
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === b[k]);
}
