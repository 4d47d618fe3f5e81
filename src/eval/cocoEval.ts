import type { CocoBbox, CocoResult } from './cocoResults.js';
import { boxIou, maskIou, runLengthsFromRle, type RunLengthMask } from './runLengths.js';

export interface CocoImage {
  readonly id: number;
  /** px */
  readonly width: number;
  readonly height: number;
  readonly file_name?: string;
}

export interface CocoCategory {
  readonly id: number;
  readonly name?: string;
}

/** A ground-truth instance; `mask` is required for 'segm' evaluation. */
export interface CocoGtAnnotation {
  readonly image_id: number;
  readonly category_id: number;
  readonly bbox: CocoBbox;
  readonly mask?: RunLengthMask;
  /** A crowd region: never a false negative, matches any number of detections (IoU over the detection's area). */
  readonly iscrowd?: boolean;
}

export interface CocoGroundTruth {
  readonly images: readonly CocoImage[];
  readonly categories: readonly CocoCategory[];
  readonly annotations: readonly CocoGtAnnotation[];
}

export type CocoIouType = 'bbox' | 'segm';

export interface CocoEvalOptions {
  readonly iouType: CocoIouType;
  /** Detections kept per image (highest scores first); pycocotools' `maxDets[-1]`. Default 100, as pycocotools. */
  readonly maxDets?: number;
}

/** AP of one category that has ground truth (the others are left out of every mean). */
export interface CocoCategoryAp {
  readonly categoryId: number;
  readonly name?: string;
  /** Non-crowd ground-truth instances. */
  readonly numGt: number;
  /** Mean over IoU 0.50:0.05:0.95 of the 101-point AP. */
  readonly ap: number;
  readonly ap50: number;
  readonly ap75: number;
  /** Mean over the IoU thresholds of the recall reached with all kept detections. */
  readonly recall: number;
}

export interface CocoEvalSummary {
  readonly iouType: CocoIouType;
  readonly maxDets: number;
  /** mAP50-95: mean over categories with ground truth; -1 when there is none (as pycocotools). */
  readonly map: number;
  readonly map50: number;
  readonly map75: number;
  /** Mean recall (AR at maxDets, area 'all'). */
  readonly mar: number;
  readonly categories: readonly CocoCategoryAp[];
}

/** IoU thresholds 0.50:0.05:0.95, computed as numpy's linspace computes them (0.8999999999999999 included). */
export const IOU_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, i) => (i === 9 ? 0.95 : i * ((0.95 - 0.5) / 9) + 0.5));
/** Recall points 0:0.01:1 as numpy's linspace (i * 0.01, e.g. 0.35000000000000003). */
export const RECALL_THRESHOLDS: readonly number[] = Array.from({ length: 101 }, (_, i) => (i === 100 ? 1 : i * 0.01));
/** np.spacing(1), added to the precision's denominator as pycocotools does. */
const EPS = Number.EPSILON;

interface Dt {
  readonly score: number;
  readonly bbox: CocoBbox;
  readonly mask: RunLengthMask | undefined;
}

/** What pycocotools' evaluateImg returns for one (image, category), detections in score order. */
interface ImageEval {
  readonly scores: Float64Array;
  /** [threshold][detection] 1 when matched to a ground truth. */
  readonly matched: Uint8Array;
  /** [threshold][detection] 1 when matched to a crowd region (neither TP nor FP). */
  readonly ignored: Uint8Array;
  readonly numGt: number;
}

/**
 * COCO detection evaluation as pycocotools' COCOeval (`evaluate()` then `accumulate()`) for one
 * area range ('all') and one maxDets: per image and category, detections sorted by score
 * (stable) and cut to maxDets, each matched greedily in score order to the unmatched ground
 * truth of highest IoU >= the threshold; precision over all images per category, made
 * monotone, read at 101 recall points (first recall >= the point, 0 past the last recall).
 * Detections of categories not in `gt.categories` are ignored; an image id absent from
 * `gt.images` throws (pycocotools' loadRes asserts the same).
 */
export function evaluateCoco(gt: CocoGroundTruth, results: readonly CocoResult[], options: CocoEvalOptions): CocoEvalSummary {
  const { iouType } = options;
  const maxDets = options.maxDets ?? 100;
  if (!Number.isInteger(maxDets) || maxDets < 1) throw new RangeError(`maxDets must be a positive integer, got ${maxDets}`);
  const images = new Map(gt.images.map((im) => [im.id, im]));
  const imageIds = [...images.keys()].sort((a, b) => a - b);
  const categories = [...new Map(gt.categories.map((c) => [c.id, c])).values()].sort((a, b) => a.id - b.id);
  const catIds = new Set(categories.map((c) => c.id));

  const gts = new Map<string, CocoGtAnnotation[]>();
  for (const a of gt.annotations) {
    const im = images.get(a.image_id);
    if (im === undefined) throw new RangeError(`ground truth for image ${a.image_id}, which is not among the images`);
    if (!catIds.has(a.category_id)) continue;
    if (iouType === 'segm') {
      if (a.mask === undefined) throw new TypeError(`ground truth in image ${a.image_id} has no mask`);
      checkSize(a.mask, im, 'ground-truth mask');
    }
    push(gts, key(a.image_id, a.category_id), a);
  }
  const dts = new Map<string, Dt[]>();
  for (const r of results) {
    const im = images.get(r.image_id);
    if (im === undefined) throw new RangeError(`result for image ${r.image_id}, which is not in the ground truth`);
    if (!catIds.has(r.category_id)) continue;
    let mask: RunLengthMask | undefined;
    if (iouType === 'segm') {
      if (r.segmentation === undefined) throw new TypeError(`result in image ${r.image_id} has no segmentation`);
      mask = runLengthsFromRle(r.segmentation);
      checkSize(mask, im, 'result mask');
    }
    push(dts, key(r.image_id, r.category_id), { score: r.score, bbox: r.bbox, mask });
  }

  const out: CocoCategoryAp[] = [];
  for (const cat of categories) {
    const evals: ImageEval[] = [];
    for (const imageId of imageIds) {
      const g = gts.get(key(imageId, cat.id)) ?? [];
      const d = dts.get(key(imageId, cat.id)) ?? [];
      if (g.length === 0 && d.length === 0) continue;
      evals.push(evaluateImage(g, d, iouType, maxDets));
    }
    const acc = accumulateCategory(evals);
    if (acc === null) continue;
    const t50 = acc.ap[0]!;
    const t75 = acc.ap[5]!;
    out.push({
      categoryId: cat.id,
      ...(cat.name !== undefined ? { name: cat.name } : {}),
      numGt: acc.numGt,
      ap: mean(acc.ap),
      ap50: t50,
      ap75: t75,
      recall: mean(acc.recall),
    });
  }
  const over = (f: (c: CocoCategoryAp) => number) => (out.length === 0 ? -1 : mean(out.map(f)));
  return { iouType, maxDets, map: over((c) => c.ap), map50: over((c) => c.ap50), map75: over((c) => c.ap75), mar: over((c) => c.recall), categories: out };
}

/** Box and mask evaluation of the same results (pycocotools run twice, iouType 'bbox' and 'segm'). */
export function evaluateCocoSegmentation(gt: CocoGroundTruth, results: readonly CocoResult[], options: { maxDets?: number } = {}): { box: CocoEvalSummary; mask: CocoEvalSummary } {
  return { box: evaluateCoco(gt, results, { ...options, iouType: 'bbox' }), mask: evaluateCoco(gt, results, { ...options, iouType: 'segm' }) };
}

function evaluateImage(gtIn: readonly CocoGtAnnotation[], dtIn: readonly Dt[], iouType: CocoIouType, maxDets: number): ImageEval {
  // Non-crowd ground truth first, each group in its original order (numpy mergesort is stable).
  const gt = [...gtIn.filter((g) => !g.iscrowd), ...gtIn.filter((g) => g.iscrowd)];
  const dt = [...dtIn].sort((a, b) => b.score - a.score).slice(0, maxDets);
  const G = gt.length;
  const D = dt.length;
  const T = IOU_THRESHOLDS.length;
  const crowd = gt.map((g) => g.iscrowd === true);
  const ious = new Float64Array(D * G);
  for (let d = 0; d < D; d++) {
    for (let g = 0; g < G; g++) {
      ious[d * G + g] = iouType === 'bbox' ? boxIou(dt[d]!.bbox, gt[g]!.bbox, crowd[g]) : maskIou(dt[d]!.mask!, gt[g]!.mask!, crowd[g]);
    }
  }
  const matched = new Uint8Array(T * D);
  const ignored = new Uint8Array(T * D);
  const gtTaken = new Uint8Array(G);
  for (let t = 0; t < T; t++) {
    gtTaken.fill(0);
    for (let d = 0; d < D; d++) {
      let best = Math.min(IOU_THRESHOLDS[t]!, 1 - 1e-10);
      let m = -1;
      for (let g = 0; g < G; g++) {
        if (gtTaken[g] && !crowd[g]) continue;
        // Already matched to a real ground truth: crowd regions (sorted last) cannot take it.
        if (m > -1 && !crowd[m] && crowd[g]) break;
        const iou = ious[d * G + g]!;
        if (iou < best) continue;
        best = iou;
        m = g;
      }
      if (m === -1) continue;
      matched[t * D + d] = 1;
      ignored[t * D + d] = crowd[m] ? 1 : 0;
      gtTaken[m] = 1;
    }
  }
  return { scores: Float64Array.from(dt, (x) => x.score), matched, ignored, numGt: crowd.filter((c) => !c).length };
}

/** pycocotools' accumulate for one category: AP and final recall per IoU threshold; null without ground truth. */
function accumulateCategory(evals: readonly ImageEval[]): { ap: number[]; recall: number[]; numGt: number } | null {
  const numGt = evals.reduce((s, e) => s + e.numGt, 0);
  if (numGt === 0) return null;
  // Concatenate in image order, then sort by score, stably (np.argsort(-scores, kind='mergesort')).
  const owners: { e: ImageEval; d: number; score: number }[] = [];
  for (const e of evals) for (let d = 0; d < e.scores.length; d++) owners.push({ e, d, score: e.scores[d]! });
  owners.sort((a, b) => b.score - a.score);
  const nd = owners.length;
  const R = RECALL_THRESHOLDS.length;
  const ap: number[] = [];
  const recall: number[] = [];
  const rc = new Float64Array(nd);
  const pr = new Float64Array(nd);
  for (let t = 0; t < IOU_THRESHOLDS.length; t++) {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < nd; i++) {
      const { e, d } = owners[i]!;
      const D = e.scores.length;
      if (!e.ignored[t * D + d]) {
        if (e.matched[t * D + d]) tp++;
        else fp++;
      }
      rc[i] = tp / numGt;
      pr[i] = tp / (fp + tp + EPS);
    }
    recall.push(nd > 0 ? rc[nd - 1]! : 0);
    for (let i = nd - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
    // np.searchsorted(rc, recThrs, side='left'): first index with rc >= the point; 0 past the end.
    let sum = 0;
    let p = 0;
    for (let r = 0; r < R; r++) {
      while (p < nd && rc[p]! < RECALL_THRESHOLDS[r]!) p++;
      if (p >= nd) break;
      sum += pr[p]!;
    }
    ap.push(sum / R);
  }
  return { ap, recall, numGt };
}

function checkSize(mask: RunLengthMask, im: CocoImage, what: string): void {
  if (mask.width !== im.width || mask.height !== im.height) {
    throw new RangeError(`${what} in image ${im.id} is ${mask.width}x${mask.height}, the image is ${im.width}x${im.height}`);
  }
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function key(imageId: number, categoryId: number): string {
  return `${imageId}:${categoryId}`;
}

function push<T>(map: Map<string, T[]>, k: string, v: T): void {
  const list = map.get(k);
  if (list === undefined) map.set(k, [v]);
  else list.push(v);
}
