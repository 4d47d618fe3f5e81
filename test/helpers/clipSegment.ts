import { execFileSync } from 'node:child_process';

/**
 * Re-encodes `seconds` of `src` from `startS` on into `dest` (H.264, constant frame rate,
 * index at the front, near-lossless: CRF 16), so a test can start a service in the middle of
 * a shared clip. `-ss` before `-i` with re-encoding is frame-accurate: ffmpeg decodes from
 * the keyframe before and drops what precedes `startS`. The segment's timestamps start at 0.
 */
export function makeSegment(src: string, dest: string, startS: number, seconds: number): void {
  execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-ss', String(startS), '-i', src, '-t', String(seconds), '-an',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', dest],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
