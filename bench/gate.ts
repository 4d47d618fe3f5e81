/**
 * npm run bench:gate [-- --model path --still 10 --moving 10 --clips a.mp4,b.mp4]
 *
 * Motion gating: the inference it saves and the tracking quality it costs. Each clip runs
 * twice through the whole service (files read as fast as possible, default options, one
 * camera): without gating, then with it (defaults). The ungated run's tracks are the ground
 * truth the gated run's are scored against (src/eval: CLEAR-MOT and IDF1, IoU >= 0.5, every
 * published object with a track id, predicted ones included, frame = seq + 1). The clips: a
 * static stretch made here (the intersection's first frame for --still s, then its first
 * --moving s, one H.264 encode so compression noise is in the still part too) and the shared
 * clips as they are.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startApp, type PublishedFrame } from '../src/app.js';
import { PACKAGE_ROOT, parseConfig } from '../src/config/index.js';
import { evaluateMot, type MotBox, type MotMetrics } from '../src/eval/index.js';
import { DEFAULT_MOTION_GATE, MotionGate } from '../src/pipeline/index.js';

const VIDEOS = join(PACKAGE_ROOT, '../shared/data/videos');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: join(PACKAGE_ROOT, '../shared/models/yolov8n-seg-320.onnx') },
    still: { type: 'string', default: '10' },
    moving: { type: 'string', default: '10' },
    clips: {
      type: 'string',
      default: ['urban_intersection_cctv.mp4', 'urban_road_topdown_opencv4nodejs.mp4', 'urban_street_overhead_cvTrafficCam.mp4'].map((f) => join(VIDEOS, f)).join(','),
    },
  },
});

interface Run {
  frames: PublishedFrame[];
  wallS: number;
  /** Frames read that were not published (dropped: replaced while waiting). */
  dropped: number;
}

/** One camera on `url` through the service until its file ended and the pipeline is idle. */
async function run(url: string, gate: boolean): Promise<Run> {
  const config = parseConfig({
    cameras: [{ id: 'cam', url, motionGate: { enabled: gate } }],
    inference: { model: args.model },
    server: { host: '127.0.0.1', port: 0 },
    ingest: { realtime: false },
  });
  const t0 = performance.now();
  const app = await startApp(config);
  const frames: PublishedFrame[] = [];
  let lastAt = performance.now();
  const sub = app.published$.subscribe((p) => {
    frames.push(p);
    lastAt = performance.now();
  });
  const cam = app.cameras.require('cam');
  while (!(['ended', 'failed'].includes(cam.status.state) && performance.now() - lastAt > 1000)) await new Promise((r) => setTimeout(r, 100));
  const wallS = (lastAt - t0) / 1000;
  const dropped = cam.framesDropped;
  sub.unsubscribe();
  await app.close();
  return { frames, wallS, dropped };
}

/** A run's published tracks as MOT rows. */
function motRows(r: Run): MotBox[] {
  return r.frames.flatMap((p) =>
    p.message.objects.filter((o) => o.id !== undefined).map((o) => ({ frame: p.message.seq + 1, id: o.id!, x: o.box[0], y: o.box[1], width: o.box[2] - o.box[0], height: o.box[3] - o.box[1] })),
  );
}

/** The still-then-moving clip: `stillS` s of `src`'s first frame, then its first `movingS` s. */
function makeStaticStretch(src: string, dest: string, stillS: number, movingS: number): void {
  execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-i', src, '-filter_complex',
      `[0:v]trim=end_frame=1,loop=loop=${Math.round(stillS * 30) - 1}:size=1:start=0,setpts=N/30/TB[still];` +
      `[0:v]trim=duration=${movingS},setpts=PTS-STARTPTS[moving];[still][moving]concat=n=2:v=1,format=yuv420p[v]`,
      '-map', '[v]', '-r', '30', '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', dest],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** The gate's own cost per frame, ms (update() on a textured frame of that size, median of 5 x 100). */
function gateCostMs(width: number, height: number): number {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 27;
  const g = new MotionGate();
  const rounds: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) g.update({ width, height, data, pts: 0 });
    if (r > 0) rounds.push((performance.now() - t0) / 100);
  }
  return rounds.sort((a, b) => a - b)[2]!;
}

const pct = (v: number): string => (100 * v).toFixed(1);
const dir = mkdtempSync(join(tmpdir(), 'segstream-bench-gate-'));
try {
  const still = join(dir, 'still-then-moving.mp4');
  makeStaticStretch(join(VIDEOS, 'urban_intersection_cctv.mp4'), still, Number(args.still), Number(args.moving));
  const clips = [
    { name: `still ${args.still} s, then intersection ${args.moving} s (640x480, 30 fps)`, path: still },
    ...args.clips.split(',').filter((p) => p !== '').map((p) => ({ name: basename(p), path: p })),
  ];
  const stillFrames = Math.round(Number(args.still) * 30);
  console.log(
    `segstream bench:gate: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), model ${basename(args.model)}, default options, files as fast as possible; gate defaults ${JSON.stringify(DEFAULT_MOTION_GATE)}`,
  );
  console.log('');
  console.log('| clip | frames | gated % | inference runs off -> on | session.run s off -> on | wall s off -> on | MOTA % | IDF1 % | IDsw | FP | FN | dropped off, on |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const row = (name: string, off: Run, on: Run, wall: string, dropped: string): string => {
    const m: MotMetrics = evaluateMot(motRows(off), motRows(on));
    const inferred = (r: Run): PublishedFrame[] => r.frames.filter((p) => !p.message.gated);
    // session.run time of each inferred frame's batch, shared by its frames.
    const runS = (r: Run): number => inferred(r).reduce((s, p) => s + p.timings.inferenceMs / p.timings.batchSize, 0) / 1000;
    const gated = on.frames.length - inferred(on).length;
    return `| ${name} | ${on.frames.length} | ${pct(gated / on.frames.length)} | ${inferred(off).length} -> ${inferred(on).length} | ${runS(off).toFixed(1)} -> ${runS(on).toFixed(1)} | ${wall} | ${pct(m.mota)} | ${pct(m.idf1)} | ${m.numSwitches} | ${m.numFalsePositives} | ${m.numMisses} | ${dropped} |`;
  };
  const part = (r: Run, keep: (seq: number) => boolean): Run => ({ ...r, frames: r.frames.filter((p) => keep(p.message.seq)) });
  for (const [i, clip] of clips.entries()) {
    const off = await run(clip.path, false);
    const on = await run(clip.path, true);
    console.log(row(clip.name, off, on, `${off.wallS.toFixed(1)} -> ${on.wallS.toFixed(1)}`, `${off.dropped}, ${on.dropped}`));
    if (i === 0) {
      // The made clip's two parts, scored apart (tracks carried across the cut count in both).
      console.log(row('&nbsp;&nbsp;its still part', part(off, (s) => s < stillFrames), part(on, (s) => s < stillFrames), '', ''));
      console.log(row('&nbsp;&nbsp;its moving part', part(off, (s) => s >= stillFrames), part(on, (s) => s >= stillFrames), '', ''));
    }
  }
  console.log('');
  console.log(`gate cost per frame (MotionGate.update): ${gateCostMs(320, 320).toFixed(2)} ms at 320x320, ${gateCostMs(640, 480).toFixed(2)} ms at 640x480, ${gateCostMs(1280, 720).toFixed(2)} ms at 1280x720`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
