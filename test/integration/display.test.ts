import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DisplayFrame } from '../../src/core/index.js';
import { displaySize, i420ByteLength } from '../../src/ingest/index.js';
import { DisplayRing } from '../../src/overlay/index.js';
import { expectConsecutiveSeq } from '../helpers/frameChecks.js';
import { CCTV_640x480, collect, frameIndexOf, makeClip, makeCountingClip } from '../helpers/media.js';
import { sourceFactory } from '../helpers/sourceStatus.js';

// The display output: the same ffmpeg writes each decoded picture twice, letterboxed rgb24 for
// the model on stdout and at display size as I420 on fd 3; each pair is one picture.
const { source, stopAll } = sourceFactory('disp', { realtime: false, loop: false });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segstream-display-'));
});
afterEach(stopAll);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function collectDisplay(s: { display$: import('rxjs').Observable<DisplayFrame> }): DisplayFrame[] {
  const out: DisplayFrame[] = [];
  s.display$.subscribe((d) => out.push(d));
  return out;
}

/** Luma at the centre of an I420 frame. */
const centreY = (d: DisplayFrame): number => d.data[(d.height >> 1) * d.width + (d.width >> 1)]!;

describe('CameraSource with a display output', () => {
  it('delivers every picture twice, the display frame first with the same seq, pts and timestamp, at source size capped to the max width', async () => {
    const clip = join(dir, 'cctv1s.mp4');
    makeClip(CCTV_640x480, clip, 1);
    const s = source(clip, { displayMaxWidth: 480 });
    const order: string[] = [];
    const displays = collectDisplay(s);
    s.display$.subscribe((d) => order.push(`d${d.seq}`));
    const got = collect(s.frames$, (f) => order.push(`f${f.seq}`));
    s.start();
    await got.completed;
    expect(got.frames.length).toBeGreaterThanOrEqual(29);
    expectConsecutiveSeq(got.frames);
    expect(displays).toHaveLength(got.frames.length);
    expect(order.slice(0, 4)).toEqual(['d0', 'f0', 'd1', 'f1']);
    got.frames.forEach((f, i) => {
      const d = displays[i]!;
      expect([d.seq, d.pts, d.timestamp]).toEqual([f.seq, f.pts, f.timestamp]);
      expect([d.width, d.height, d.srcWidth, d.srcHeight, d.format]).toEqual([480, 360, 640, 480, 'i420']);
      expect(d.data.length).toBe(i420ByteLength(480, 360));
    });
  });

  it('pairs each display frame with the model frame of the same picture (a clip whose frames say their index)', async () => {
    const clip = join(dir, 'counting.mp4');
    makeCountingClip(clip, 2, 30, '320x240');
    const s = source(clip, { displayMaxWidth: 1280 });
    const displays = collectDisplay(s);
    const got = collect(s.frames$);
    s.start();
    await got.completed;
    expect(got.frames).toHaveLength(60);
    displays.forEach((d, i) => {
      expect([d.width, d.height]).toEqual([320, 240]);
      // Luma 16 + 3n, limited range, passed through unscaled.
      expect(Math.round((centreY(d) - 16) / 3)).toBe(frameIndexOf(got.frames[i]!));
      expect(frameIndexOf(got.frames[i]!)).toBe(i);
    });
  });

  it('follows a resolution change in the same ffmpeg: each display frame at its own picture size', async () => {
    const sizes = [
      [640, 480],
      [640, 360],
      [1281, 721],
    ] as const;
    // Part k's frame n is a flat grey of luma 16 + 3 (20k + n): each picture says its index.
    const parts = sizes.map(([w, h], k) => {
      const part = join(dir, `part-${w}x${h}.ts`);
      const src = `color=c=black:s=${w}x${h}:r=30,format=yuv444p,geq=lum='16+3*(N+${20 * k})':cb=128:cr=128`;
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', src, '-frames:v', '20', '-c:v', 'libx264', '-qp', '0', '-g', '1', '-pix_fmt', 'yuv444p', '-f', 'mpegts', part], { stdio: ['ignore', 'ignore', 'pipe'] });
      return readFileSync(part);
    });
    const changing = join(dir, 'changing.ts');
    writeFileSync(changing, Buffer.concat(parts));
    const s = source(changing, { displayMaxWidth: 1280 });
    const displays = collectDisplay(s);
    const got = collect(s.frames$);
    s.start();
    await got.completed;
    expect(got.frames.length).toBeGreaterThanOrEqual(58);
    expect(s.status).toMatchObject({ state: 'ended', restarts: 0 });
    expect(displays).toHaveLength(got.frames.length);
    const seen = new Set<string>();
    got.frames.forEach((f, i) => {
      const d = displays[i]!;
      const want = displaySize(f.letterbox.srcWidth, f.letterbox.srcHeight, 1280);
      expect([d.seq, d.srcWidth, d.srcHeight, d.width, d.height]).toEqual([f.seq, f.letterbox.srcWidth, f.letterbox.srcHeight, want.width, want.height]);
      // The model frame's grey back to limited-range luma: within half a frame's step (3) of the display frame's.
      const rgb = f.data[((f.height >> 1) * f.width + (f.width >> 1)) * 3]!;
      expect(Math.abs((rgb * 219) / 255 + 16 - centreY(d))).toBeLessThan(1.5);
      expect((centreY(d) - 16) % 3).toBe(0);
      seen.add(`${d.width}x${d.height}`);
    });
    expect([...seen]).toEqual(['640x480', '640x360', '1280x720']);
  });

  it('held in a ring until their result comes: frames whose result never comes (the scheduler dropped them) are dropped and counted', async () => {
    const clip = join(dir, 'counting-ring.mp4');
    makeCountingClip(clip, 2, 30, '320x240');
    const s = source(clip, { displayMaxWidth: 1280 });
    const ring = new DisplayRing(8);
    s.display$.subscribe((d) => ring.push(d));
    const drawn: DisplayFrame[] = [];
    // A scheduler that keeps every third frame: only those get a result.
    const got = collect(s.frames$, (f) => {
      if (f.seq % 3 !== 0) return;
      const d = ring.take(f.seq);
      if (d) drawn.push(d);
    });
    s.start();
    await got.completed;
    expect(got.frames).toHaveLength(60);
    expect(drawn.map((d) => d.seq)).toEqual(got.frames.filter((f) => f.seq % 3 === 0).map((f) => f.seq));
    // Each drawn frame is the picture its result was computed on.
    for (const d of drawn) expect(Math.round((centreY(d) - 16) / 3)).toBe(d.seq);
    // 40 results never came; the last two frames still wait in the ring.
    expect(ring.dropped).toBe(38);
    expect(ring.size).toBe(2);
  });

  it('is not there unless asked for: no display frames, the model frames as before', async () => {
    const clip = join(dir, 'counting-plain.mp4');
    makeCountingClip(clip, 1);
    const s = source(clip);
    const displays = collectDisplay(s);
    const got = collect(s.frames$);
    s.start();
    await got.completed;
    expect(got.frames).toHaveLength(30);
    expect(displays).toHaveLength(0);
  });
});
