/**
 * The model input against OpenCV: segstream's letterbox (in the inference worker) must give
 * the bytes Ultralytics' LetterBox gives with cv2.resize INTER_LINEAR, for still images (decoded
 * by sharp, as `segstream segment` does) and for the frames ingest delivers from video.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, take, toArray } from 'rxjs';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { computeLetterbox, type Letterbox } from '../../src/core/index.js';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec } from '../../src/ingest/index.js';
import { letterboxRgb, planLetterbox } from '../../src/pipeline/index.js';
import { SYSTEM_PYTHON } from '../helpers/rtspServer.js';
import { VIDEOS } from '../helpers/media.js';

const COCO = fileURLToPath(new URL('../../../shared/data/seg/coco128-seg/images/train2017/', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../fixtures/letterbox_cv2.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'segstream-lb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Picture {
  name: string;
  rgb: Uint8Array;
  lb: Letterbox;
}

/** OpenCV's letterbox of each picture (one python process for all). */
function opencv(pictures: Picture[], size = 320): Map<string, Uint8Array> {
  const folder = mkdtempSync(join(dir, 'cv-'));
  for (const p of pictures) writeFileSync(join(folder, `${p.name}.rgb`), p.rgb);
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify(pictures.map((p) => [p.name, p.lb.frameWidth, p.lb.frameHeight])));
  execFileSync(SYSTEM_PYTHON, [SCRIPT, folder, String(size), String(size)], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Map(pictures.map((p) => [p.name, new Uint8Array(readFileSync(join(folder, `${p.name}.lb`)))]));
}

/** Bytes that differ, and by more than one grey level. */
function compare(a: Uint8Array, b: Uint8Array): { differ: number; beyondOne: number } {
  expect(a.length).toBe(b.length);
  let differ = 0;
  let beyondOne = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > 0) differ++;
    if (d > 1) beyondOne++;
  }
  return { differ, beyondOne };
}

describe('letterbox against OpenCV (cv2.resize INTER_LINEAR, Ultralytics LetterBox)', () => {
  it('is byte-identical on every coco128-seg image decoded by sharp', async () => {
    const pictures: Picture[] = [];
    for (const file of readdirSync(COCO).filter((f) => f.endsWith('.jpg')).sort()) {
      const { data, info } = await sharp(join(COCO, file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      pictures.push({ name: file, rgb: new Uint8Array(data), lb: computeLetterbox(info.width, info.height, 320, 320) });
    }
    expect(pictures.length).toBe(128);
    // Among them, sizes where Python's round (half to even) and Math.round disagree.
    const halves = pictures.filter((p) => p.lb.innerHeight !== Math.min(320, Math.round(p.lb.srcHeight * p.lb.scale)) || p.lb.innerWidth !== Math.min(320, Math.round(p.lb.srcWidth * p.lb.scale)));
    expect(halves.length).toBeGreaterThan(0);
    const ref = opencv(pictures);
    let differ = 0;
    for (const p of pictures) differ += compare(letterboxRgb(p.rgb, planLetterbox(p.lb)), ref.get(p.name)!).differ;
    expect(differ).toBe(0);
  });

  it('is byte-identical on frames ingest delivers from each shared clip, and on a frame ingest scaled down', async () => {
    const clips = readdirSync(VIDEOS).filter((f) => f.endsWith('.mp4')).sort();
    expect(clips.length).toBeGreaterThan(0);
    // A 1920x1080 source with the default cap: ingest delivers 1280x720, letterboxed from there.
    const big = join(dir, 'big.mp4');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=10', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', big]);
    const pictures: Picture[] = [];
    for (const [i, path] of [...clips.map((c) => join(VIDEOS, c)), big].entries()) {
      const src = new CameraSource(parseSourceSpec(path, i), { ...DEFAULT_SOURCE_OPTIONS, realtime: false, modelWidth: 320, modelHeight: 320 });
      const got = firstValueFrom(src.frames$.pipe(take(3), toArray()));
      src.start();
      const frames = await got;
      await src.stop();
      for (const f of frames) {
        expect([f.width, f.height]).toEqual([f.letterbox.frameWidth, f.letterbox.frameHeight]);
        expect(f.data.length).toBe(f.width * f.height * 3);
        pictures.push({ name: `${i}-${f.seq}`, rgb: f.data, lb: f.letterbox });
      }
    }
    const scaled = pictures.filter((p) => p.lb.srcWidth === 1920);
    expect(scaled.map((p) => [p.lb.frameWidth, p.lb.frameHeight])).toEqual([
      [1280, 720],
      [1280, 720],
      [1280, 720],
    ]);
    const ref = opencv(pictures);
    for (const p of pictures) expect(compare(letterboxRgb(p.rgb, planLetterbox(p.lb)), ref.get(p.name)!), p.name).toEqual({ differ: 0, beyondOne: 0 });
  });
});
