import { motmetricsAssignment } from './motmetricsLsa.js';

export const MOT_EVENT_TYPES = ['MATCH', 'SWITCH', 'MISS', 'FP'] as const;
export type MotEventType = (typeof MOT_EVENT_TYPES)[number];

export interface MotEvent {
  readonly frame: number;
  readonly type: MotEventType;
  /** Ground-truth object id; null for FP. */
  readonly oid: number | null;
  /** Hypothesis (tracker) id; null for MISS. */
  readonly hid: number | null;
  /** Match distance (1 - IoU); NaN for MISS and FP. */
  readonly distance: number;
}

/**
 * CLEAR-MOT event accumulation with py-motmetrics' `MOTAccumulator.update` semantics:
 * 1. an object still paired with the hypothesis it matched last time (any earlier frame)
 *    keeps it if their distance is valid; 2. the rest is solved as a min-cost assignment;
 *    a pair whose object last matched a different hypothesis is a SWITCH; 3. unmatched
 *    objects are MISSes, 4. unmatched hypotheses FPs. Also counts the "raw" co-occurrences
 *    the identity (IDF1) measures need.
 */
export class MotAccumulator {
  readonly events: MotEvent[] = [];
  /** Frames passed to update(), in call order. */
  readonly frames: number[] = [];
  /** Frames each object id appears in. */
  readonly objectFrames = new Map<number, number>();
  /** Frames each hypothesis id appears in. */
  readonly hypothesisFrames = new Map<number, number>();
  /** oid -> hid -> frames where the pair's distance was valid. */
  readonly pairFrames = new Map<number, Map<number, number>>();
  /** oid -> hid it was last matched to. */
  private readonly lastMatch = new Map<number, number>();

  /**
   * @param dists row-major oids.length x hids.length distances, NaN = may not pair.
   */
  update(frame: number, oids: readonly number[], hids: readonly number[], dists: Float64Array): void {
    const no = oids.length;
    const nh = hids.length;
    if (dists.length !== no * nh) {
      throw new TypeError(`MotAccumulator.update: expected ${no * nh} distances, got ${dists.length}`);
    }
    this.frames.push(frame);
    this.countRaw(oids, hids, dists);
    const oMasked = new Uint8Array(no);
    const hMasked = new Uint8Array(nh);
    const d = Float64Array.from(dists);

    if (no > 0 && nh > 0) {
      for (let i = 0; i < no; i++) {
        const o = oids[i]!;
        const hPrev = this.lastMatch.get(o);
        if (hPrev === undefined) continue;
        const j = hids.findIndex((h, k) => !hMasked[k] && h === hPrev);
        if (j < 0 || !Number.isFinite(d[i * nh + j]!)) continue;
        oMasked[i] = 1;
        hMasked[j] = 1;
        this.events.push({ frame, type: 'MATCH', oid: o, hid: hPrev, distance: d[i * nh + j]! });
      }
      for (let i = 0; i < no; i++) {
        for (let j = 0; j < nh; j++) if (oMasked[i] || hMasked[j]) d[i * nh + j] = NaN;
      }
      const sol = motmetricsAssignment(d, no, nh);
      for (let k = 0; k < sol.rows.length; k++) {
        const i = sol.rows[k]!;
        const j = sol.cols[k]!;
        const dist = d[i * nh + j]!;
        if (!Number.isFinite(dist)) continue;
        const o = oids[i]!;
        const h = hids[j]!;
        const prev = this.lastMatch.get(o);
        const type: MotEventType = prev !== undefined && prev !== h ? 'SWITCH' : 'MATCH';
        this.events.push({ frame, type, oid: o, hid: h, distance: dist });
        oMasked[i] = 1;
        hMasked[j] = 1;
        this.lastMatch.set(o, h);
      }
    }
    for (let i = 0; i < no; i++) {
      if (!oMasked[i]) this.events.push({ frame, type: 'MISS', oid: oids[i]!, hid: null, distance: NaN });
    }
    for (let j = 0; j < nh; j++) {
      if (!hMasked[j]) this.events.push({ frame, type: 'FP', oid: null, hid: hids[j]!, distance: NaN });
    }
  }

  private countRaw(oids: readonly number[], hids: readonly number[], dists: Float64Array): void {
    const nh = hids.length;
    for (const o of new Set(oids)) this.objectFrames.set(o, (this.objectFrames.get(o) ?? 0) + 1);
    for (const h of new Set(hids)) this.hypothesisFrames.set(h, (this.hypothesisFrames.get(h) ?? 0) + 1);
    for (let i = 0; i < oids.length; i++) {
      const o = oids[i]!;
      for (let j = 0; j < nh; j++) {
        if (!Number.isFinite(dists[i * nh + j]!)) continue;
        let row = this.pairFrames.get(o);
        if (row === undefined) this.pairFrames.set(o, (row = new Map()));
        row.set(hids[j]!, (row.get(hids[j]!) ?? 0) + 1);
      }
    }
  }
}
