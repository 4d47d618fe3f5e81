import type { MaskCrop } from '../core/index.js';
import { boxToMeasurement, stateToBox, type Box, type KalmanBoxFilter, type KalmanState } from './kalman.js';

export const TRACK_STATES = ['tentative', 'confirmed', 'lost', 'removed'] as const;
/**
 * tentative: born from a detection, not yet minHits matches, no public id;
 * confirmed: matched this frame, has a public id; lost: confirmed once, unmatched for
 * 1..maxAge frames; removed: dropped (a tentative miss, or lost longer than maxAge).
 */
export type TrackState = (typeof TRACK_STATES)[number];

export interface TrackDetection {
  readonly box: Box;
  readonly score: number;
  readonly classId: number;
  readonly mask: MaskCrop | null;
}

/** One object followed over frames. Mutable; owned by a single ByteTracker. */
export class Track {
  /** Public id, sequential per tracker; -1 until confirmed. */
  id = -1;
  state: TrackState = 'tentative';
  kalman: KalmanState;
  /** Frames with a matched detection. */
  hits = 1;
  /** Frames since birth (0 on the birth frame). */
  age = 0;
  /** Frames since the last matched detection (0 when matched this frame). */
  timeSinceUpdate = 0;
  score: number;
  classId: number;
  /** Last matched detection's box (px); its mask lies over this rectangle. */
  detectionBox: Box;
  /** Last matched detection's mask, as decoded. */
  mask: MaskCrop | null;
  /** Kalman centre (px) when the mask was observed; the mask moves with the centre from there. */
  private maskCentre: [number, number];

  constructor(kf: KalmanBoxFilter, det: TrackDetection) {
    this.kalman = kf.initiate(boxToMeasurement(det.box));
    this.score = det.score;
    this.classId = det.classId;
    this.detectionBox = det.box;
    this.mask = det.mask;
    this.maskCentre = [this.kalman.mean[0]!, this.kalman.mean[1]!];
  }

  /** Advances the motion model by one frame. */
  predict(kf: KalmanBoxFilter): void {
    let state = this.kalman;
    if (this.state !== 'confirmed' && this.state !== 'tentative') {
      // ByteTrack freezes height velocity while an object is unseen, so a track lost while
      // shrinking or growing keeps a plausible size.
      const mean = Float64Array.from(state.mean);
      mean[7] = 0;
      state = { mean, covariance: state.covariance };
    }
    this.kalman = kf.predict(state);
    this.age++;
    this.timeSinceUpdate++;
  }

  /** Corrects with a matched detection; the detection's mask becomes the track's mask. */
  update(kf: KalmanBoxFilter, det: TrackDetection): void {
    this.kalman = kf.update(this.kalman, boxToMeasurement(det.box));
    this.hits++;
    this.timeSinceUpdate = 0;
    this.score = det.score;
    this.classId = det.classId;
    this.detectionBox = det.box;
    this.mask = det.mask;
    this.maskCentre = [this.kalman.mean[0]!, this.kalman.mean[1]!];
  }

  /** Current Kalman box (predicted when unmatched this frame), px. */
  get box(): Box {
    return stateToBox(this.kalman.mean);
  }

  /**
   * The last mask translated by the Kalman centre's displacement since it was observed,
   * rounded to whole pixels (a MaskCrop sits on the pixel grid). Null when there is no mask.
   */
  predictedMask(): MaskCrop | null {
    if (this.mask === null) return null;
    const dx = Math.round(this.kalman.mean[0]! - this.maskCentre[0]);
    const dy = Math.round(this.kalman.mean[1]! - this.maskCentre[1]);
    if (dx === 0 && dy === 0) return this.mask;
    return { ...this.mask, x: this.mask.x + dx, y: this.mask.y + dy };
  }
}
