import { MotAccumulator } from './accumulator.js';
import { iouDistanceMatrix, type XywhBox } from './iouDistance.js';
import { computeMotMetrics, type MotMetrics } from './metrics.js';

/** A ground-truth or tracker box of one frame, as in MOTChallenge files. */
export interface MotBox extends XywhBox {
  readonly frame: number;
  readonly id: number;
}

export interface EvaluateMotOptions {
  /** Largest 1 - IoU distance a pair may have to match (py-motmetrics `distth`); 0.5 = IoU >= 0.5. */
  maxDistance?: number;
}

/**
 * Scores tracker output against ground truth as py-motmetrics'
 * `compare_to_groundtruth(gt, ts, 'iou', distth=0.5)` followed by its summary: every frame
 * present in either input is visited in ascending order, rows keep their file order within
 * a frame. No row is filtered; drop ignored ground truth (e.g. flag 0) before calling.
 */
export function evaluateMot(gt: readonly MotBox[], hyp: readonly MotBox[], options: EvaluateMotOptions = {}): MotMetrics {
  return computeMotMetrics(accumulateMot(gt, hyp, options));
}

export function accumulateMot(gt: readonly MotBox[], hyp: readonly MotBox[], options: EvaluateMotOptions = {}): MotAccumulator {
  const maxDistance = options.maxDistance ?? 0.5;
  const gtBy = groupByFrame(gt);
  const hypBy = groupByFrame(hyp);
  const frames = [...new Set([...gtBy.keys(), ...hypBy.keys()])].sort((a, b) => a - b);
  const acc = new MotAccumulator();
  for (const f of frames) {
    // py-motmetrics' loader shifts x, y by -1 (MATLAB convention); done here too so the
    // float rounding, and so every threshold comparison, is the same as theirs.
    const o = (gtBy.get(f) ?? []).map(shift);
    const h = (hypBy.get(f) ?? []).map(shift);
    acc.update(
      f,
      o.map((b) => b.id),
      h.map((b) => b.id),
      iouDistanceMatrix(o, h, maxDistance),
    );
  }
  return acc;
}

function shift(b: MotBox): MotBox {
  return { frame: b.frame, id: b.id, x: b.x - 1, y: b.y - 1, width: b.width, height: b.height };
}

function groupByFrame(rows: readonly MotBox[]): Map<number, MotBox[]> {
  const by = new Map<number, MotBox[]>();
  for (const r of rows) {
    let list = by.get(r.frame);
    if (list === undefined) by.set(r.frame, (list = []));
    list.push(r);
  }
  return by;
}
