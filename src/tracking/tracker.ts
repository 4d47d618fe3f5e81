import { boxIou, type Detections, type MaskCrop } from '../core/index.js';
import { assignWithThreshold, costMatrix } from './assignment.js';
import { KalmanBoxFilter, type Box } from './kalman.js';
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
  readonly classId: number;
  /** Matched: the detection's mask. Predicted: the last mask shifted with the motion. */
  readonly mask: MaskCrop | null;
  /** True when no detection matched this frame and box and mask are extrapolated. */
  readonly predicted: boolean;
  readonly state: TrackState;
  /** Index of the matched detection in this frame's Detections, or -1 when predicted. */
  readonly detIndex: number;
}

/**
 * ByteTrack-family multi-object tracker, one instance per camera. A pure synchronous core:
 * `update()` takes one frame's detections and returns that frame's tracked objects.
 *
 * Per frame: predict every track; stage 1 matches high-score detections to confirmed and
 * lost tracks (IoU with predicted boxes; tracks seen last frame first when
 * `prioritizeTracked`); stage 2 matches low-score detections to the
 * confirmed tracks stage 1 left; stage 3 matches remaining high detections to tentative
 * tracks; then unmatched confirmed tracks become lost, unmatched tentative ones are removed,
 * and unmatched high detections start tentative tracks.
 */
export class ByteTracker {
  readonly options: TrackerOptions;
  private readonly kf: KalmanBoxFilter;
  private tracks: Track[] = [];
  private nextId = 1;
  private frame = 0;

  constructor(options: TrackerOptionsInput = {}) {
    this.options = parseTrackerOptions(options);
    this.kf = new KalmanBoxFilter({
      stdWeightPosition: this.options.stdWeightPosition,
      stdWeightVelocity: this.options.stdWeightVelocity,
    });
  }

  /** Frames seen since construction or the last reset(). */
  get frameCount(): number {
    return this.frame;
  }

  /** Live (not removed) tracks, tentative included; for inspection and tests. */
  get activeTracks(): readonly Track[] {
    return this.tracks;
  }

  /**
   * Forgets every track (e.g. after a camera cut). Ids restart at 1 unless `keepIds`: a live
   * camera keeps counting, so a client never sees an old id on a new object.
   */
  reset(keepIds = false): void {
    this.tracks = [];
    if (!keepIds) this.nextId = 1;
    this.frame = 0;
  }

  update(dets: Detections): TrackedObject[] {
    const o = this.options;
    this.frame++;
    const high: number[] = [];
    const low: number[] = [];
    for (let i = 0; i < dets.length; i++) {
      const s = dets.scores[i]!;
      if (s >= o.highScoreThreshold) high.push(i);
      else if (s >= o.lowScoreThreshold) low.push(i);
    }
    for (const t of this.tracks) t.predict(this.kf);

    const matchedDet = new Map<Track, number>();
    const pool = this.tracks.filter((t) => t.state === 'confirmed' || t.state === 'lost');
    const tentative = this.tracks.filter((t) => t.state === 'tentative');

    // Stage 1: high detections vs confirmed + lost tracks (optionally confirmed ones first).
    let s1: Association;
    if (o.prioritizeTracked) {
      const a = this.associate(pool.filter((t) => t.state === 'confirmed'), high, dets, o.matchIouHigh, o.fuseScore);
      const b = this.associate(pool.filter((t) => t.state === 'lost'), a.dets, dets, o.matchIouHigh, o.fuseScore);
      s1 = { matches: [...a.matches, ...b.matches], tracks: [...a.tracks, ...b.tracks], dets: b.dets };
    } else {
      s1 = this.associate(pool, high, dets, o.matchIouHigh, o.fuseScore);
    }
    for (const [t, d] of s1.matches) {
      t.update(this.kf, detectionAt(dets, d));
      t.state = 'confirmed';
      matchedDet.set(t, d);
    }
    // Stage 2: low detections vs the tracks that were confirmed last frame and are still unmatched.
    const s2 = this.associate(
      s1.tracks.filter((t) => t.state === 'confirmed'),
      low,
      dets,
      o.matchIouLow,
      false,
    );
    for (const [t, d] of s2.matches) {
      t.update(this.kf, detectionAt(dets, d));
      matchedDet.set(t, d);
    }
    for (const t of s2.tracks) t.state = 'lost';

    // Stage 3: remaining high detections vs tentative tracks.
    const s3 = this.associate(tentative, s1.dets, dets, o.matchIouTentative, o.fuseScore);
    for (const [t, d] of s3.matches) {
      t.update(this.kf, detectionAt(dets, d));
      matchedDet.set(t, d);
      if (t.hits >= o.minHits) this.confirm(t);
    }
    for (const t of s3.tracks) t.state = 'removed';

    // New tentative tracks from high detections nothing claimed.
    for (const d of s3.dets) {
      if (dets.scores[d]! < o.newTrackThreshold) continue;
      const t = new Track(this.kf, detectionAt(dets, d));
      this.tracks.push(t);
      matchedDet.set(t, d);
      if (t.hits >= o.minHits || (o.confirmOnFirstFrame && this.frame === 1)) this.confirm(t);
    }

    for (const t of this.tracks) {
      if (t.state === 'lost' && t.timeSinceUpdate > o.maxAge) t.state = 'removed';
    }
    this.tracks = this.tracks.filter((t) => t.state !== 'removed');
    return this.report(matchedDet);
  }

  private confirm(t: Track): void {
    t.state = 'confirmed';
    t.id = this.nextId++;
  }

  /** Matched objects in detection order, then predicted ones in track order. */
  private report(matchedDet: Map<Track, number>): TrackedObject[] {
    const matched: TrackedObject[] = [];
    const predicted: TrackedObject[] = [];
    for (const t of this.tracks) {
      if (t.state === 'confirmed') {
        const detIndex = matchedDet.get(t) ?? -1;
        matched.push({
          id: t.id,
          box: this.options.outputBox === 'filtered' ? t.box : t.detectionBox,
          score: t.score,
          classId: t.classId,
          mask: t.mask,
          predicted: false,
          state: t.state,
          detIndex,
        });
      } else if (t.state === 'lost' && t.timeSinceUpdate <= this.options.maxPredictFrames) {
        predicted.push({
          id: t.id,
          box: t.box,
          score: t.score,
          classId: t.classId,
          mask: t.predictedMask(),
          predicted: true,
          state: t.state,
          detIndex: -1,
        });
      }
    }
    matched.sort((a, b) => a.detIndex - b.detIndex);
    return matched.concat(predicted);
  }

  /**
   * Optimal IoU matching of tracks (predicted boxes) to the given detection indices; with
   * `fuse`, the similarity is IoU x detection score (ByteTrack's fuse_score), so a confident
   * detection wins a contested track. Returns the pairs and what is left of each side, in order.
   */
  private associate(tracks: Track[], detIdx: number[], dets: Detections, minIou: number, fuse: boolean): Association {
    const n = tracks.length;
    const m = detIdx.length;
    const cost = costMatrix(n, m);
    const classAware = this.options.classAware;
    for (let i = 0; i < n; i++) {
      const t = tracks[i]!;
      const tb = t.box;
      for (let j = 0; j < m; j++) {
        const d = detIdx[j]!;
        const iou = classAware && dets.classIds[d] !== t.classId ? 0 : boxIou(tb, 0, dets.boxes, d * 4);
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

function detectionAt(dets: Detections, i: number): TrackDetection {
  return { box: dets.box(i), score: dets.scores[i]!, classId: dets.classIds[i]!, mask: dets.masks[i] ?? null };
}
