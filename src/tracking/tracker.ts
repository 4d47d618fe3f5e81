import { boxIou, type Detections, type MaskCrop } from '../core/index.js';
import { assignWithThreshold, costMatrix } from './assignment.js';
import { estimateCameraShift } from './cameraMotion.js';
import { groupFunction } from './classGroups.js';
import { KalmanBoxFilter, REFERENCE_INTERVAL_S, type Box } from './kalman.js';
import { clipMaskToBox } from './maskWarp.js';
import { parseTrackerOptions, type TrackerOptions, type TrackerOptionsInput } from './options.js';
import { Track, type TrackDetection, type TrackState } from './track.js';

/** One object reported for one frame. */
export interface TrackedObject {
  /** Public id, sequential from 1 per tracker instance. */
  readonly id: number;
  /** x1, y1, x2, y2, source-frame px. */
  readonly box: Box;
  /** Score of the last matched detection. */
  readonly score: number;
  /** The track's label: score-weighted vote over its recent detections (and their duplicates). */
  readonly classId: number;
  /** Matched: the detection's mask. Predicted: the last mask warped into the predicted box. Inside `box` either way. */
  readonly mask: MaskCrop | null;
  /** True when no detection matched this frame and box and mask are extrapolated. */
  readonly predicted: boolean;
  readonly state: TrackState;
  /** Index of the matched detection in this frame's Detections, or -1 when predicted. */
  readonly detIndex: number;
  /** Prompted track (see ByteTracker.setPinned). */
  readonly pinned: boolean;
}

/** How far back re-acquisition looks for objects that were already in view (s, and processed frames). */
const RECENT_S = 1;
const RECENT_FRAMES = 64;
/**
 * A detection on (IoU >= this) a box that was beside a pinned track is that other object, not
 * the pinned one coming back. Loose on purpose: the other object kept moving since (a car at
 * 20 px/s moves half its length in a second); losing a target is better than jumping to another car.
 */
const BESIDE_IOU = 0.1;

export interface TrackerContext {
  /**
   * Group of every class id (classGroupsOf(model class names)), for `association: 'group'`
   * and duplicate fusion. Without: every class is its own group.
   */
  classGroups?: Int32Array | null;
}

/**
 * ByteTrack-family multi-object tracker, one instance per camera. A pure synchronous core:
 * `update(detections, timeS)` takes one frame's detections and its media time and returns that
 * frame's tracked objects. Time, not frame count, drives the motion model and every age, so
 * frames the pipeline skipped are predicted through.
 *
 * Per frame: fuse duplicate boxes of one object (same class group, IoU >= duplicateIou);
 * predict every track by the time since the last frame (and the camera's shift when
 * `cameraMotion`); stage 1 matches high-score detections to confirmed and lost tracks (IoU
 * with predicted boxes, within class groups; tracks seen last frame first when
 * `prioritizeTracked`); stage 2 matches low-score detections to the confirmed and pinned
 * tracks stage 1 left; stage 3 matches remaining high detections to tentative tracks; lost
 * pinned tracks then re-acquire by motion and appearance among the detections no confirmed
 * track owns (or that a track born after they were lost owns); unmatched confirmed tracks
 * become lost, unmatched tentative ones are removed, and unmatched high detections start
 * tentative tracks.
 */
export class ByteTracker {
  readonly options: TrackerOptions;
  private readonly kf: KalmanBoxFilter;
  private readonly groupOf: (classId: number) => number;
  private tracks: Track[] = [];
  private nextId = 1;
  private frame = 0;
  private nowS = 0;
  private pinnedIds = new Set<number>();
  /** Ids adopt() gave out since the last update (discardAdopted() may take them back). */
  private adoptedIds = new Set<number>();
  /** The last update's detections, and which track took each (for adopt()). */
  private last: { dets: Detections; owner: Map<number, Track>; keeperOf: Int32Array } | null = null;
  /** Boxes of the recent processed frames and the track id that owned each (-1: none). */
  private recent: { timeS: number; boxes: Float32Array; owners: Int32Array }[] = [];

  constructor(options: TrackerOptionsInput = {}, context: TrackerContext = {}) {
    this.options = parseTrackerOptions(options);
    this.kf = new KalmanBoxFilter({
      stdWeightPosition: this.options.stdWeightPosition,
      stdWeightVelocity: this.options.stdWeightVelocity,
    });
    this.groupOf = groupFunction(this.options.association, context.classGroups ?? null);
  }

  /** Frames seen since construction or the last reset(). */
  get frameCount(): number {
    return this.frame;
  }

  /** Live (not removed) tracks, tentative included; for inspection and tests. */
  get activeTracks(): readonly Track[] {
    return this.tracks;
  }

  /** Indices of the last update's detections that were fused into a better-scored box of the same object. */
  get lastDuplicates(): number[] {
    const keeperOf = this.last?.keeperOf ?? [];
    const out: number[] = [];
    for (let i = 0; i < keeperOf.length; i++) if (keeperOf[i]! >= 0) out.push(i);
    return out;
  }

  /** Processed frames whose boxes re-acquisition remembers (at most RECENT_S s and RECENT_FRAMES); for inspection and tests. */
  get rememberedFrames(): number {
    return this.recent.length;
  }

  /**
   * Forgets every track (e.g. after a camera cut). Ids restart at 1 unless `keepIds`: a live
   * camera keeps counting, so a client never sees an old id on a new object.
   */
  reset(keepIds = false): void {
    this.tracks = [];
    if (!keepIds) this.nextId = 1;
    this.frame = 0;
    this.last = null;
    this.recent = [];
    this.pinnedIds.clear();
  }

  /**
   * The tracks a prompt follows: they are kept for targetMemoryS while unseen (predicted for
   * targetPredictS), matched with low-score detections and re-acquired. Replaces the set.
   */
  setPinned(ids: Iterable<number>): void {
    this.pinnedIds = new Set(ids);
    for (const t of this.tracks) {
      const was = t.pinned;
      t.pinned = this.pinnedIds.has(t.id);
      if (t.pinned && !was) this.seedBeside(t);
      if (!t.pinned) t.beside.length = 0;
    }
  }

  /**
   * Makes detection `detIndex` of the last update a confirmed track, whatever its score (a
   * prompt's click is the confirmation), and returns its id: the track that already owns it,
   * a tentative one confirmed now, or a new one. A duplicate box resolves to the box it was
   * fused into. Undefined when there was no last update or the index is outside it.
   */
  adopt(detIndex: number): number | undefined {
    const last = this.last;
    if (last === null || !Number.isInteger(detIndex) || detIndex < 0 || detIndex >= last.dets.length) return undefined;
    const d = last.keeperOf[detIndex]! >= 0 ? last.keeperOf[detIndex]! : detIndex;
    let t = last.owner.get(d);
    if (t === undefined || t.state === 'removed') {
      t = new Track(this.kf, detectionAt(last.dets, d), this.nowS);
      this.tracks.push(t);
      last.owner.set(d, t);
    }
    if (t.id < 0) {
      t.id = this.nextId++;
      this.adoptedIds.add(t.id);
    }
    t.state = t.missedFrames === 0 ? 'confirmed' : 'lost';
    return t.id;
  }

  /**
   * Undoes adopt() for tracks a failed prompt created or confirmed (they are removed; their ids
   * are not reused). Tracks that had an id before are left alone.
   */
  discardAdopted(ids: readonly number[]): void {
    const drop = new Set(ids);
    this.tracks = this.tracks.filter((t) => !(drop.has(t.id) && this.adoptedIds.has(t.id)));
    for (const id of ids) this.adoptedIds.delete(id);
  }

  /**
   * One frame. `timeS` is the frame's media time in seconds (it must not go back; a smaller
   * value counts as no time passed); without it, frames are 1/30 s apart.
   */
  update(dets: Detections, timeS?: number): TrackedObject[] {
    const o = this.options;
    // A timestamp that is not a finite number counts as no time passed (it must not poison the clock).
    const given = timeS !== undefined && Number.isFinite(timeS) ? timeS : undefined;
    const t = given ?? (this.frame === 0 ? 0 : timeS === undefined ? this.nowS + REFERENCE_INTERVAL_S : this.nowS);
    const dt = this.frame === 0 ? 0 : Math.max(0, t - this.nowS);
    this.nowS = this.frame === 0 ? t : Math.max(this.nowS, t);
    this.frame++;

    this.adoptedIds.clear();
    const keeperOf = this.fuseDuplicates(dets);
    const high: number[] = [];
    const low: number[] = [];
    for (let i = 0; i < dets.length; i++) {
      if (keeperOf[i]! >= 0) continue;
      const s = dets.scores[i]!;
      if (s >= o.highScoreThreshold) high.push(i);
      else if (s >= o.lowScoreThreshold) low.push(i);
    }
    // Velocity is trusted for maxAgeS of unseen time: a pinned track lost longer, or any track
    // after a long gap between frames (a reconnect), waits where that horizon left it.
    for (const tr of this.tracks) tr.predict(this.kf, dt, Math.max(0, o.maxAgeS - (tr.timeSinceUpdate(this.nowS) - dt)));
    if (o.cameraMotion) this.compensateCameraMotion(dets, high);

    const owner = new Map<number, Track>();
    const take = (tr: Track, d: number): void => {
      tr.update(this.kf, detectionAt(dets, d), this.nowS, o.labelHalfLifeS);
      owner.set(d, tr);
    };
    const pool = this.tracks.filter((tr) => tr.state === 'confirmed' || tr.state === 'lost');
    const tentative = this.tracks.filter((tr) => tr.state === 'tentative');

    // Stage 1: high detections vs confirmed + lost tracks (optionally confirmed ones first).
    let s1: Association;
    if (o.prioritizeTracked) {
      const a = this.associate(pool.filter((tr) => tr.state === 'confirmed'), high, dets, o.matchIouHigh, o.fuseScore);
      const b = this.associate(pool.filter((tr) => tr.state === 'lost'), a.dets, dets, o.matchIouHigh, o.fuseScore);
      s1 = { matches: [...a.matches, ...b.matches], tracks: [...a.tracks, ...b.tracks], dets: b.dets };
    } else {
      s1 = this.associate(pool, high, dets, o.matchIouHigh, o.fuseScore);
    }
    for (const [tr, d] of s1.matches) {
      take(tr, d);
      tr.state = 'confirmed';
    }
    // Stage 2: low detections vs the tracks confirmed last frame that are still unmatched, and
    // vs lost pinned tracks (a prompted object is followed through weak detections too).
    const s2 = this.associate(
      s1.tracks.filter((tr) => tr.state === 'confirmed' || tr.pinned),
      low,
      dets,
      o.matchIouLow,
      false,
    );
    for (const [tr, d] of s2.matches) {
      take(tr, d);
      tr.state = 'confirmed';
    }
    for (const tr of s2.tracks) tr.state = 'lost';

    // Stage 3: remaining high detections vs tentative tracks.
    const s3 = this.associate(tentative, s1.dets, dets, o.matchIouTentative, o.fuseScore);
    for (const [tr, d] of s3.matches) {
      take(tr, d);
      if (tr.hits >= o.minHits) this.confirm(tr);
    }
    for (const tr of s3.tracks) tr.state = 'removed';

    // Re-acquisition: lost pinned tracks vs what no established track owns.
    const taken = this.reacquire(dets, owner, [...s3.dets, ...s2.dets]);
    const fresh = s3.dets.filter((d) => !taken.has(d));

    // New tentative tracks from high detections nothing claimed.
    for (const d of fresh) {
      if (dets.scores[d]! < o.newTrackThreshold) continue;
      const tr = new Track(this.kf, detectionAt(dets, d), this.nowS);
      this.tracks.push(tr);
      owner.set(d, tr);
      if (tr.hits >= o.minHits || (o.confirmOnFirstFrame && this.frame === 1)) this.confirm(tr);
    }

    for (const tr of this.tracks) {
      if (tr.state !== 'lost') continue;
      if (tr.timeSinceUpdate(this.nowS) > (tr.pinned ? o.targetMemoryS : o.maxAgeS)) tr.state = 'removed';
    }
    this.tracks = this.tracks.filter((tr) => tr.state !== 'removed');
    // Duplicates vote for the label of the track that took their keeper.
    for (let i = 0; i < dets.length; i++) {
      const k = keeperOf[i]!;
      const tr = k >= 0 ? owner.get(k) : undefined;
      if (tr !== undefined) tr.vote(dets.classIds[i]!, dets.scores[i]!, this.nowS, o.labelHalfLifeS);
    }
    this.last = { dets, owner, keeperOf };
    this.remember(dets, keeperOf, owner);
    return this.report(owner);
  }

  private confirm(t: Track): void {
    t.state = 'confirmed';
    if (t.id < 0) t.id = this.nextId++;
    t.pinned = this.pinnedIds.has(t.id);
  }

  /**
   * keeperOf[i]: the index of the better-scored detection of the same class group that box i
   * duplicates (IoU >= duplicateIou), or -1 when i is kept.
   */
  private fuseDuplicates(dets: Detections): Int32Array {
    const n = dets.length;
    const keeperOf = new Int32Array(n).fill(-1);
    const thr = this.options.duplicateIou;
    if (thr <= 0 || n < 2) return keeperOf;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => dets.scores[b]! - dets.scores[a]! || a - b);
    const kept: number[] = [];
    for (const i of order) {
      const g = this.groupOf(dets.classIds[i]!);
      const k = kept.find((j) => this.groupOf(dets.classIds[j]!) === g && boxIou(dets.boxes, j * 4, dets.boxes, i * 4) >= thr);
      if (k === undefined) kept.push(i);
      else keeperOf[i] = k;
    }
    return keeperOf;
  }

  /** Estimates the camera's shift from established tracks and moves every prediction by it. */
  private compensateCameraMotion(dets: Detections, high: readonly number[]): void {
    const established = this.tracks.filter((t) => t.state === 'confirmed' && t.hits >= 3);
    const shift = estimateCameraShift({ tracks: established.map((t) => t.box), detections: high.map((d) => dets.box(d)) });
    if (shift !== null) for (const t of this.tracks) t.shift(shift.dx, shift.dy);
  }

  /**
   * Lost pinned tracks vs candidate detections: unclaimed ones, those tentative tracks took
   * (the tentative track is dropped), and those of tracks born after the pinned track was last
   * seen (that track is absorbed: the object keeps the prompted id). Gated by class group,
   * centre distance (growing with the time lost), size, and appearance (cosine similarity of
   * mask coefficients); optimal assignment on distance + appearance. Returns the detections taken.
   */
  private reacquire(dets: Detections, owner: Map<number, Track>, unclaimed: readonly number[]): Set<number> {
    const o = this.options;
    const taken = new Set<number>();
    const lost = this.tracks.filter((t) => t.pinned && t.state === 'lost' && t.missedFrames > 0);
    if (lost.length === 0) return taken;
    const cands = new Set<number>(unclaimed);
    for (const [d, t] of owner) if (!t.pinned) cands.add(d);
    const detIdx = [...cands].sort((a, b) => a - b);
    if (detIdx.length === 0) return taken;
    const n = lost.length;
    const m = detIdx.length;
    const cost = costMatrix(n, m);
    for (let i = 0; i < n; i++) {
      const t = lost[i]!;
      const tb = t.box;
      const size = Math.max(tb[2] - tb[0], tb[3] - tb[1], 1);
      const radius = this.reacquireRadius(size, t.timeSinceUpdate(this.nowS));
      const last = t.detectionBox;
      const area = Math.max((tb[2] - tb[0]) * (tb[3] - tb[1]), 1);
      for (let j = 0; j < m; j++) {
        const d = detIdx[j]!;
        const other = owner.get(d);
        let c = Infinity;
        const gateOk =
          this.groupOf(dets.classIds[d]!) === this.groupOf(t.classId) &&
          (other === undefined ||
            other.state === 'tentative' ||
            // A track born while this one was unseen, and born where this one was last seen:
            // the same object found again under a new id (not a newcomer that came from elsewhere).
            (other.bornS > t.lastSeenS && centreDistance(other.birthBox, last) <= this.reacquireRadius(size, other.bornS - t.lastSeenS)));
        if (gateOk) {
          const b = dets.box(d);
          const dist = centreDistance(b, tb) / radius;
          const ratio = Math.sqrt(Math.max((b[2] - b[0]) * (b[3] - b[1]), 1) / area);
          const sim = dist <= 1 && ratio >= 0.5 && ratio <= 2 ? t.similarity(dets.coefficientsAt(d)) : -Infinity;
          // The costliest check last: only a detection that passed the others is looked up in the recent frames.
          if ((sim === null || sim >= o.reacquireSimilarity) && (other !== undefined || this.appears(d, dets, t))) {
            c = dist + (sim === null ? 0.5 : (1 - sim) / 2);
          }
        }
        cost.data[i * m + j] = c;
      }
    }
    const a = assignWithThreshold(cost, 2);
    for (const [i, j] of a.matches) {
      const t = lost[i]!;
      const d = detIdx[j]!;
      const other = owner.get(d);
      if (other !== undefined && other !== t) other.state = 'removed';
      t.update(this.kf, detectionAt(dets, d), this.nowS, o.labelHalfLifeS);
      t.state = 'confirmed';
      owner.set(d, t);
      taken.add(d);
    }
    return taken;
  }

  /** Re-acquisition gate: how far (px) from its prediction a track of this size, unseen this long, may be found again. */
  private reacquireRadius(size: number, unseenS: number): number {
    return size * Math.min(1, 0.5 + this.options.reacquireDistance * unseenS);
  }

  /**
   * Is detection d free to be track t coming back? Not when it lies (IoU >= 0.3) on a box that
   * another track owned in the recent processed frames (the last RECENT_S seconds), nor on
   * (IoU >= BESIDE_IOU) a box that was near t on the last frames t was seen (owned or not): an object that was in
   * view as something else is not t (a red car behind a prompted one that left the picture).
   * Unowned boxes seen only after t vanished do not count: they may be t itself, missed by a gate.
   */
  private appears(d: number, dets: Detections, t: Track): boolean {
    for (const f of this.recent) {
      if (f.timeS < t.lastSeenS - 1e-9) continue;
      for (let j = 0; j < f.owners.length; j++) {
        const ownerId = f.owners[j]!;
        if (ownerId < 0 || ownerId === t.id) continue;
        if (boxIou(dets.boxes, d * 4, f.boxes, j * 4) >= 0.3) return false;
      }
    }
    return !t.beside.some((near) => overlapsAny(dets.boxes, d, near, BESIDE_IOU));
  }

  /** Remembers this frame's kept boxes and their owners for appears(); bounded by RECENT_S and RECENT_FRAMES. */
  private remember(dets: Detections, keeperOf: Int32Array, owner: Map<number, Track>): void {
    const kept: number[] = [];
    for (let i = 0; i < dets.length; i++) if (keeperOf[i]! < 0) kept.push(i);
    const boxes = new Float32Array(kept.length * 4);
    const owners = new Int32Array(kept.length);
    kept.forEach((i, k) => {
      boxes.set(dets.boxes.subarray(i * 4, i * 4 + 4), k * 4);
      owners[k] = owner.get(i)?.id ?? -1;
    });
    this.recent.push({ timeS: this.nowS, boxes, owners });
    while (this.recent.length > RECENT_FRAMES || this.recent[0]!.timeS < this.nowS - RECENT_S) this.recent.shift();
    // What was in view near each pinned track this frame (kept until it is seen again).
    for (const [d, t] of owner) if (t.pinned) t.rememberBeside(besideBoxes(boxes, dets.boxes, d));
  }

  /** Pinned tracks get what was near them on the recent frames they were seen (they may have been pinned since). */
  private seedBeside(t: Track): void {
    for (const f of this.recent) {
      const k = f.owners.indexOf(t.id);
      if (k >= 0) t.rememberBeside(besideBoxes(f.boxes, f.boxes, k));
    }
  }

  /** Matched objects in detection order, then predicted ones in track order. */
  private report(owner: Map<number, Track>): TrackedObject[] {
    const o = this.options;
    const detOf = new Map<Track, number>();
    for (const [d, t] of owner) detOf.set(t, d);
    const matched: TrackedObject[] = [];
    const predicted: TrackedObject[] = [];
    for (const t of this.tracks) {
      if (t.state === 'confirmed' && t.missedFrames === 0) {
        const detIndex = detOf.get(t) ?? -1;
        const box = o.outputBox === 'detection' ? t.detectionBox : o.outputBox === 'filtered' ? t.box : meanBox(t.box, t.detectionBox);
        const mask = t.mask === null || o.outputBox === 'detection' ? t.mask : clipMaskToBox(t.mask, box);
        matched.push({ id: t.id, box, score: t.score, classId: t.classId, mask, predicted: false, state: t.state, detIndex, pinned: t.pinned });
      } else if (t.state === 'lost' && t.timeSinceUpdate(this.nowS) <= (t.pinned ? o.targetPredictS : o.predictWindowS)) {
        predicted.push({
          id: t.id,
          box: t.box,
          score: t.score,
          classId: t.classId,
          mask: t.predictedMask(),
          predicted: true,
          state: t.state,
          detIndex: -1,
          pinned: t.pinned,
        });
      }
    }
    matched.sort((a, b) => a.detIndex - b.detIndex);
    return matched.concat(predicted);
  }

  /**
   * Optimal IoU matching of tracks (predicted boxes) to the given detection indices, within
   * class groups; with `fuse`, the similarity is IoU x detection score (ByteTrack's
   * fuse_score), so a confident detection wins a contested track. Returns the pairs and what
   * is left of each side, in order.
   */
  private associate(tracks: Track[], detIdx: number[], dets: Detections, minIou: number, fuse: boolean): Association {
    const n = tracks.length;
    const m = detIdx.length;
    const cost = costMatrix(n, m);
    for (let i = 0; i < n; i++) {
      const t = tracks[i]!;
      const tb = t.box;
      const g = this.groupOf(t.classId);
      for (let j = 0; j < m; j++) {
        const d = detIdx[j]!;
        const iou = this.groupOf(dets.classIds[d]!) !== g ? 0 : boxIou(tb, 0, dets.boxes, d * 4);
        // Boxes that do not overlap never match, whatever the threshold.
        cost.data[i * m + j] = iou > 0 ? 1 - iou * (fuse ? dets.scores[d]! : 1) : Infinity;
      }
    }
    const a = assignWithThreshold(cost, 1 - minIou);
    return {
      matches: a.matches.map(([i, j]) => [tracks[i]!, detIdx[j]!]),
      tracks: a.unmatchedRows.map((i) => tracks[i]!),
      dets: a.unmatchedCols.map((j) => detIdx[j]!),
    };
  }
}

interface Association {
  matches: [Track, number][];
  /** Unmatched tracks. */
  tracks: Track[];
  /** Unmatched detection indices. */
  dets: number[];
}

/**
 * The boxes of `all` near box `self` of `own` (centre within 2 of its sizes) that are not on it
 * (IoU < 0.3: a part of the object detected apart is not something beside it).
 */
function besideBoxes(all: Float32Array, own: Float32Array, self: number): Float32Array {
  const sx = (own[self * 4]! + own[self * 4 + 2]!) / 2;
  const sy = (own[self * 4 + 1]! + own[self * 4 + 3]!) / 2;
  const reach = 2 * Math.max(own[self * 4 + 2]! - own[self * 4]!, own[self * 4 + 3]! - own[self * 4 + 1]!, 1);
  const keep: number[] = [];
  for (let j = 0; j < all.length / 4; j++) {
    const cx = (all[j * 4]! + all[j * 4 + 2]!) / 2;
    const cy = (all[j * 4 + 1]! + all[j * 4 + 3]!) / 2;
    if (Math.hypot(cx - sx, cy - sy) <= reach && boxIou(all, j * 4, own, self * 4) < 0.3) keep.push(j);
  }
  const out = new Float32Array(keep.length * 4);
  keep.forEach((j, m) => out.set(all.subarray(j * 4, j * 4 + 4), m * 4));
  return out;
}

function overlapsAny(boxes: Float32Array, d: number, others: Float32Array, minIou: number): boolean {
  for (let j = 0; j < others.length / 4; j++) if (boxIou(boxes, d * 4, others, j * 4) >= minIou) return true;
  return false;
}

function meanBox(a: Box, b: Box): Box {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2, (a[3] + b[3]) / 2];
}

function centreDistance(a: Box, b: Box): number {
  return Math.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2);
}

function detectionAt(dets: Detections, i: number): TrackDetection {
  return {
    box: dets.box(i),
    score: dets.scores[i]!,
    classId: dets.classIds[i]!,
    mask: dets.masks[i] ?? null,
    coefficients: dets.coefficientsAt(i),
  };
}
