/**
 * `segstream segment <image-or-folder>... --out results.json`: offline segmentation of still
 * images through the live path's own stages (the worker's letterbox, session.run and NMS,
 * then decodeFrame's boxes and masks), written in COCO's results format, which pycocotools'
 * `loadRes` reads.
 */
import { stat, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { computeLetterbox, SegstreamError, toSegstreamError, type Frame, type Logger } from './core/index.js';
import { engineOptions, type InferenceConfig } from './config/index.js';
import { listImages as listFolderImages, type CocoResult as EvalCocoResult } from './eval/index.js';
import { decodeFrame, InferenceEngine, readModelFile, type ModelInfo } from './pipeline/index.js';
import { encodeMask } from './publish/rle.js';

/** One detection as `segment` writes it: COCO's results format with every field, RLE as a string. */
export type CocoResult = Required<Omit<EvalCocoResult, 'segmentation'>> & { segmentation: { size: [number, number]; counts: string } };

export interface SegmentSummary {
  images: number;
  detections: number;
  /** Inputs that could not be read, with why. */
  failed: { file: string; code: string; message: string }[];
  seconds: number;
}

/**
 * The image files of `inputs` in order: files as given, folders' image files sorted by name.
 * Throws E_SOURCE_UNREADABLE for an input that does not exist.
 */
export async function listImages(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    let st;
    try {
      st = await stat(input);
    } catch (err) {
      throw new SegstreamError('E_SOURCE_UNREADABLE', `cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { expected: 'an image file or a folder of images' });
    }
    if (st.isDirectory()) out.push(...listFolderImages(input));
    else out.push(input);
  }
  return out;
}

/** COCO's image id: the number a file is named (000000000009.jpg -> 9), else its position in the list. */
export function imageIdOf(file: string, position: number): number {
  const stem = basename(file, extname(file));
  return /^\d{1,15}$/.test(stem) ? Number(stem) : position;
}

/**
 * Decodes a still image as OpenCV's imread would give it to Ultralytics: EXIF orientation
 * applied, 8-bit sRGB, alpha dropped, as packed RGB (sharp's JPEG decoding is libjpeg's, the
 * same bytes as OpenCV's).
 */
export async function readImage(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  try {
    const { data, info } = await sharp(path, { limitInputPixels: 268_402_689 })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${info.channels} channels after conversion`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (err) {
    throw new SegstreamError('E_SOURCE_UNREADABLE', `cannot decode ${path}: ${(err as Error).message}`, { expected: 'a JPEG, PNG, WebP, TIFF or BMP image' });
  }
}

const round = (v: number, decimals: number): number => Math.round(v * 10 ** decimals) / 10 ** decimals;

/** One image's detections as COCO results (boxes to 0.01 px, scores to 6 decimals). */
function toResults(frame: Frame, info: ModelInfo, imageId: number, file: string, seg: ReturnType<typeof decodeFrame>): CocoResult[] {
  const { srcWidth: W, srcHeight: H } = frame.letterbox;
  const d = seg.detections;
  const out: CocoResult[] = [];
  for (let i = 0; i < d.length; i++) {
    const [x1, y1, x2, y2] = [d.boxes[i * 4]!, d.boxes[i * 4 + 1]!, d.boxes[i * 4 + 2]!, d.boxes[i * 4 + 3]!];
    const mask = d.masks[i];
    const rle = encodeMask(mask ?? { x: 0, y: 0, width: 0, height: 0, data: new Uint8Array(0) }, W, H);
    const cls = d.classIds[i]!;
    out.push({
      image_id: imageId,
      file_name: file,
      category_id: cls,
      category_name: info.classNames[cls] ?? String(cls),
      bbox: [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
      score: round(d.scores[i]!, 6),
      segmentation: { size: [H, W], counts: rle.counts as string },
    });
  }
  return out;
}

export interface SegmentOptions {
  inputs: string[];
  out: string;
  inference: InferenceConfig;
  log?: Logger;
}

/**
 * Segments every image of `inputs` and writes the results to `out`. Images are decoded while
 * the previous batch runs; an image that cannot be decoded is reported in `failed` and the
 * rest go on.
 */
export async function segmentCommand(opts: SegmentOptions): Promise<SegmentSummary> {
  const t0 = performance.now();
  const files = await listImages(opts.inputs);
  if (files.length === 0) throw new SegstreamError('E_SOURCE_UNREADABLE', `no images in ${opts.inputs.join(', ')}`, { expected: 'image files (.jpg, .png, ...)' });
  const { info, bytes } = await readModelFile(opts.inference.model!);
  const engine = await InferenceEngine.create(info, bytes, engineOptions(opts.inference), opts.log);
  const results: CocoResult[] = [];
  const failed: SegmentSummary['failed'] = [];
  try {
    const batch = engine.maxBatch;
    const perBatch: CocoResult[][] = [];
    /** Decodes, runs and converts the batch of images from `start` (one worker's share). */
    const runBatch = async (start: number): Promise<void> => {
      const decoded: { file: string; position: number; image: Awaited<ReturnType<typeof readImage>> }[] = [];
      for (const [k, file] of files.slice(start, start + batch).entries()) {
        try {
          decoded.push({ file, position: start + k, image: await readImage(file) });
        } catch (err) {
          const e = toSegstreamError(err, 'E_SOURCE_UNREADABLE');
          failed.push({ file, code: e.code, message: e.message });
        }
      }
      const out: CocoResult[] = [];
      perBatch[start / batch] = out;
      if (decoded.length === 0) return;
      const frames: Frame[] = decoded.map(({ position, image }) => ({
        camera: 'segment',
        seq: position,
        timestamp: Date.now(),
        pts: 0,
        width: image.width,
        height: image.height,
        format: 'rgb24',
        data: image.data,
        letterbox: computeLetterbox(image.width, image.height, info.inputWidth, info.inputHeight),
      }));
      let res;
      try {
        res = await engine.run(frames.map((f) => ({ data: f.data, letterbox: f.letterbox })));
      } catch (err) {
        // A failed run (a worker that died is replaced) costs its images, not the others.
        const e = toSegstreamError(err, 'E_INFERENCE');
        for (const { file } of decoded) failed.push({ file, code: e.code, message: `inference failed for ${file}: ${e.message}` });
        return;
      }
      for (const [i, frame] of frames.entries()) {
        const image = res.images[i]!;
        const seg = decodeFrame({ frame: { ...frame, data: res.inputs[i]! }, image, timings: { ...res.timings, queueMs: 0, batchSize: frames.length } }, info);
        engine.recycle(image.protos);
        const { file, position } = decoded[i]!;
        out.push(...toResults(frame, info, imageIdOf(file, position), file, seg));
      }
    };
    // As many batches at once as there are workers: each decodes its images, then waits for
    // its worker (a batch starts only when a worker is idle, as engine.run requires).
    const running = new Set<Promise<void>>();
    for (let start = 0; start < files.length; start += batch) {
      // At least one batch at a time, even while a dead worker is being replaced.
      while (running.size > 0 && running.size >= engine.workerCount) await Promise.race(running);
      const p: Promise<void> = runBatch(start).finally(() => running.delete(p));
      running.add(p);
    }
    await Promise.all(running);
    for (const r of perBatch) results.push(...r);
    failed.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file));
  } finally {
    await engine.close();
  }
  await writeFile(opts.out, `[${results.map((r) => JSON.stringify(r)).join(',\n')}]\n`);
  return { images: files.length - failed.length, detections: results.length, failed, seconds: (performance.now() - t0) / 1000 };
}
