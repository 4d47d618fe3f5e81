import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Frame } from '../../src/core/index.js';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec, type SourceStatus } from '../../src/ingest/index.js';
import { decodeFrame, type InferenceEngine, type SegmentedFrame } from '../../src/pipeline/index.js';

const run = promisify(execFile);

/** Pixels are not kept: CameraTargets reads boxes and masks only (the picture is for CLIP). */
const NO_PIXELS = new Uint8Array(0);

/**
 * Decodes a file with the project's ingest (as fast as possible) and runs
 * the model on every frame with the engine's worker threads; returns one SegmentedFrame per
 * frame, in order, without pixels. Nothing is dropped: the source pauses while `queueHigh`
 * frames wait for inference. `limitMs`: frames at or after this media time are not read.
 */
export async function segmentFile(
  engine: InferenceEngine,
  path: string,
  camera: string,
  limitMs = Infinity,
  queueHigh = 2 * engine.maxBatch,
): Promise<{ frames: SegmentedFrame[]; status: SourceStatus }> {
  const info = engine.info;
  const source = new CameraSource(parseSourceSpec(`${camera}=${path}`, 0), {
    ...DEFAULT_SOURCE_OPTIONS,
    realtime: false,
    modelWidth: info.inputWidth,
    modelHeight: info.inputHeight,
  });
  const queue: Frame[] = [];
  let done = false;
  let stopping: Promise<void> | undefined;
  let status = source.status;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    wake?.();
    wake = undefined;
  };
  const sub = source.frames$.subscribe({
    next: (f) => {
      if (f.pts >= limitMs) {
        stopping ??= source.stop();
        return;
      }
      queue.push(f);
      if (queue.length >= queueHigh) source.pause();
      signal();
    },
    complete: () => {
      status = source.status;
      done = true;
      signal();
    },
  });
  source.start();
  const frames: SegmentedFrame[] = [];
  try {
    for (;;) {
      if (queue.length === 0) {
        if (done) break;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const batch = queue.splice(0, engine.maxBatch);
      if (queue.length < queueHigh) source.resume();
      // session.run happens in the engine's worker thread; masks are assembled here.
      const out = await engine.run(batch.map((f) => ({ data: f.data, letterbox: f.letterbox })));
      batch.forEach((frame, i) => {
        const image = out.images[i];
        if (!image) throw new Error(`inference returned ${out.images.length} results for ${batch.length} frames`);
        const seg = decodeFrame({ frame: { ...frame, data: out.inputs[i] ?? frame.data }, image, timings: { ...out.timings, queueMs: 0, batchSize: batch.length } }, info);
        frames.push({ ...seg, frame: { ...seg.frame, data: NO_PIXELS } });
      });
    }
  } finally {
    sub.unsubscribe();
    await (stopping ?? source.stop());
  }
  if (status.state === 'failed') throw status.error ?? new Error(`cannot read ${path}`);
  return { frames, status };
}

/**
 * Writes the first `frames` frames of `src` to `dest` in reverse order, re-encoded once
 * (H.264, CRF 18: near-lossless, so the backward detections differ from the forward ones
 * only by the codec's noise). Timestamps pass through; ffmpeg's reverse filter holds every
 * frame in memory (640x480: about 0.5 MB per frame).
 */
export async function writeReversed(src: string, dest: string, frames: number): Promise<void> {
  await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', src, '-an', '-vf', `trim=end_frame=${frames},reverse`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-fps_mode', 'passthrough', dest],
    { maxBuffer: 1 << 20 },
  );
}
