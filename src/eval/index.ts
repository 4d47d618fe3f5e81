export { evaluateMot, accumulateMot, type MotBox, type EvaluateMotOptions } from './evaluate.js';
export { MotAccumulator, MOT_EVENT_TYPES, type MotEvent, type MotEventType } from './accumulator.js';
export { computeMotMetrics, type MotMetrics } from './metrics.js';
export { idGlobalAssignment, type IdentityCounts } from './identity.js';
export { iouDistanceMatrix, iouXywh, type XywhBox } from './iouDistance.js';
