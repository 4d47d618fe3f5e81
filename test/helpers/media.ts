import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Observable } from 'rxjs';
import type { Frame } from '../../src/core/index.js';

/** Shared videos live beside the project (../shared/data/videos); read in place, never copied into the repo. */
export const VIDEOS = fileURLToPath(new URL('../../../shared/data/videos/', import.meta.url));
/** 640x480, 30 fps, 30 s, H.264. */
export const CCTV_640x480 = `${VIDEOS}urban_intersection_cctv.mp4`;

/**
 * Re-encodes the first `seconds` of `src` into `dest` (H.264, constant frame rate, index at
 * the front), so the clip has an exact, known number of frames and streams over HTTP.
 */
export function makeClip(src: string, dest: string, seconds: number): void {
  execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-i', src, '-t', String(seconds), '-an',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', dest],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** Frames ffprobe decodes from the first video stream (`-count_frames` nb_read_frames). */
export function countFrames(path: string): number {
  const out = execFileSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path],
    { encoding: 'utf8' },
  );
  const n = Number(out.trim());
  if (!Number.isInteger(n) || n <= 0) throw new Error(`ffprobe could not count frames of ${path}: '${out.trim()}'`);
  return n;
}

export interface Collected {
  readonly frames: Frame[];
  /** Resolves when frames$ completes; rejects if it errors. */
  readonly completed: Promise<void>;
  isComplete(): boolean;
}

/** Subscribes to `frames$` and keeps every frame (and whether/when the stream completed). */
export function collect(frames$: Observable<Frame>, onFrame?: (f: Frame) => void): Collected {
  const frames: Frame[] = [];
  let complete = false;
  const completed = new Promise<void>((resolve, reject) => {
    frames$.subscribe({
      next: (f) => {
        frames.push(f);
        onFrame?.(f);
      },
      error: reject,
      complete: () => {
        complete = true;
        resolve();
      },
    });
  });
  return { frames, completed, isComplete: () => complete };
}

/** Smallest and largest byte of rows [y0, y1) of an rgb24 frame. */
export function rowRange(frame: Frame, y0: number, y1: number): { min: number; max: number } {
  const rowBytes = frame.width * 3;
  let min = 255;
  let max = 0;
  for (let i = y0 * rowBytes; i < y1 * rowBytes; i++) {
    const v = frame.data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** Fraction of bytes in rows [y0, y1) that are NOT within `tol` of `value`. */
export function fractionOff(frame: Frame, y0: number, y1: number, value: number, tol: number): number {
  const rowBytes = frame.width * 3;
  let off = 0;
  const n = (y1 - y0) * rowBytes;
  for (let i = y0 * rowBytes; i < y1 * rowBytes; i++) {
    if (Math.abs(frame.data[i]! - value) > tol) off++;
  }
  return off / n;
}

/**
 * A lossless, all-intra clip whose frame n is a flat grey of luma 16 + 3n (n < 73), so
 * the picture itself says which frame it is (see frameIndexOf). All-intra: a seek lands on
 * the exact frame.
 */
export function makeCountingClip(dest: string, seconds: number, fps = 30, size = '160x120', extraArgs: string[] = ['-movflags', '+faststart']): void {
  execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=c=black:s=${size}:r=${fps}:d=${seconds},geq=lum='16+3*N':cb=128:cr=128`,
      '-c:v', 'libx264', '-qp', '0', '-g', '1', '-pix_fmt', 'yuv420p', ...extraArgs, dest],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** Which frame of a makeCountingClip clip `frame` shows, from the grey at its centre. */
export function frameIndexOf(frame: Frame): number {
  const centre = ((frame.height >> 1) * frame.width + (frame.width >> 1)) * 3;
  // Limited-range luma 16 + 3n -> full-range RGB (Y - 16) * 255 / 219 = 3.49 n, less the
  // 1 to 2 levels swscale's fast conversion loses (seen: 0 2 5 9 12 ... 204 for n = 0..59).
  return Math.round(((frame.data[centre]! + 1.5) * 219) / 255 / 3);
}

/**
 * A still stretch, then motion, encoded for real (H.264, so compression noise is there):
 * `stillFrames` copies of `src`'s frame at `startS` (default its first), then `movingS` seconds
 * of `src` from there with duplicated frames removed (mpdecimate: every moving frame differs
 * from the one before), at `fps`. Frame n of the output is seq n.
 */
export function makeStillThenMovingClip(src: string, dest: string, stillFrames: number, movingS: number, fps = 30, startS = 0): void {
  const from = startS > 0 ? `trim=start=${startS},setpts=PTS-STARTPTS,` : '';
  execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-i', src, '-filter_complex',
      `[0:v]${from}trim=end_frame=1,loop=loop=${stillFrames - 1}:size=1:start=0,setpts=N/${fps}/TB[still];` +
      `[0:v]${from}trim=duration=${movingS},mpdecimate,setpts=N/${fps}/TB[moving];[still][moving]concat=n=2:v=1,format=yuv420p[v]`,
      '-map', '[v]', '-r', String(fps), '-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-movflags', '+faststart', dest],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
