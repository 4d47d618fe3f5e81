import { nms, type NmsOptions } from './nms.js';

/** Detections of one image in model-input pixels, before masks are assembled. */
export interface RawDetections {
  /** k * 4: x1, y1, x2, y2 in input px. */
  boxes: Float32Array;
  scores: Float32Array;
  classIds: Int32Array;
  /** k * numMasks mask coefficients. */
  coefficients: Float32Array;
}

export interface DecodeOptions extends NmsOptions {
  /** Minimum class score for a box to be considered. */
  confidence: number;
}

export interface OutputLayout {
  numClasses: number;
  numMasks: number;
  numAnchors: number;
}

/**
 * Reads image `b` of output0 ([batch, 4 + classes + masks, anchors], channel-major),
 * keeps anchors whose best class clears the confidence threshold, and applies NMS.
 */
export function selectDetections(
  output0: Float32Array,
  b: number,
  layout: OutputLayout,
  options: DecodeOptions,
): RawDetections {
  const { numClasses: nc, numMasks: nm, numAnchors: n } = layout;
  const channels = 4 + nc + nm;
  const base = b * channels * n;
  if (output0.length < base + channels * n) {
    throw new TypeError(`selectDetections: output0 holds ${output0.length} floats, image ${b} needs ${base + channels * n}`);
  }
  const candAnchor: number[] = [];
  const candScore: number[] = [];
  const candClass: number[] = [];
  for (let a = 0; a < n; a++) {
    let best = -Infinity;
    let bestC = 0;
    for (let c = 0; c < nc; c++) {
      const s = output0[base + (4 + c) * n + a]!;
      if (s > best) {
        best = s;
        bestC = c;
      }
    }
    if (best > options.confidence) {
      candAnchor.push(a);
      candScore.push(best);
      candClass.push(bestC);
    }
  }
  const m = candAnchor.length;
  const boxes = new Float32Array(m * 4);
  for (let i = 0; i < m; i++) {
    const a = candAnchor[i]!;
    const cx = output0[base + a]!;
    const cy = output0[base + n + a]!;
    const w = output0[base + 2 * n + a]!;
    const h = output0[base + 3 * n + a]!;
    boxes[i * 4] = cx - w / 2;
    boxes[i * 4 + 1] = cy - h / 2;
    boxes[i * 4 + 2] = cx + w / 2;
    boxes[i * 4 + 3] = cy + h / 2;
  }
  const keep = nms(boxes, candScore, candClass, options);
  const k = keep.length;
  const out: RawDetections = {
    boxes: new Float32Array(k * 4),
    scores: new Float32Array(k),
    classIds: new Int32Array(k),
    coefficients: new Float32Array(k * nm),
  };
  for (let j = 0; j < k; j++) {
    const i = keep[j]!;
    const a = candAnchor[i]!;
    out.boxes.set(boxes.subarray(i * 4, i * 4 + 4), j * 4);
    out.scores[j] = candScore[i]!;
    out.classIds[j] = candClass[i]!;
    for (let c = 0; c < nm; c++) out.coefficients[j * nm + c] = output0[base + (4 + nc + c) * n + a]!;
  }
  return out;
}
