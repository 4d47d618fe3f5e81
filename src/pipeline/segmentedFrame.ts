import type { Detections, Frame } from '../core/index.js';

/** Per-frame stage times, ms. */
export interface StageTimings {
  /** Waiting in the latest-frame slot for an idle worker. */
  queueMs: number;
  /** Letterbox into the float tensor (in the worker; shared by the batch). */
  preprocessMs: number;
  /** session.run (shared by the batch). */
  inferenceMs: number;
  /** Confidence filter + NMS (in the worker). */
  postprocessMs: number;
  /** Mask assembly at source resolution (main thread). */
  masksMs: number;
  /** Tracker update and targets (main thread); set once the frame is tracked. */
  trackingMs?: number;
  /** Images in the batch this frame ran in. */
  batchSize: number;
}

/** A frame with its detections in source-frame pixels. */
export interface SegmentedFrame {
  readonly frame: Frame;
  readonly detections: Detections;
  readonly classNames: readonly string[];
  readonly timings: StageTimings;
  /**
   * True for a frame motion gating kept from inference: `detections` are the last inferred
   * frame's, carried forward (timings all 0).
   */
  readonly gated?: boolean;
}
