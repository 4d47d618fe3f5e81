/**
 * npm run bench:events [-- --model path --rounds 2 --zones 4 --clips a.mp4,b.mp4]
 *
 * What road events cost the pipeline. Each clip runs through the whole service (one camera,
 * file read as fast as possible) without events (no zones, health checks off: the baseline)
 * and with them (--zones zones tiling the picture, each with a stopped, presence, count and
 * unknown rule, health checks on), rounds alternating. Printed: frames per second of each
 * and their ratio (events / baseline, same run, same machine), the main-thread time of
 * CameraEvents.onFrame per frame (p50, p95: rules, thumbnails, health, snapshot drawing), and
 * how many event messages went out.
 */
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startApp } from '../src/app.js';
import { CameraEvents } from '../src/cameras/cameraEvents.js';
import { PACKAGE_ROOT, parseConfig, type ZoneEntry } from '../src/config/index.js';

const VIDEOS = join(PACKAGE_ROOT, '../shared/data/videos');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: join(PACKAGE_ROOT, '../shared/models/yolov8n-seg-320.onnx') },
    rounds: { type: 'string', default: '2' },
    zones: { type: 'string', default: '4' },
    clips: { type: 'string', default: ['urban_intersection_cctv.mp4', 'urban_road_topdown_opencv4nodejs.mp4'].map((f) => join(VIDEOS, f)).join(',') },
  },
});

/** onFrame's time per call, ms, while a run is on. */
let onFrameMs: number[] = [];
const original = CameraEvents.prototype.onFrame;
CameraEvents.prototype.onFrame = function (this: CameraEvents, ...a: Parameters<typeof original>) {
  const t0 = performance.now();
  try {
    original.apply(this, a);
  } finally {
    onFrameMs.push(performance.now() - t0);
  }
};

/** `n` vertical strips over a picture of up to 7680 x 4320 (the rules see them whatever the clip's size). */
function zones(n: number, width: number, height: number): ZoneEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `strip${i}`,
    polygon: [
      [(i * width) / n, 0],
      [((i + 1) * width) / n, 0],
      [((i + 1) * width) / n, height],
      [(i * width) / n, height],
    ] as [number, number][],
    rules: [
      { kind: 'stopped' as const, classes: ['car', 'truck', 'bus'], seconds: 5 },
      { kind: 'presence' as const, classes: ['person'], seconds: 1 },
      { kind: 'count' as const, classes: ['car', 'truck', 'bus'], above: 3, seconds: 2 },
      { kind: 'unknown' as const, seconds: 5 },
    ],
  }));
}

interface Run {
  fps: number;
  frames: number;
  events: number;
  onFrame: number[];
}

async function run(url: string, withEvents: boolean, size: { width: number; height: number }): Promise<Run> {
  const config = parseConfig({
    cameras: [{ id: 'cam', url, ...(withEvents ? { zones: zones(Number(args.zones), size.width, size.height) } : {}) }],
    inference: { model: args.model },
    server: { host: '127.0.0.1', port: 0, whep: false },
    ingest: { realtime: false },
    events: { health: { enabled: withEvents } },
  });
  onFrameMs = [];
  const app = await startApp(config);
  let frames = 0;
  let events = 0;
  let first = 0;
  let lastAt = performance.now();
  const subs = [
    app.published$.subscribe(() => {
      if (frames++ === 0) first = performance.now();
      lastAt = performance.now();
    }),
    app.events$.subscribe(() => events++),
  ];
  const cam = app.cameras.require('cam');
  while (!(['ended', 'failed'].includes(cam.status.state) && performance.now() - lastAt > 1000)) await new Promise((r) => setTimeout(r, 100));
  for (const s of subs) s.unsubscribe();
  const fps = (frames - 1) / ((lastAt - first) / 1000);
  const stream = cam.status.stream;
  if (stream) Object.assign(size, { width: stream.width, height: stream.height });
  await app.close();
  return { fps, frames, events, onFrame: onFrameMs };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

console.log(`bench:events on ${cpus()[0]?.model ?? 'cpu'} (${availableParallelism()} cores), ${args.zones} zones x 4 rules, ${args.rounds} rounds`);
for (const clip of args.clips.split(',')) {
  const size = { width: 640, height: 480 };
  // A first baseline run learns the clip's size (the zones tile it) and warms the caches.
  await run(clip, false, size);
  const base: Run[] = [];
  const evs: Run[] = [];
  for (let r = 0; r < Number(args.rounds); r++) {
    base.push(await run(clip, false, size));
    evs.push(await run(clip, true, size));
  }
  const mean = (rs: Run[]): number => rs.reduce((a, b) => a + b.fps, 0) / rs.length;
  const all = evs.flatMap((r) => r.onFrame);
  console.log(
    `${clip.split('/').at(-1)} (${size.width}x${size.height}): baseline ${mean(base).toFixed(1)} fps, with events ${mean(evs).toFixed(1)} fps, ratio ${(mean(evs) / mean(base)).toFixed(3)}; ` +
      `onFrame p50 ${pct(all, 50).toFixed(2)} ms, p95 ${pct(all, 95).toFixed(2)} ms, max ${pct(all, 100).toFixed(2)} ms over ${all.length} frames; ${evs.map((r) => r.events).join('/')} event messages`,
  );
}
