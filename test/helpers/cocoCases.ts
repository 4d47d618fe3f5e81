/**
 * A seeded, non-trivial COCO evaluation case (ground truth with masks and crowd regions,
 * detections with duplicates, near misses, tied scores and false positives), small enough to
 * write out as JSON for pycocotools (test/fixtures/coco_eval_ref.py) and to keep pycocotools'
 * answers as constants in test/unit/eval/cocoPycocotools.test.ts.
 */
import { rasterizePolygon, runLengthsFromBitmap, type CocoGroundTruth, type CocoGtAnnotation, type CocoResult } from '../../src/eval/index.js';
import { countsToString, encodeMask } from '../../src/publish/rle.js';
import { rng } from './random.js';

export interface CocoCase {
  readonly gt: CocoGroundTruth;
  readonly results: CocoResult[];
}

/** A quadrilateral near the box [x, y, w, h] (corners moved by up to a quarter of the size). */
function quad(r: () => number, x: number, y: number, w: number, h: number): number[] {
  const j = (s: number) => (r() - 0.5) * 0.5 * s;
  return [x + j(w), y + j(h), x + w + j(w), y + j(h), x + w + j(w), y + h + j(h), x + j(w), y + h + j(h)];
}

function bboxOf(p: number[], W: number, H: number): [number, number, number, number] {
  const xs = p.filter((_, i) => i % 2 === 0).map((v) => Math.min(Math.max(v, 0), W));
  const ys = p.filter((_, i) => i % 2 === 1).map((v) => Math.min(Math.max(v, 0), H));
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  return [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0];
}

export function randomCocoCase(seed = 7, numImages = 16): CocoCase {
  const r = rng(seed);
  const images = Array.from({ length: numImages }, (_, i) => ({ id: i + 1, width: 40 + Math.floor(r() * 20), height: 30 + Math.floor(r() * 20) }));
  // Category 4 never has ground truth; detections of 9 are of no listed category.
  const categories = [1, 2, 3, 4].map((id) => ({ id, name: `c${id}` }));
  const annotations: CocoGtAnnotation[] = [];
  const results: CocoResult[] = [];
  const score = () => Math.round(r() * 20) / 20; // coarse: many ties
  for (const im of images) {
    const detect = (poly: number[], cat: number) => {
      const bits = rasterizePolygon(poly, im.width, im.height);
      results.push({
        image_id: im.id,
        category_id: cat,
        bbox: bboxOf(poly, im.width, im.height),
        score: score(),
        segmentation: encodeMask({ x: 0, y: 0, width: im.width, height: im.height, data: bits }, im.width, im.height),
      });
    };
    const n = im.id === numImages ? 0 : 1 + Math.floor(r() * 7); // the last image has no ground truth
    for (let k = 0; k < n; k++) {
      const w = 6 + r() * 18;
      const h = 6 + r() * 18;
      const x = r() * (im.width - w);
      const y = r() * (im.height - h);
      const cat = 1 + Math.floor(r() * 3);
      const poly = quad(r, x, y, w, h);
      const mask = runLengthsFromBitmap(rasterizePolygon(poly, im.width, im.height), im.width, im.height);
      const crowd = r() < 0.15;
      annotations.push({ image_id: im.id, category_id: cat, bbox: bboxOf(poly, im.width, im.height), mask, ...(crowd ? { iscrowd: true } : {}) });
      // 0 to 3 detections of it, each a jittered copy (some good, some near misses).
      const copies = Math.floor(r() * 4);
      for (let c = 0; c < copies; c++) {
        const s = c === 0 ? 0.15 : 0.5;
        detect(quad(r, x + (r() - 0.5) * s * w, y + (r() - 0.5) * s * h, w * (1 + (r() - 0.5) * s), h * (1 + (r() - 0.5) * s)), r() < 0.9 ? cat : 1 + Math.floor(r() * 3));
      }
    }
    // False positives, some of the category without ground truth or of no listed category.
    const fps = Math.floor(r() * 4);
    for (let k = 0; k < fps; k++) {
      const w = 5 + r() * 15;
      const h = 5 + r() * 15;
      const u = r();
      detect(quad(r, r() * (im.width - w), r() * (im.height - h), w, h), u < 0.1 ? 9 : u < 0.2 ? 4 : 1 + Math.floor(r() * 3));
    }
  }
  return { gt: { images, categories, annotations }, results };
}

/** The case as pycocotools reads it: a ground-truth dataset dict and a results list. */
export function cocoCaseJson(c: CocoCase): { gt: unknown; results: unknown } {
  let id = 1;
  return {
    gt: {
      images: c.gt.images,
      categories: c.gt.categories,
      annotations: c.gt.annotations.map((a) => ({
        id: id++,
        image_id: a.image_id,
        category_id: a.category_id,
        bbox: a.bbox,
        area: a.mask!.area,
        iscrowd: a.iscrowd ? 1 : 0,
        segmentation: { size: [a.mask!.height, a.mask!.width], counts: countsToString(a.mask!.counts) },
      })),
    },
    results: c.results,
  };
}
