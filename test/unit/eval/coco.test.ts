import { describe, expect, it } from 'vitest';
import {
  boxIou,
  evaluateCoco,
  evaluateCocoSegmentation,
  IOU_THRESHOLDS,
  maskIou,
  parseCocoResults,
  RECALL_THRESHOLDS,
  rleIou,
  runLengthsFromBitmap,
  runLengthsFromRle,
  type CocoBbox,
  type CocoGroundTruth,
  type CocoGtAnnotation,
  type CocoResult,
} from '../../../src/eval/index.js';
import { encodeMask } from '../../../src/publish/rle.js';

// Precision is tp / (tp + fp + 2^-52) as in pycocotools, so a "1" is 1 - 2^-52: compare to 12 places.
const P = 12;
const A: CocoBbox = [0, 0, 10, 10];
const B: CocoBbox = [20, 20, 10, 10];
const C: CocoBbox = [40, 40, 10, 10];
const EMPTY: CocoBbox = [70, 70, 10, 10];

function gtOf(annotations: Partial<CocoGtAnnotation>[], categories = [1], images = [1]): CocoGroundTruth {
  return {
    images: images.map((id) => ({ id, width: 100, height: 100 })),
    categories: categories.map((id) => ({ id })),
    annotations: annotations.map((a) => ({ image_id: 1, category_id: 1, bbox: A, ...a })),
  };
}
const det = (bbox: CocoBbox, score: number, extra: Partial<CocoResult> = {}): CocoResult => ({ image_id: 1, category_id: 1, bbox, score, ...extra });
const box = (gt: CocoGroundTruth, dets: CocoResult[], maxDets = 300) => evaluateCoco(gt, dets, { iouType: 'bbox', maxDets });

describe('COCO thresholds', () => {
  it('are numpy linspace values, including its float artefacts', () => {
    expect(IOU_THRESHOLDS).toEqual([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95]);
    expect(RECALL_THRESHOLDS).toHaveLength(101);
    expect(RECALL_THRESHOLDS[35]).toBe(0.35000000000000003);
    expect(RECALL_THRESHOLDS[50]).toBe(0.5);
    expect(RECALL_THRESHOLDS[100]).toBe(1);
  });
});

describe('evaluateCoco (bbox) reproduces pycocotools on hand-computed cases', () => {
  it('a perfect detection scores AP 1 at every threshold', () => {
    const s = box(gtOf([{ bbox: A }]), [det(A, 0.9)]);
    expect(s.map).toBeCloseTo(1, P);
    expect(s.map50).toBeCloseTo(1, P);
    expect(s.map75).toBeCloseTo(1, P);
    expect(s.mar).toBe(1);
    expect(s.categories).toHaveLength(1);
    expect(s.categories[0]!.numGt).toBe(1);
  });

  it('a false positive ranked before the only true positive halves AP', () => {
    // Order FP, TP: recall [0, 1], precision [0, 1/2] -> envelope [1/2, 1/2]. Point 0 reads
    // index 0 (recall 0 >= 0), points 0.01..1 read index 1: all 101 points give 1/2.
    const s = box(gtOf([{ bbox: A }]), [det(EMPTY, 0.9), det(A, 0.8)]);
    expect(s.map).toBeCloseTo(0.5, P);
  });

  it('a false positive ranked after the only true positive costs nothing', () => {
    // Order TP, FP: recall [1, 1], precision [1, 1/2]; every point reads index 0 -> AP 1.
    const s = box(gtOf([{ bbox: A }]), [det(A, 0.9), det(EMPTY, 0.8)]);
    expect(s.map).toBeCloseTo(1, P);
  });

  it('a false positive between two true positives: 101-point interpolation', () => {
    // Order TP(A), FP, TP(B); 2 GT: recall [1/2, 1/2, 1], precision [1, 1/2, 2/3] ->
    // envelope [1, 2/3, 2/3]. Points 0.00..0.50 (51 of them) read index 0 -> 1; points
    // 0.51..1.00 (50) read index 2 -> 2/3. AP = (51 + 50 * 2/3) / 101 = 253/303.
    const s = box(gtOf([{ bbox: A }, { bbox: B }]), [det(A, 0.9), det(EMPTY, 0.8), det(B, 0.7)]);
    expect(s.map).toBeCloseTo(253 / 303, P);
    expect(253 / 303).toBeCloseTo(0.834983498, 9);
  });

  it('recall that stops short gives 0 past the last recall', () => {
    // 2 GT, one found: recall [1/2]; points 0..0.50 (51) read 1, the other 50 read nothing -> 0.
    const s = box(gtOf([{ bbox: A }, { bbox: B }]), [det(A, 0.9)]);
    expect(s.map).toBeCloseTo(51 / 101, P);
    expect(s.mar).toBe(0.5);
  });

  it('mAP is the mean over categories that have ground truth', () => {
    // Category 1: AP 1. Category 2: 2 GT, one found -> 51/101. Mean (1 + 51/101) / 2 = 76/101.
    const gt = gtOf([{ bbox: A }, { bbox: B, category_id: 2 }, { bbox: C, category_id: 2 }], [1, 2]);
    const s = box(gt, [det(A, 0.9), det(B, 0.9, { category_id: 2 })]);
    expect(s.categories.map((c) => [c.categoryId, c.numGt])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(s.categories[0]!.ap).toBeCloseTo(1, P);
    expect(s.categories[1]!.ap).toBeCloseTo(51 / 101, P);
    expect(s.map).toBeCloseTo(76 / 101, P);
  });

  it('maxDets keeps only the highest-scoring detections of each image', () => {
    // FP 0.9, FP 0.8, TP 0.7 with 1 GT. maxDets 2 cuts the TP: AP 0. maxDets 3: recall
    // [0, 0, 1], precision [0, 0, 1/3] -> envelope 1/3 everywhere -> AP 1/3.
    const gt = gtOf([{ bbox: A }]);
    const dets = [det(EMPTY, 0.9), det(B, 0.8), det(A, 0.7)];
    expect(box(gt, dets, 2).map).toBe(0);
    expect(box(gt, dets, 3).map).toBeCloseTo(1 / 3, P);
    // The cut is by score, not by file order.
    expect(box(gt, [det(A, 0.7), det(EMPTY, 0.9), det(B, 0.8)], 2).map).toBe(0);
  });

  it('maxDets is per image: another image keeps its own detections', () => {
    // Image 2 (its GT found by its only detection) is unaffected by image 1's cut. Over both:
    // order by score 0.95 TP(img2), 0.9 FP, 0.8 FP: recall [1/2, 1/2, 1/2] -> 51/101.
    const gt: CocoGroundTruth = { ...gtOf([{ bbox: A }], [1], [1, 2]), annotations: [{ image_id: 1, category_id: 1, bbox: A }, { image_id: 2, category_id: 1, bbox: A }] };
    const dets = [det(EMPTY, 0.9), det(B, 0.8), det(A, 0.7), det(A, 0.95, { image_id: 2 })];
    expect(box(gt, dets, 2).map).toBeCloseTo(51 / 101, P);
  });

  it('a duplicate detection of a matched ground truth is a false positive', () => {
    // TP(A) 0.9, duplicate of A 0.8, TP(B) 0.7 with 2 GT: as TP, FP, TP -> 253/303.
    const s = box(gtOf([{ bbox: A }, { bbox: B }]), [det(A, 0.9), det(A, 0.8), det(B, 0.7)]);
    expect(s.map).toBeCloseTo(253 / 303, P);
  });

  it('detections of a category without ground truth are ignored', () => {
    // Category 2 is listed but has no GT (left out of the mean); category 3 is not listed at all.
    const gt = gtOf([{ bbox: A }], [1, 2]);
    const s = box(gt, [det(A, 0.5), det(A, 0.9, { category_id: 2 }), det(B, 0.9, { category_id: 3 })]);
    expect(s.categories.map((c) => c.categoryId)).toEqual([1]);
    expect(s.map).toBeCloseTo(1, P);
  });

  it('an IoU of exactly 0.7 matches at thresholds up to 0.70 and no higher (>=, not >)', () => {
    // GT 10x10, detection 10x7 inside it: IoU 70/100 = 0.7; matched at 0.50..0.70 (5 of 10).
    const s = box(gtOf([{ bbox: A }]), [det([0, 0, 10, 7], 0.9)]);
    expect(boxIou([0, 0, 10, 7], A)).toBe(0.7);
    expect(s.map50).toBeCloseTo(1, P);
    expect(s.map75).toBe(0);
    expect(s.map).toBeCloseTo(0.5, P);
  });

  it('each detection takes the unmatched ground truth of highest IoU', () => {
    // GT X = [0,0,10,10], Y = [4,0,10,10]. D1 [3,0,10,10] (IoU X 7/13, Y 9/11) takes Y; D2 = X takes X.
    // At IoU 0.5 both match: AP50 1. If D1 had taken X, D2 (IoU with Y 6/14 < 0.5) would be an FP.
    const s = box(gtOf([{ bbox: [0, 0, 10, 10] }, { bbox: [4, 0, 10, 10] }]), [det([3, 0, 10, 10], 0.9), det([0, 0, 10, 10], 0.8)]);
    expect(s.map50).toBeCloseTo(1, P);
  });

  it('a detection on a crowd region is neither a true nor a false positive', () => {
    // GT A plus a crowd region at EMPTY. The detection at EMPTY (0.9) is ignored: the curve is
    // recall [0, 1], precision [0, 1] -> envelope 1 -> AP 1. Without the crowd region it is
    // an FP ranked first -> 1/2.
    const dets = [det(EMPTY, 0.9), det(A, 0.8)];
    expect(box(gtOf([{ bbox: A }, { bbox: [60, 60, 30, 30], iscrowd: true }]), dets).map).toBeCloseTo(1, P);
    expect(box(gtOf([{ bbox: A }]), dets).map).toBeCloseTo(0.5, P);
    // Crowd IoU is over the detection's area: a detection inside the region has IoU 1.
    expect(boxIou(EMPTY, [60, 60, 30, 30], true)).toBe(1);
    expect(boxIou(EMPTY, [60, 60, 30, 30], false)).toBe(100 / 900);
  });

  it('a detection matched to a real ground truth does not move on to a crowd region', () => {
    // A = [0,0,10,10]; crowd region [0,0,20,20]; detection [0,0,10,6]: IoU with A 0.6, with the
    // crowd region (over the detection's area) 1. At 0.50, 0.55, 0.60 it stays with A (TP, AP 1);
    // from 0.65 A is out of reach and the crowd region takes it (ignored; A missed: AP 0).
    // mAP = 3/10. Were it allowed to move on to the crowd region, every threshold would give 0.
    const s = box(gtOf([{ bbox: A }, { bbox: [0, 0, 20, 20], iscrowd: true }]), [det([0, 0, 10, 6], 0.9)]);
    expect(s.map).toBeCloseTo(0.3, P);
    expect(s.categories[0]!.numGt).toBe(1);
  });

  it('no category with ground truth gives -1, as pycocotools', () => {
    expect(box(gtOf([]), [det(A, 0.9)]).map).toBe(-1);
  });

  it('a result for an image not in the ground truth throws', () => {
    expect(() => box(gtOf([{ bbox: A }]), [det(A, 0.9, { image_id: 7 })])).toThrow(RangeError);
  });
});

describe('mask IoU on run lengths', () => {
  // 4x4 frames. P = rows 0-1, cols 0-1; Q = rows 1-2, cols 1-2. Both 4 px, overlap at (1,1).
  const bitmap = (cells: [number, number][]) => {
    const b = new Uint8Array(16);
    for (const [x, y] of cells) b[y * 4 + x] = 1;
    return b;
  };
  const Pm = bitmap([[0, 0], [1, 0], [0, 1], [1, 1]]);
  const Qm = bitmap([[1, 1], [2, 1], [1, 2], [2, 2]]);

  it('encodes column-major runs starting with zeros', () => {
    // P: column 0 holds indices 0,1, column 1 holds 4,5 -> runs 0,2,2,2,10.
    expect(runLengthsFromBitmap(Pm, 4, 4).counts).toEqual([0, 2, 2, 2, 10]);
    // Q: indices 5,6 and 9,10 -> runs 5,2,2,2,5.
    expect(runLengthsFromBitmap(Qm, 4, 4).counts).toEqual([5, 2, 2, 2, 5]);
  });

  it('intersection over union 1/7; over the detection area 1/4 for a crowd', () => {
    const p = runLengthsFromBitmap(Pm, 4, 4);
    const q = runLengthsFromBitmap(Qm, 4, 4);
    expect(maskIou(p, q)).toBe(1 / 7);
    expect(maskIou(q, p)).toBe(1 / 7);
    expect(maskIou(p, q, true)).toBe(1 / 4);
    expect(maskIou(p, p)).toBe(1);
    expect(maskIou(p, runLengthsFromBitmap(new Uint8Array(16), 4, 4))).toBe(0);
  });

  it('reads compressed RLE strings (through the publisher encoder) to the same runs', () => {
    const rle = encodeMask({ x: 0, y: 0, width: 4, height: 4, data: Qm }, 4, 4);
    expect(runLengthsFromRle(rle).counts).toEqual([5, 2, 2, 2, 5]);
    expect(rleIou(encodeMask({ x: 0, y: 0, width: 4, height: 4, data: Pm }, 4, 4), rle)).toBe(1 / 7);
    expect(() => runLengthsFromRle({ size: [4, 5], counts: rle.counts })).toThrow(RangeError);
  });

  it('segm evaluation matches on mask IoU, bbox evaluation on boxes', () => {
    // GT mask 2x2 at the top-left of a 4x4 image; the detection's mask is 3 wide, 2 high over it:
    // IoU 4/6 = 2/3 -> matched at 0.50..0.65 (4 of 10 thresholds): AP 0.4, AP50 1, AP75 0.
    // Its box is given equal to the GT box, so the box evaluation scores 1.
    const gtMask = runLengthsFromBitmap(Pm, 4, 4);
    const wide = bitmap([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]]);
    const gt: CocoGroundTruth = {
      images: [{ id: 1, width: 4, height: 4 }],
      categories: [{ id: 1 }],
      annotations: [{ image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], mask: gtMask }],
    };
    const r = [det([0, 0, 2, 2], 0.9, { segmentation: encodeMask({ x: 0, y: 0, width: 4, height: 4, data: wide }, 4, 4) })];
    const { box: b, mask: m } = evaluateCocoSegmentation(gt, r, { maxDets: 300 });
    expect(b.map).toBeCloseTo(1, P);
    expect(m.map).toBeCloseTo(0.4, P);
    expect(m.map50).toBeCloseTo(1, P);
    expect(m.map75).toBe(0);
    // A mask of another size than the image is an error, not a miss.
    const bad = [det([0, 0, 2, 2], 0.9, { segmentation: encodeMask({ x: 0, y: 0, width: 4, height: 4, data: wide }, 5, 4) })];
    expect(() => evaluateCoco(gt, bad, { iouType: 'segm' })).toThrow(/5x4/);
  });
});

describe('parseCocoResults', () => {
  it('accepts the results format with segstream extras and rejects a broken entry', () => {
    const ok = [{ image_id: 9, file_name: '000000000009.jpg', category_id: 0, category_name: 'person', bbox: [1, 2, 3, 4], score: 0.5, segmentation: { size: [4, 4], counts: '05' } }];
    expect(parseCocoResults(ok)).toHaveLength(1);
    expect(() => parseCocoResults([{ image_id: 9, category_id: 0, bbox: [1, 2, 3], score: 0.5 }])).toThrow(/bbox/);
    expect(() => parseCocoResults({})).toThrow(TypeError);
  });
});
