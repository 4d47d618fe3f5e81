/**
 * npm run bench [-- --frames 150 --rounds 5 --cameras 1 --threads N --clip path --model path]
 *
 * Plays a shared clip as fast as possible through the whole pipeline and compares it with
 * the bare model measured in the same run: session.run alone, same frames, same threads.
 * Prints throughputs, their ratio, per-stage times and p50/p95 end-to-end latency.
 */
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { firstValueFrom, take, toArray } from 'rxjs';
import { WebSocket } from 'ws';
import { startApp, type PublishedFrame } from '../src/app.js';
import { PACKAGE_ROOT, parseConfig } from '../src/config/index.js';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec } from '../src/ingest/index.js';
import { readModelFile, rgbToChwFloat } from '../src/pipeline/index.js';

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '150' },
    rounds: { type: 'string', default: '5' },
    cameras: { type: 'string', default: '1' },
    threads: { type: 'string', default: String(availableParallelism()) },
    clip: { type: 'string', default: join(PACKAGE_ROOT, '../shared/data/videos/urban_intersection_cctv.mp4') },
    model: { type: 'string', default: join(PACKAGE_ROOT, '../shared/models/yolov8n-seg-320.onnx') },
  },
});
const N = Number(args.frames);
const ROUNDS = Number(args.rounds);
const CAMERAS = Number(args.cameras);
const THREADS = Number(args.threads);
const WARMUP = 10;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);

async function decodeFrames(): Promise<{ frames: Uint8Array[]; msPerFrame: number; width: number; height: number }> {
  const { info } = await readModelFile(args.model);
  const src = new CameraSource(parseSourceSpec(args.clip, 0), {
    ...DEFAULT_SOURCE_OPTIONS,
    realtime: false,
    modelWidth: info.inputWidth,
    modelHeight: info.inputHeight,
  });
  const done = firstValueFrom(src.frames$.pipe(take(N + WARMUP), toArray()));
  const t0 = performance.now();
  src.start();
  const frames = await done;
  const ms = performance.now() - t0;
  await src.stop();
  return { frames: frames.map((f) => f.data), msPerFrame: ms / frames.length, width: info.inputWidth, height: info.inputHeight };
}

async function bareModel(frames: Uint8Array[], width: number, height: number): Promise<number> {
  const session = await ort.InferenceSession.create(args.model, {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const tensors = frames.map((f) => {
    const data = new Float32Array(3 * width * height);
    rgbToChwFloat(f, width, height, data);
    return new ort.Tensor('float32', data, [1, 3, height, width]);
  });
  const input = session.inputNames[0]!;
  for (const t of tensors.slice(0, WARMUP)) await session.run({ [input]: t });
  const t0 = performance.now();
  for (const t of tensors.slice(WARMUP)) await session.run({ [input]: t });
  const fps = ((tensors.length - WARMUP) * 1000) / (performance.now() - t0);
  await session.release();
  return fps;
}

async function pipeline(): Promise<{ fps: number; published: PublishedFrame[]; dropped: number; received: number }> {
  const config = parseConfig({
    cameras: Array.from({ length: CAMERAS }, (_, i) => ({ id: `cam${i}`, url: args.clip })),
    inference: { model: args.model, threads: THREADS, batch: Math.max(1, CAMERAS) },
    server: { host: '127.0.0.1', port: 0 },
    ingest: { realtime: false },
  });
  const app = await startApp(config);
  // One real WebSocket client, so publishing includes socket writes.
  const ws = new WebSocket(`ws://127.0.0.1:${app.address.port}/ws`);
  let received = 0;
  ws.on('message', () => received++);
  const total = (N + WARMUP) * CAMERAS;
  const published: PublishedFrame[] = [];
  const stamps: number[] = [];
  await new Promise<void>((resolve) => {
    const sub = app.published$.subscribe((p) => {
      published.push(p);
      stamps.push(performance.now());
      if (published.length >= total) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
  const measured = stamps.slice(WARMUP * CAMERAS);
  const fps = ((measured.length - 1) * 1000) / (measured[measured.length - 1]! - measured[0]!);
  const dropped = published.reduce((m, p) => Math.max(m, p.message.dropped), 0);
  ws.close();
  await app.close();
  return { fps, published: published.slice(WARMUP * CAMERAS), dropped, received };
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`segstream bench: ${N} frames x ${CAMERAS} camera(s) of ${args.clip.split('/').pop()}, ${ROUNDS} rounds, ${THREADS} onnxruntime threads, ${availableParallelism()} cores (${cpu}), onnxruntime-node ${ort.env.versions.node}`);
const decoded = await decodeFrames();
// Shared machines drift: alternate bare model and pipeline and compare each round with the
// bare runs just before and after it.
const bare: number[] = [await bareModel(decoded.frames, decoded.width, decoded.height)];
const runs: Awaited<ReturnType<typeof pipeline>>[] = [];
for (let r = 0; r < ROUNDS; r++) {
  runs.push(await pipeline());
  bare.push(await bareModel(decoded.frames, decoded.width, decoded.height));
}
const ratios = runs.map((run, r) => run.fps / ((bare[r]! + bare[r + 1]!) / 2));
const median = (xs: number[]): number => pct(xs, 50);
const stage = (name: string, xs: number[]): string => `| ${name} | ${f2(pct(xs, 50))} | ${f2(pct(xs, 95))} |`;
const all = runs.flatMap((r) => r.published);
const t = all.map((p) => p.timings);
console.log('');
console.log(`| measure | value |`);
console.log(`|---|---|`);
console.log(`| bare model (session.run, batch 1), per run | ${bare.map(f1).join(', ')} fps |`);
console.log(`| pipeline, ${CAMERAS} camera(s), all frames, per round | ${runs.map((r) => f1(r.fps)).join(', ')} fps |`);
console.log(`| ratio pipeline / bare model (bare before and after), per round | ${ratios.map(f2).join(', ')} |`);
console.log(`| **median ratio** | **${f2(median(ratios))}** |`);
console.log(`| end-to-end latency p50 / p95 (capture -> sent) | ${f1(pct(all.map((p) => p.latencyMs), 50))} / ${f1(pct(all.map((p) => p.latencyMs), 95))} ms |`);
console.log(`| frames dropped (files wait instead) | ${Math.max(...runs.map((r) => r.dropped))} |`);
console.log(`| messages received by the WebSocket client | ${runs.map((r) => r.received).join(', ')} |`);
console.log('');
console.log(`| stage (ms per frame) | p50 | p95 |`);
console.log(`|---|---|---|`);
console.log(`| decode (ffmpeg decode + letterbox, alone) | ${f2(decoded.msPerFrame)} | - |`);
console.log(stage('wait for a free worker', t.map((x) => x.queueMs)));
console.log(stage('preprocess (bytes -> tensor, worker)', t.map((x) => x.preprocessMs / x.batchSize)));
console.log(stage('inference (session.run, worker)', t.map((x) => x.inferenceMs / x.batchSize)));
console.log(stage('filter + NMS (worker)', t.map((x) => x.postprocessMs / x.batchSize)));
console.log(stage('mask decoding + tracking (main thread)', t.map((x) => x.masksMs)));
console.log(stage('publishing (RLE + JSON + send)', t.map((x) => x.publishMs)));
process.exit(0);
