/**
 * npm run bench [-- --frames 120 --rounds 3 --cameras 1,2,4,8 --clip path --model path]
 *
 * One run, side by side: the bare model (one onnxruntime session, intra-op threads = the
 * number of cores, the same letterboxed frames: what a user gets from onnxruntime with no
 * further effort) at batch 1, 2, 4 and 8; then the whole pipeline at its default options with
 * 1, 2, 4 and 8 cameras playing the clip as fast as possible, each camera's share, their
 * ratios to the bare model (batch 1) measured just before and after, per-stage p50/p95,
 * heap and external memory allocated per frame on the main thread, and the age of published
 * frames (capture -> sent).
 */
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { GCProfiler } from 'node:v8';
import * as ort from 'onnxruntime-node';
import { firstValueFrom, take, toArray } from 'rxjs';
import { WebSocket } from 'ws';
import { startApp, type PublishedFrame } from '../src/app.js';
import { PACKAGE_ROOT, parseConfig } from '../src/config/index.js';
import type { Frame } from '../src/core/index.js';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec } from '../src/ingest/index.js';
import { letterboxInto, planLetterbox, readModelFile } from '../src/pipeline/index.js';

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '120' },
    rounds: { type: 'string', default: '3' },
    cameras: { type: 'string', default: '1,2,4,8' },
    clip: { type: 'string', default: join(PACKAGE_ROOT, '../shared/data/videos/urban_intersection_cctv.mp4') },
    model: { type: 'string', default: join(PACKAGE_ROOT, '../shared/models/yolov8n-seg-320.onnx') },
    /** Extra inference settings for the pipeline runs, JSON (default: none, the defaults). */
    inference: { type: 'string', default: '{}' },
  },
});
const N = Number(args.frames);
const ROUNDS = Number(args.rounds);
const CAMERA_COUNTS = args.cameras.split(',').map(Number);
const CORES = availableParallelism();
const WARMUP = 10;
const BATCHES = [1, 2, 4, 8];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const median = (xs: number[]): number => pct(xs, 50);
const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);

async function decodeFrames(count: number): Promise<{ frames: Frame[]; msPerFrame: number }> {
  const { info } = await readModelFile(args.model);
  const src = new CameraSource(parseSourceSpec(args.clip, 0), { ...DEFAULT_SOURCE_OPTIONS, realtime: false, modelWidth: info.inputWidth, modelHeight: info.inputHeight });
  const done = firstValueFrom(src.frames$.pipe(take(count), toArray()));
  const t0 = performance.now();
  src.start();
  const frames = await done;
  const ms = performance.now() - t0;
  await src.stop();
  return { frames, msPerFrame: ms / frames.length };
}

/** The letterboxed inputs of `frames`, batched by `batch` (preparing them is not timed). */
function tensors(frames: Frame[], batch: number, w: number, h: number): ort.Tensor[] {
  const plane = 3 * w * h;
  const out: ort.Tensor[] = [];
  for (let i = 0; i + batch <= frames.length; i += batch) {
    const data = new Float32Array(batch * plane);
    for (let k = 0; k < batch; k++) letterboxInto(frames[i + k]!.data, planLetterbox(frames[i + k]!.letterbox), data, k * plane);
    out.push(new ort.Tensor('float32', data, [batch, 3, h, w]));
  }
  return out;
}

/** Bare session.run throughput, frames per second, at each batch size. */
async function bareModel(frames: Frame[], w: number, h: number, batches: number[]): Promise<Map<number, number>> {
  const session = await ort.InferenceSession.create(args.model, { intraOpNumThreads: CORES, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const input = session.inputNames[0]!;
  const fps = new Map<number, number>();
  for (const b of batches) {
    const ts = tensors(frames, b, w, h);
    const warm = Math.max(1, Math.ceil(WARMUP / b));
    for (const t of ts.slice(0, warm)) await session.run({ [input]: t });
    const timed = ts.slice(warm);
    const t0 = performance.now();
    for (const t of timed) await session.run({ [input]: t });
    fps.set(b, (timed.length * b * 1000) / (performance.now() - t0));
  }
  await session.release();
  return fps;
}

interface PipelineRun {
  cameras: number;
  fps: number;
  perCamera: number[];
  published: PublishedFrame[];
  dropped: number;
  received: number;
  /** Main-thread JS heap and external (ArrayBuffer) bytes allocated per published frame. */
  heapPerFrame: number;
  externalPerFrame: number;
}

/** Bytes allocated while `profiler` ran: growth plus what every GC freed. */
function allocated(stats: ReturnType<GCProfiler['stop']>, key: 'usedHeapSize' | 'externalMemory', start: number, end: number): number {
  let freed = 0;
  for (const s of stats?.statistics ?? []) freed += Math.max(0, s.beforeGC.heapStatistics[key] - s.afterGC.heapStatistics[key]);
  return end - start + freed;
}

async function pipeline(cameras: number): Promise<PipelineRun> {
  const config = parseConfig({
    cameras: Array.from({ length: cameras }, (_, i) => ({ id: `cam${i}`, url: args.clip })),
    inference: { model: args.model, ...(JSON.parse(args.inference) as object) },
    server: { host: '127.0.0.1', port: 0 },
    ingest: { realtime: false },
  });
  const app = await startApp(config);
  // One real WebSocket client, so publishing includes socket writes.
  const ws = new WebSocket(`ws://127.0.0.1:${app.address.port}/ws`);
  let received = 0;
  ws.on('message', () => received++);
  const warm = WARMUP * cameras;
  const total = (N + WARMUP) * cameras;
  const published: PublishedFrame[] = [];
  const stamps: number[] = [];
  const profiler = new GCProfiler();
  let heap0 = 0;
  let ext0 = 0;
  await new Promise<void>((resolve) => {
    const sub = app.published$.subscribe((p) => {
      published.push(p);
      stamps.push(performance.now());
      if (published.length === warm) {
        const m = process.memoryUsage();
        heap0 = m.heapUsed;
        ext0 = m.external + m.arrayBuffers;
        profiler.start();
      }
      if (published.length >= total) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
  const m = process.memoryUsage();
  const stats = profiler.stop();
  const frames = total - warm;
  const heapPerFrame = allocated(stats, 'usedHeapSize', heap0, m.heapUsed) / frames;
  const externalPerFrame = allocated(stats, 'externalMemory', ext0, m.external + m.arrayBuffers) / frames;
  const measured = published.slice(warm);
  const span = (stamps[stamps.length - 1]! - stamps[warm]!) / 1000;
  const perCamera = Array.from({ length: cameras }, (_, i) => measured.filter((p) => p.message.camera === `cam${i}`).length / span);
  const dropped = measured.reduce((mx, p) => Math.max(mx, p.message.dropped), 0);
  ws.close();
  await app.close();
  return { cameras, fps: (measured.length - 1) / span, perCamera, published: measured, dropped, received, heapPerFrame, externalPerFrame };
}

const { info } = await readModelFile(args.model);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`segstream bench: ${N} frames per camera of ${args.clip.split('/').pop()}, ${ROUNDS} rounds, ${CORES} cores (${cpu}), onnxruntime-node ${ort.env.versions.node}, model ${args.model.split('/').pop()}; pipeline inference options: ${args.inference === '{}' ? 'defaults' : args.inference}`);
const decoded = await decodeFrames(8 * 4 + WARMUP + 8);
const w = info.inputWidth;
const h = info.inputHeight;
// Shared machines drift: the bare model runs before the first and after every pipeline run,
// and each pipeline run is compared with the bare runs just before and after it.
const staticBatch = info.batch;
const batches = BATCHES.filter((b) => staticBatch === null || b <= staticBatch);
const bare: Map<number, number>[] = [await bareModel(decoded.frames, w, h, batches)];
const runs: PipelineRun[][] = CAMERA_COUNTS.map(() => []);
const bareAround: [number, number][][] = CAMERA_COUNTS.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (const [k, cameras] of CAMERA_COUNTS.entries()) {
    const before = bare[bare.length - 1]!.get(1)!;
    runs[k]!.push(await pipeline(cameras));
    bare.push(await bareModel(decoded.frames, w, h, [1]));
    bareAround[k]!.push([before, bare[bare.length - 1]!.get(1)!]);
  }
}
// The bare batch sizes once more at the end, for their medians.
bare.push(await bareModel(decoded.frames, w, h, batches));

console.log('');
console.log('| bare model (one session, threads = cores) | fps per run | median |');
console.log('|---|---|---|');
for (const b of batches) {
  const xs = bare.map((m) => m.get(b)).filter((x): x is number => x !== undefined);
  console.log(`| batch ${b} | ${xs.map(f1).join(', ')} | ${f1(median(xs))} |`);
}
console.log('');
console.log('| pipeline, default options | fps per round | ratio to bare batch 1 per round | **median ratio** | per camera fps (median round) | slowest / fastest camera | dropped | age p50 / p95 ms | main-thread heap / external KiB per frame |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [k, cameras] of CAMERA_COUNTS.entries()) {
  const rs = runs[k]!;
  const ratios = rs.map((run, r) => run.fps / ((bareAround[k]![r]![0] + bareAround[k]![r]![1]) / 2));
  const mid = rs[ratios.indexOf(pct(ratios, 50))] ?? rs[0]!;
  const fairness = rs.map((run) => Math.min(...run.perCamera) / Math.max(...run.perCamera));
  const ages = rs.flatMap((run) => run.published.map((p) => p.latencyMs));
  console.log(
    `| ${cameras} camera${cameras > 1 ? 's' : ''} | ${rs.map((x) => f1(x.fps)).join(', ')} | ${ratios.map(f2).join(', ')} | **${f2(median(ratios))}** | ${mid.perCamera.map(f1).join(', ')} | ${f2(median(fairness))} | ${Math.max(...rs.map((x) => x.dropped))} | ${f1(pct(ages, 50))} / ${f1(pct(ages, 95))} | ${f1(median(rs.map((x) => x.heapPerFrame)) / 1024)} / ${f1(median(rs.map((x) => x.externalPerFrame)) / 1024)} |`,
  );
}
const all = runs.flat().flatMap((r) => r.published);
const t = all.map((p) => p.timings);
const stage = (name: string, xs: number[]): string => `| ${name} | ${f2(pct(xs, 50))} | ${f2(pct(xs, 95))} |`;
console.log('');
console.log(`| stage (ms per frame, all runs) | p50 | p95 |`);
console.log(`|---|---|---|`);
console.log(`| decode (ffmpeg: decode + rgb24, alone) | ${f2(decoded.msPerFrame)} | - |`);
console.log(stage('wait for a free worker', t.map((x) => x.queueMs)));
console.log(stage('preprocess (letterbox into the tensor, worker)', t.map((x) => x.preprocessMs / x.batchSize)));
console.log(stage('inference (session.run, worker, per frame of its batch)', t.map((x) => x.inferenceMs / x.batchSize)));
console.log(stage('filter + NMS (worker)', t.map((x) => x.postprocessMs / x.batchSize)));
console.log(stage('mask decoding (main thread)', t.map((x) => x.masksMs)));
console.log(stage('tracking + targets (main thread)', t.map((x) => x.trackingMs ?? 0)));
console.log(stage('publishing (RLE + JSON + send)', t.map((x) => x.publishMs)));
console.log(stage('batch size', t.map((x) => x.batchSize)));
process.exit(0);
