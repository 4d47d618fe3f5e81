import { z } from 'zod';
import { parseWith, SegstreamError } from '../core/index.js';

const unit = () => z.number().min(0).max(1);
/** A duration in seconds: positive, at most a day. */
const seconds = () => z.number().positive().max(86_400);

/**
 * ByteTracker options. The defaults of the thresholds, matchIouHigh, maxAgeS, minHits,
 * cameraMotion and outputBox are the leave-one-sequence-out choice over every labelled MOT15
 * sequence (`npm run tune:mot`, docs/tracking.md); the live service overrides the score
 * thresholds for YOLOv8-seg (config.ts liveTrackerOptions). Every field has a default; unknown keys are rejected. Scores are the
 * detector's confidences (0..1), IoU thresholds are overlaps (0..1), ages and windows are
 * seconds of media time (never processed frames: under load the pipeline drops frames, and a
 * frame count would mean a different time on every machine).
 */
export const trackerOptionsSchema = z
  .strictObject({
    highScoreThreshold: unit()
      .default(0.8)
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
      .default(0.9)
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
    maxAgeS: seconds()
      .default(1)
      .describe(
        'Seconds a confirmed track may stay lost (unmatched) before it is removed. Higher: ids survive longer ' +
          'occlusions, but a lost track may capture a different object that enters near its predicted box.',
      ),
    predictWindowS: z
      .number()
      .min(0)
      .max(86_400)
      .default(0.1)
      .describe(
        'Seconds a lost track is still output, at its Kalman-predicted box with its last mask warped into it ' +
          '(predicted: true). Bridges detector flicker in overlays; 0 outputs only matched tracks. Larger values ' +
          'add false positives when the object has really left.',
      ),
    targetMemoryS: seconds()
      .default(10)
      .describe(
        'Seconds a pinned (prompted) track is kept while unseen, to be re-acquired when its object reappears; ' +
          'its target ends after that. Higher: survives longer occlusions, but may re-acquire a look-alike.',
      ),
    targetPredictS: z
      .number()
      .min(0)
      .max(86_400)
      .default(1)
      .describe(
        'Seconds a pinned track that the detector misses is still output (predicted: true), so a target does not ' +
          'blink out on a missed detection. Must be <= targetMemoryS.',
      ),
    reacquireDistance: z
      .number()
      .min(0)
      .max(100)
      .default(0.5)
      .describe(
        'Re-acquisition gate growth: a lost pinned track may take a detection whose centre lies within ' +
          '(0.5 + this x seconds lost) box sizes of its predicted centre, at most 1. Higher: finds objects that ' +
          'moved unpredictably while hidden, risks taking a newcomer at the same spot.',
      ),
    reacquireSimilarity: z
      .number()
      .min(-1)
      .max(1)
      .default(0.9)
      .describe(
        "Re-acquisition appearance gate: least cosine similarity between the track's mask coefficients (a " +
          'running mean) and the detection\'s. -1 disables the appearance check.',
      ),
    association: z
      .enum(['group', 'class', 'any'])
      .default('group')
      .describe(
        'Which detections may continue a track: `group` those whose class is in the same class group (vehicle, ' +
          'person, animal, other; a car may continue as a truck), `class` the same class only (a car/truck flicker ' +
          'splits the track), `any` every class.',
      ),
    duplicateIou: unit()
      .default(0.7)
      .describe(
        'Detections of one class group overlapping at least this IoU are one object seen twice (per-class NMS keeps ' +
          'a `car` and a `truck` box on the same vehicle): only the best-scored one is tracked and published, the ' +
          "others add to the track's label vote. 0 turns fusion off.",
      ),
    labelHalfLifeS: seconds()
      .default(1)
      .describe(
        "A track's label is the score-weighted vote of its detections' classes, older votes halving every this " +
          'many seconds. Higher: steadier label, slower to correct a wrong start.',
      ),
    cameraMotion: z
      .boolean()
      .default(false)
      .describe(
        'Estimate the global image translation between processed frames from the boxes (the shift most tracks ' +
          'agree on) and move every prediction by it before association, as BoT-SORT does with image registration. ' +
          'For shaking or panning cameras.',
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
    outputBox: z
      .enum(['detection', 'filtered', 'mean'])
      .default('mean')
      .describe(
        "Box reported for a matched track: the detection's own box (lines up with its mask; carries the " +
          "detector's jitter), the Kalman-filtered box (smoother, lags behind sudden changes), or the mean of the " +
          'two (half of each). With filtered or mean the mask is clipped to the reported box.',
      ),
    stdWeightPosition: z
      .number()
      .positive()
      .max(10)
      .default(1 / 20)
      .describe('Kalman position noise std as a fraction of box height, per 1/30 s (ByteTrack: 1/20 per frame at 30 fps).'),
    stdWeightVelocity: z
      .number()
      .positive()
      .max(10)
      .default(1 / 160)
      .describe('Kalman velocity noise std as a fraction of box height, per 1/30 s (ByteTrack: 1/160 per frame at 30 fps).'),
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
    if (o.predictWindowS > o.maxAgeS) {
      ctx.addIssue({
        code: 'custom',
        path: ['predictWindowS'],
        message: `must be <= maxAgeS (${o.maxAgeS}): a removed track cannot be predicted, got ${o.predictWindowS}`,
      });
    }
    if (o.targetPredictS > o.targetMemoryS) {
      ctx.addIssue({
        code: 'custom',
        path: ['targetPredictS'],
        message: `must be <= targetMemoryS (${o.targetMemoryS}): a forgotten target cannot be predicted, got ${o.targetPredictS}`,
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
