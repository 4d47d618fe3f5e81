import { performance } from 'node:perf_hooks';
import { Detections, type MaskCrop } from '../core/index.js';
import type { InferredFrame } from './inferLatest.js';
import { assembleMask, boxToSource, type Prototypes } from './masks.js';
import type { ModelInfo } from './modelInfo.js';
import type { SegmentedFrame } from './segmentedFrame.js';

/**
 * Maps an inference result into source-frame pixels: boxes through the letterbox,
 * masks assembled per box. Boxes that collapse to nothing after clamping, and detections
 * scoring below `minScore` (a camera asking for more than the engine's threshold), are dropped.
 */
export function decodeFrame(item: InferredFrame, info: ModelInfo, minScore = 0): SegmentedFrame {
  const t0 = performance.now();
  const { frame, image } = item;
  const lb = frame.letterbox;
  const raw = image.raw;
  const protos: Prototypes = {
    data: image.protos,
    numMasks: info.numMasks,
    width: info.protoWidth,
    height: info.protoHeight,
    inputWidth: info.inputWidth,
    inputHeight: info.inputHeight,
  };
  const n = raw.scores.length;
  const boxes: number[] = [];
  const scores: number[] = [];
  const classIds: number[] = [];
  const masks: MaskCrop[] = [];
  const nm = info.numMasks;
  const coefficients = new Float32Array(n * nm);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (raw.scores[i]! < minScore) continue;
    const box = boxToSource(lb, raw.boxes, i * 4);
    if (box[2] - box[0] < 1 || box[3] - box[1] < 1) continue;
    const mask = assembleMask(raw.coefficients, i * info.numMasks, protos, lb, box);
    boxes.push(...box);
    scores.push(raw.scores[i]!);
    classIds.push(raw.classIds[i]!);
    masks.push(mask);
    coefficients.set(raw.coefficients.subarray(i * nm, i * nm + nm), kept * nm);
    kept++;
  }
  const detections = new Detections({
    boxes: Float32Array.from(boxes),
    scores: Float32Array.from(scores),
    classIds: Int32Array.from(classIds),
    masks,
    coefficients: coefficients.subarray(0, kept * nm),
  });
  return {
    frame,
    detections,
    classNames: info.classNames,
    timings: { ...item.timings, masksMs: performance.now() - t0 },
  };
}
