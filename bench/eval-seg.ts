/**
 * npm run eval:seg [-- --model M --data DIR --results FILE --reference --reference-only
 *                     --retina-masks --conf C --iou I --max-det N --per-class]
 *
 * Box and mask mAP on a YOLO-format segmentation data set (default ../shared/data/seg/coco128-seg)
 * with the project's COCO evaluator (pycocotools' COCOeval: IoU 0.50:0.95, 101 recall points,
 * area 'all', maxDets = --max-det; ground-truth masks are the label polygons rasterised at image
 * resolution). Rows:
 * - segstream: `node bin/segstream.js segment DIR --out results.json --conf --iou --max-det
 *   [--model]` (the live path's preprocessing, inference and decoding), or the given --results
 *   file (COCO results JSON) instead;
 * - with --reference: the float64 re-implementation of Ultralytics' pipeline
 *   (test/helpers/segReference.ts: OpenCV letterbox through /usr/bin/python3, onnxruntime,
 *   float64 post-processing); --retina-masks switches it to Ultralytics' retina_masks path;
 *   --reference-only leaves the segstream row out.
 * Seconds are the segmentation's wall time (not the evaluation's).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/config/index.js';
import {
  evaluateCocoSegmentation,
  listImages,
  loadYoloSegDataset,
  parseCocoResults,
  readClassNames,
  type CocoEvalSummary,
  type CocoResult,
  type YoloSegDataset,
} from '../src/eval/index.js';
import { matchDetections, referenceSegment } from '../test/helpers/segReference.js';

const SHARED = join(PACKAGE_ROOT, '../shared');

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: join(SHARED, 'models/yolov8n-seg-320.onnx') },
    data: { type: 'string', default: join(SHARED, 'data/seg/coco128-seg/images/train2017') },
    names: { type: 'string' },
    results: { type: 'string' },
    reference: { type: 'boolean', default: false },
    'reference-only': { type: 'boolean', default: false },
    'retina-masks': { type: 'boolean', default: false },
    conf: { type: 'string', default: '0.001' },
    iou: { type: 'string', default: '0.7' },
    'max-det': { type: 'string', default: '300' },
    'per-class': { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`eval:seg: ${message}`);
  process.exit(2);
}

const conf = Number(args.conf);
const iou = Number(args.iou);
const maxDet = Number(args['max-det']);
if (!(conf >= 0 && conf < 1)) fail(`--conf takes a score in [0, 1), got '${args.conf}'`);
if (!(iou > 0 && iou <= 1)) fail(`--iou takes an IoU in (0, 1], got '${args.iou}'`);
if (!Number.isInteger(maxDet) || maxDet < 1) fail(`--max-det takes a positive integer, got '${args['max-det']}'`);
if (!existsSync(args.data)) fail(`no image folder ${args.data}`);
if (!existsSync(args.model)) fail(`no model ${args.model}`);

/** The data set's YAML: --names, else the first *.yaml two folders above the images (dataset root). */
function namesFile(): string | undefined {
  if (args.names !== undefined) return args.names;
  const root = dirname(dirname(args.data));
  const yaml = existsSync(root) ? readdirSync(root).find((f) => f.endsWith('.yaml') || f.endsWith('.yml')) : undefined;
  return yaml === undefined ? undefined : join(root, yaml);
}

interface Row {
  name: string;
  results: CocoResult[];
  seconds: number | null;
}

function runCli(): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'segstream-eval-seg-'));
  const out = join(dir, 'results.json');
  const cliArgs = [join(PACKAGE_ROOT, 'bin/segstream.js'), 'segment', args.data, '--out', out, '--conf', String(conf), '--iou', String(iou), '--max-det', String(maxDet), '--model', args.model];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, cliArgs, { maxBuffer: 64 << 20 }, (err, _stdout, stderr) => {
      const seconds = (performance.now() - t0) / 1000;
      try {
        if (err) {
          const said = stderr.split('\n').find((l) => /error/i.test(l)) ?? stderr.trim().split('\n').at(-1) ?? '';
          throw new Error(`\`segstream segment\` exited ${err.code ?? '?'}: ${said.trim()} (give --results FILE to score a results file instead)`);
        }
        resolve({ name: 'segstream', results: parseCocoResults(JSON.parse(readFileSync(out, 'utf8'))), seconds });
      } catch (e) {
        reject(e as Error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

const fmt = (v: number) => (v < 0 ? '-' : v.toFixed(4));
const names = namesFile();
const gt: YoloSegDataset = await loadYoloSegDataset(args.data, names === undefined ? {} : { names: readClassNames(names) });
const rows: Row[] = [];
const errors: string[] = [];
if (!args['reference-only']) {
  if (args.results !== undefined) rows.push({ name: `segstream (${args.results})`, results: parseCocoResults(JSON.parse(readFileSync(args.results, 'utf8'))), seconds: null });
  else {
    try {
      rows.push(await runCli());
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
}
if (args.reference || args['reference-only']) {
  const t0 = performance.now();
  const ref = await referenceSegment(listImages(args.data), { model: args.model, conf, iou, maxDet, retinaMasks: args['retina-masks'] });
  rows.push({ name: `float64 reference${args['retina-masks'] ? ' (retina masks)' : ''}`, results: ref.results, seconds: (performance.now() - t0) / 1000 });
}

const scored = rows.map((r) => ({ ...r, ...evaluateCocoSegmentation(gt, r.results, { maxDets: maxDet }) }));
const lines = [
  `${args.data}: ${gt.images.length} images, ${gt.annotations.length} instances; model ${args.model}; conf ${conf}, iou ${iou}, max ${maxDet} detections; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
  '',
  '| run | box mAP50 | box mAP50-95 | mask mAP50 | mask mAP50-95 | images | detections | seconds |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...scored.map((s) => `| ${s.name} | ${fmt(s.box.map50)} | ${fmt(s.box.map)} | ${fmt(s.mask.map50)} | ${fmt(s.mask.map)} | ${new Set(s.results.map((r) => r.image_id)).size} | ${s.results.length} | ${s.seconds === null ? '-' : s.seconds.toFixed(1)} |`),
];
const refRow = scored.find((s) => s.name.startsWith('float64'));
for (const s of scored) {
  if (s === refRow || refRow === undefined) continue;
  // Detection by detection at conf 0.25 (issue 10's agreement measure): NMS is greedy by score,
  // so the detections above 0.25 are the same whatever lower threshold produced the set.
  const above = (rs: CocoResult[]) => rs.filter((r) => r.score > 0.25);
  const m = matchDetections(above(refRow.results), above(s.results));
  lines.push('', `${s.name} against the reference at conf 0.25: ${m.matched} of ${m.reference} reference detections found (${(100 * m.found).toFixed(2)} %, same class, box IoU >= 0.5), mean mask IoU ${m.meanMaskIou.toFixed(4)}.`);
}
if (args['per-class']) {
  for (const s of scored) {
    lines.push('', `Per class, ${s.name} (AP50-95 box / mask, AP50 box / mask, instances):`, '', '| class | box AP | mask AP | box AP50 | mask AP50 | instances |', '|---|---:|---:|---:|---:|---:|');
    const byId = (x: CocoEvalSummary) => new Map(x.categories.map((c) => [c.categoryId, c]));
    const m = byId(s.mask);
    for (const c of s.box.categories) {
      const k = m.get(c.categoryId);
      lines.push(`| ${c.name ?? c.categoryId} | ${fmt(c.ap)} | ${fmt(k?.ap ?? -1)} | ${fmt(c.ap50)} | ${fmt(k?.ap50 ?? -1)} | ${c.numGt} |`);
    }
  }
}
for (const e of errors) lines.push('', `segstream row missing: ${e}`);
console.log(lines.join('\n'));
if (rows.length === 0) process.exit(1);
