export { evaluateMot, accumulateMot, type MotBox, type EvaluateMotOptions } from './evaluate.js';
export { MotAccumulator, MOT_EVENT_TYPES, type MotEvent, type MotEventType } from './accumulator.js';
export { computeMotMetrics, type MotMetrics } from './metrics.js';
export { idGlobalAssignment, type IdentityCounts } from './identity.js';
export { iouDistanceMatrix, iouXywh, type XywhBox } from './iouDistance.js';
export {
  evaluateCoco,
  evaluateCocoSegmentation,
  IOU_THRESHOLDS,
  RECALL_THRESHOLDS,
  type CocoCategory,
  type CocoCategoryAp,
  type CocoEvalOptions,
  type CocoEvalSummary,
  type CocoGroundTruth,
  type CocoGtAnnotation,
  type CocoImage,
  type CocoIouType,
} from './cocoEval.js';
export { cocoImageIds, parseCocoResults, type CocoBbox, type CocoResult } from './cocoResults.js';
export { boxIou, intersectionArea, maskIou, rleIou, runLengthsFromBitmap, runLengthsFromRle, type RunLengthMask } from './runLengths.js';
export { polygonBbox, rasterizePolygon } from './polygon.js';
export { IMAGE_EXTENSIONS, labelsDirFor, listImages, loadYoloSegDataset, parseYoloSegLabels, readClassNames, type YoloSegDataset, type YoloSegOptions } from './yoloSeg.js';
