import type { MaskCrop } from '../core/index.js';
import { boxToMeasurement, stateToBox, type Box, type KalmanBoxFilter, type KalmanState } from './kalman.js';
import { warpMaskToBox } from './maskWarp.js';

export const TRACK_STATES = ['tentative', 'confirmed', 'lost', 'removed'] as const;
/**
 * tentative: born from a detection, not yet minHits matches, no public id;
 * confirmed: matched this frame, has a public id; lost: confirmed once, unmatched for up to
 * maxAgeS (targetMemoryS when pinned); removed: dropped (a tentative miss, or lost too long).
 */
export type TrackState = (typeof TRACK_STATES)[number];

export interface TrackDetection {
  readonly box: Box;
  readonly score: number;
  readonly classId: number;
  readonly mask: MaskCrop | null;
  /** The detection's mask coefficients (appearance), or null. */
  readonly coefficients: Float32Array | null;
}

/** Frames of boxes beside a pinned track that re-acquisition remembers (1 s at 30 fps). */
export const BESIDE_FRAMES = 30;

/** Most classes a track's label vote remembers (the weakest is dropped beyond). */
const MAX_VOTES = 8;
/** Weight of a new observation in the running mean of mask coefficients. */
const APPEARANCE_RATE = 0.2;

/** One object followed over time. Mutable; owned by a single ByteTracker. */
export class Track {
  /** Public id, sequential per tracker; -1 until confirmed. */
  id = -1;
  state: TrackState = 'tentative';
  /** Prompted: kept for targetMemoryS, matched with low-score detections, re-acquired. */
  pinned = false;
  kalman: KalmanState;
  /** Frames with a matched detection. */
  hits = 1;
  /** Media time of birth and of the last matched detection, s. */
  readonly bornS: number;
  lastSeenS: number;
  /** Processed frames since the last match (0 when matched this frame). */
  missedFrames = 0;
  score: number;
  /** Last matched detection's box (px); its mask lies over this rectangle. */
  detectionBox: Box;
  /** The first detection's box (px): where the object was first seen. */
  readonly birthBox: Box;
  /** Last matched detection's mask, as decoded. */
  mask: MaskCrop | null;
  /** Running mean of the matched detections' mask coefficients, L2-normalised; null without. */
  appearance: Float32Array | null = null;
  /**
   * Pinned tracks: the boxes in view beside this one on the last BESIDE_FRAMES frames it was
   * seen (x1 y1 x2 y2 each), newest last.
   */
  readonly beside: Float32Array[] = [];
  /** Class id -> decayed score sum. */
  private readonly votes = new Map<number, number>();
  private votedAtS: number;
  private voted = -1;

  constructor(kf: KalmanBoxFilter, det: TrackDetection, nowS: number) {
    this.kalman = kf.initiate(boxToMeasurement(det.box));
    this.bornS = nowS;
    this.lastSeenS = nowS;
    this.votedAtS = nowS;
    this.score = det.score;
    this.detectionBox = det.box;
    this.birthBox = det.box;
    this.mask = det.mask;
    this.observeAppearance(det.coefficients);
    this.vote(det.classId, det.score, nowS, Infinity);
  }

  /** Seconds since the last matched detection at media time nowS. */
  timeSinceUpdate(nowS: number): number {
    return nowS - this.lastSeenS;
  }

  /** The label by score-weighted vote over recent detections. */
  get classId(): number {
    return this.voted;
  }

  /**
   * Advances the motion model by dt seconds, of which at most `motionS` with the velocity: an
   * object unseen for longer than that (past an ordinary track's maxAgeS) is no longer assumed
   * to move on; its uncertainty still grows for the whole dt.
   */
  predict(kf: KalmanBoxFilter, dt: number, motionS = Infinity): void {
    let state = this.kalman;
    const lost = this.state !== 'confirmed' && this.state !== 'tentative';
    if (lost || this.missedFrames > 0) {
      // ByteTrack freezes height velocity while an object is unseen, so a track lost while
      // shrinking or growing keeps a plausible size.
      const mean = Float64Array.from(state.mean);
      mean[7] = 0;
      state = { mean, covariance: state.covariance };
    }
    const moving = Math.min(dt, Math.max(0, motionS));
    state = kf.predict(state, moving);
    if (dt > moving) {
      const mean = Float64Array.from(state.mean);
      mean.fill(0, 4, 8);
      state = kf.predict({ mean, covariance: state.covariance }, dt - moving);
    }
    this.kalman = state;
    this.missedFrames++;
  }

  /** Moves the prediction by a global image shift (camera motion), px. */
  shift(dx: number, dy: number): void {
    const mean = Float64Array.from(this.kalman.mean);
    mean[0] = mean[0]! + dx;
    mean[1] = mean[1]! + dy;
    this.kalman = { mean, covariance: this.kalman.covariance };
  }

  /** Corrects with a matched detection; the detection's mask becomes the track's mask. */
  update(kf: KalmanBoxFilter, det: TrackDetection, nowS: number, halfLifeS: number): void {
    this.kalman = kf.update(this.kalman, boxToMeasurement(det.box));
    this.hits++;
    this.lastSeenS = nowS;
    this.missedFrames = 0;
    this.score = det.score;
    this.detectionBox = det.box;
    this.mask = det.mask;
    this.observeAppearance(det.coefficients);
    this.vote(det.classId, det.score, nowS, halfLifeS);
  }

  /**
   * Adds a score-weighted vote for a class (a matched detection, or a duplicate box fused
   * into it); earlier votes decay with the half-life.
   */
  vote(classId: number, score: number, nowS: number, halfLifeS: number): void {
    const dt = nowS - this.votedAtS;
    if (dt > 0 && Number.isFinite(halfLifeS)) {
      const k = Math.pow(0.5, dt / halfLifeS);
      for (const [c, w] of this.votes) this.votes.set(c, w * k);
      this.votedAtS = nowS;
    }
    this.votes.set(classId, (this.votes.get(classId) ?? 0) + Math.max(score, 1e-6));
    if (this.votes.size > MAX_VOTES) {
      let weakest = -1;
      for (const [c, w] of this.votes) if (c !== classId && (weakest < 0 || w < this.votes.get(weakest)!)) weakest = c;
      this.votes.delete(weakest);
    }
    let best = -1;
    let bestW = -Infinity;
    for (const [c, w] of this.votes) {
      // Ties keep the current label: it must be beaten, not matched.
      if (w > bestW || (w === bestW && c === this.voted)) {
        best = c;
        bestW = w;
      }
    }
    this.voted = best;
  }

  /** Remembers the boxes near this track on a frame it was seen (the last BESIDE_FRAMES such frames). */
  rememberBeside(near: Float32Array): void {
    this.beside.push(near);
    if (this.beside.length > BESIDE_FRAMES) this.beside.shift();
  }

  /** Cosine similarity of the track's appearance with a detection's coefficients, or null without. */
  similarity(coefficients: Float32Array | null): number | null {
    const a = this.appearance;
    if (a === null || coefficients === null || coefficients.length !== a.length) return null;
    let dot = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * coefficients[i]!;
      nb += coefficients[i]! * coefficients[i]!;
    }
    return nb > 0 ? dot / Math.sqrt(nb) : null;
  }

  /** Current Kalman box (predicted when unmatched this frame), px. */
  get box(): Box {
    return stateToBox(this.kalman.mean);
  }

  /** The last mask warped into the current (predicted) box and clipped to it; null without a mask. */
  predictedMask(): MaskCrop | null {
    if (this.mask === null) return null;
    return warpMaskToBox(this.mask, this.detectionBox, this.box);
  }

  private observeAppearance(coefficients: Float32Array | null): void {
    if (coefficients === null || coefficients.length === 0) return;
    let norm = 0;
    for (let i = 0; i < coefficients.length; i++) norm += coefficients[i]! * coefficients[i]!;
    if (!(norm > 0)) return;
    const inv = 1 / Math.sqrt(norm);
    let a = this.appearance;
    if (a === null || a.length !== coefficients.length) {
      a = new Float32Array(coefficients.length);
      for (let i = 0; i < a.length; i++) a[i] = coefficients[i]! * inv;
      this.appearance = a;
      return;
    }
    let n2 = 0;
    for (let i = 0; i < a.length; i++) {
      a[i] = (1 - APPEARANCE_RATE) * a[i]! + APPEARANCE_RATE * coefficients[i]! * inv;
      n2 += a[i]! * a[i]!;
    }
    const r = n2 > 0 ? 1 / Math.sqrt(n2) : 0;
    for (let i = 0; i < a.length; i++) a[i] = a[i]! * r;
  }
}
