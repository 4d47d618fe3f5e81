/**
 * segstream's accuracy on coco128-seg, through the real `segstream segment` CLI (the live
 * path's letterbox, inference and mask decoding), scored with the project's COCO evaluator
 * (pycocotools' numbers) and compared detection by detection with the float64 reference
 * (test/helpers/segReference.ts, written independently of the fast path).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCocoSegmentation, listImages, loadYoloSegDataset, parseCocoResults, readClassNames, type CocoResult, type YoloSegDataset } from '../../src/eval/index.js';
import { matchDetections, referenceSegment } from '../helpers/segReference.js';

const ROOT = join(import.meta.dirname, '../..');
const COCO128 = join(ROOT, '../shared/data/seg/coco128-seg');
const IMAGES = join(COCO128, 'images/train2017');
const MODEL = join(ROOT, '../shared/models/yolov8n-seg-320.onnx');
const dir = mkdtempSync(join(tmpdir(), 'segstream-acc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the float64 reference scores with the same evaluator (test/integration/segReference.test.ts). */
const REFERENCE = { box: 0.3464, mask: 0.2553 };

describe('segstream segment on coco128-seg', () => {
  let ours: CocoResult[];
  let gt: YoloSegDataset;

  beforeAll(async () => {
    const out = join(dir, 'results.json');
    const gtLoad = loadYoloSegDataset(IMAGES, { names: readClassNames(join(COCO128, 'coco128-seg.yaml')) });
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'segment', IMAGES, '--out', out, '--model', MODEL, '--conf', '0.001', '--iou', '0.7', '--max-det', '300'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    ours = parseCocoResults(JSON.parse(readFileSync(out, 'utf8')));
    gt = await gtLoad;
  }, 240_000);

  it('scores box mAP50-95 >= 0.3455 (the reference: 0.3464) and a mask mAP50-95 above the reference, at conf 0.001 with 300 detections', () => {
    const { box, mask } = evaluateCocoSegmentation(gt, ours, { maxDets: 300 });
    // Measured: box 0.3463, mask 0.2612 (mAP50 0.4793 / 0.4170).
    expect(box.map).toBeGreaterThanOrEqual(0.3455);
    expect(box.map).toBeGreaterThan(REFERENCE.box - 0.001);
    // The masks are assembled at source resolution and cut at the box there, not at 1/4 scale.
    expect(mask.map).toBeGreaterThan(REFERENCE.mask + 0.004);
  });

  it("finds >= 98 % of the reference's detections at conf 0.25 with the same class, masks with mean IoU >= 0.93 against its native-resolution (retina) masks", async () => {
    // Filtering conf-0.001 results at 0.25 is what a conf-0.25 run gives: NMS suppresses a box
    // only by higher-scored ones, and 300 detections hold every box above 0.25 here.
    const at25 = ours.filter((d) => d.score > 0.25);
    const [retina, plain] = await Promise.all([
      referenceSegment(listImages(IMAGES), { model: MODEL, conf: 0.25, iou: 0.7, maxDet: 300, retinaMasks: true }),
      referenceSegment(listImages(IMAGES), { model: MODEL, conf: 0.25, iou: 0.7, maxDet: 300 }),
    ]);
    const vsRetina = matchDetections(retina.results, at25);
    expect(vsRetina.reference).toBeGreaterThan(400);
    expect(vsRetina.found).toBeGreaterThanOrEqual(0.98);
    expect(vsRetina.meanMaskIou).toBeGreaterThanOrEqual(0.93);
    // Ultralytics' default masks are cut at the box on the 80x80 prototypes, then upsampled:
    // their edges along the box differ from segstream's by a few source px (measured: 0.887).
    const vsPlain = matchDetections(plain.results, at25);
    expect(vsPlain.found).toBeGreaterThanOrEqual(0.98);
    expect(vsPlain.meanMaskIou).toBeGreaterThan(0.85);
  }, 240_000);
});
