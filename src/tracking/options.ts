import { z } from 'zod';
import { parseWith, SegstreamError } from '../core/index.js';

const unit = () => z.number().min(0).max(1);
const frames = () => z.number().int().min(0).max(10_000);

/**
 * ByteTracker options. Every field has a default; unknown keys are rejected. Scores are the
 * detector's confidences (0..1), IoU thresholds are overlaps (0..1), ages count frames.
 */
export const trackerOptionsSchema = z
  .strictObject({
    highScoreThreshold: unit()
      .default(0.7)
      .describe(
        'Detections at or above this score take part in the first association stage and may start tracks. ' +
          'Higher: fewer false tracks from clutter, but weak true objects are only used to keep existing tracks alive.',
      ),
    lowScoreThreshold: unit()
      .default(0.1)
      .describe(
        'Detections in [low, high) are used only in the second stage, to continue tracks the first stage left ' +
          'unmatched (occluded, blurred objects). Below it detections are dropped. Lower: recovers more occluded ' +
          'objects, but lets background blobs extend tracks.',
      ),
    newTrackThreshold: unit()
      .default(0.8)
      .describe(
        'An unmatched high detection starts a tentative track only at or above this score. Higher: fewer spurious ' +
          'tracks (and ids), but objects entering with a weak score are picked up later.',
      ),
    matchIouHigh: unit()
      .default(0.2)
      .describe(
        'Stage 1 (high detections vs confirmed and lost tracks): least IoU between the Kalman-predicted box and a ' +
          'detection for them to match. Lower: survives fast motion and poor predictions, but risks swapping ids ' +
          'between neighbours.',
      ),
    matchIouLow: unit()
      .default(0.5)
      .describe(
        'Stage 2 (low detections vs tracks seen last frame that stage 1 left unmatched): least IoU (plain IoU, never ' +
          'score-fused). Stricter than stage 1 because low-score boxes are less reliable; lower keeps more occluded ' +
          'objects but lets clutter continue tracks.',
      ),
    matchIouTentative: unit()
      .default(0.5)
      .describe(
        'Stage 3 (remaining high detections vs tentative tracks): least IoU for a young track to continue. ' +
          'A young track has no velocity estimate yet, so a strict value keeps clutter from chaining into a track.',
      ),
    minHits: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(2)
      .describe(
        'Consecutive matched frames before a tentative track is confirmed and gets a public id. Higher: fewer ' +
          'ids spent on one-frame false positives, but every object is reported minHits - 1 frames late.',
      ),
    maxAge: frames()
      .default(30)
      .describe(
        'Frames a confirmed track may stay lost (unmatched) before it is removed. Higher: ids survive longer ' +
          'occlusions, but a lost track may capture a different object that enters near its predicted box.',
      ),
    maxPredictFrames: frames()
      .default(2)
      .describe(
        'Frames a lost track is still output, at its Kalman-predicted box with its last mask shifted there ' +
          '(predicted: true). Bridges detector flicker in overlays; 0 outputs only matched tracks. Larger values ' +
          'add false positives when the object has really left.',
      ),
    fuseScore: z
      .boolean()
      .default(true)
      .describe(
        'Stages 1 and 3 rank pairs by IoU x detection score instead of IoU (ByteTrack fuse_score): of two boxes on ' +
          'one track the confident one wins. The IoU thresholds then apply to the fused value, so they act stricter ' +
          'on weak detections.',
      ),
    prioritizeTracked: z
      .boolean()
      .default(true)
      .describe(
        'Stage 1 first matches tracks seen last frame, then lost tracks with the detections left (a one-level ' +
          "DeepSORT matching cascade). Keeps a lost track's drifting prediction from taking a visible neighbour's " +
          'detection; off: one joint assignment as in ByteTrack.',
      ),
    confirmOnFirstFrame: z
      .boolean()
      .default(true)
      .describe(
        "Tracks born on the tracker's first frame are confirmed at once (as ByteTrack does), so a stream that " +
          'starts with objects in view reports them immediately instead of minHits frames later.',
      ),
    classAware: z
      .boolean()
      .default(true)
      .describe('Only match a detection to a track of the same class id. Off: a class flicker cannot split a track.'),
    outputBox: z
      .enum(['detection', 'filtered'])
      .default('detection')
      .describe(
        "Box reported for a matched track: the detection's own box (lines up with its mask) or the Kalman-filtered " +
          'box (smoother, lags behind sudden changes).',
      ),
    stdWeightPosition: z
      .number()
      .positive()
      .max(10)
      .default(1 / 20)
      .describe('Kalman position noise std as a fraction of box height (ByteTrack: 1/20).'),
    stdWeightVelocity: z
      .number()
      .positive()
      .max(10)
      .default(1 / 160)
      .describe('Kalman velocity noise std as a fraction of box height per frame (ByteTrack: 1/160).'),
  })
  .superRefine((o, ctx) => {
    if (o.lowScoreThreshold > o.highScoreThreshold) {
      ctx.addIssue({
        code: 'custom',
        path: ['lowScoreThreshold'],
        message: `must be <= highScoreThreshold (${o.highScoreThreshold}), got ${o.lowScoreThreshold}`,
      });
    }
    if (o.newTrackThreshold < o.highScoreThreshold) {
      ctx.addIssue({
        code: 'custom',
        path: ['newTrackThreshold'],
        message: `must be >= highScoreThreshold (${o.highScoreThreshold}) since tracks start only from high detections, got ${o.newTrackThreshold}`,
      });
    }
    if (o.maxPredictFrames > o.maxAge) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxPredictFrames'],
        message: `must be <= maxAge (${o.maxAge}): a removed track cannot be predicted, got ${o.maxPredictFrames}`,
      });
    }
  });

/** Options as a caller writes them (every field optional). */
export type TrackerOptionsInput = z.input<typeof trackerOptionsSchema>;
/** Options with every default filled in. */
export type TrackerOptions = z.output<typeof trackerOptionsSchema>;

/** Validates and fills defaults; throws SegstreamError E_CONFIG naming the first bad field. */
export function parseTrackerOptions(input: unknown = {}): TrackerOptions {
  return parseWith(trackerOptionsSchema, input, 'E_CONFIG', 'tracker option');
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = parseTrackerOptions({});
