/**
 * The yardstick: a float64 re-implementation of Ultralytics' YOLOv8-seg predict path on the
 * project's ONNX model, written apart from segstream's own pipeline (nothing from src/pipeline
 * or src/core geometry). Preprocessing is OpenCV itself (test/fixtures/letterbox_ref.py run
 * by Debian's /usr/bin/python3); inference is onnxruntime-node; everything after it is float64:
 *
 * - non_max_suppression: per anchor the best class score (first on ties) > conf; cx,cy,w,h to
 *   x1,y1,x2,y2; class-aware NMS with torchvision's semantics (by score, drop IoU > iou); the
 *   first maxDet kept.
 * - process_mask(upsample=True): sigmoid(coefficients @ prototypes) at 80x80, crop_mask with the
 *   box scaled to prototype size (pixel index i kept when x1 <= i < x2), bilinear to 320x320
 *   (align_corners=False), > 0.5.
 * - scale_masks: the padding cut as Ultralytics 8.3 does (top = int(round(pad_y - 0.1)),
 *   bottom = 320 - int(round(pad_y + 0.1)), pad from the gain), bilinear (align_corners=False)
 *   to the image size, > 0.5.
 * - scale_boxes: minus the rounded padding, divided by the gain, clipped to the image.
 * - with `retinaMasks`: process_mask_native instead of the two mask steps above.
 *
 * On coco128-seg at conf 0.001 / 300 detections, scored by src/eval (pycocotools agrees to 6
 * decimals): box mAP50-95 0.3464, mask 0.2553 (retinaMasks: 0.2605).
 *
 * Only pixels that can be non-zero are computed (the rest of each bilinear stage is exactly 0).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { boxIou, cocoImageIds, maskIou, runLengthsFromRle, type CocoResult } from '../../src/eval/index.js';
import { encodeMask } from '../../src/publish/rle.js';

export const PYTHON = '/usr/bin/python3';
export const LETTERBOX_SCRIPT = join(import.meta.dirname, '../fixtures/letterbox_ref.py');

/** What letterbox_ref.py reports for one image (its Python names). */
export interface LetterboxInfo {
  readonly width: number;
  readonly height: number;
  readonly r: number;
  readonly new_width: number;
  readonly new_height: number;
  readonly dw: number;
  readonly dh: number;
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

export interface LetterboxedImage {
  readonly path: string;
  readonly info: LetterboxInfo;
  /** size * size * 3 bytes, RGB, HWC: OpenCV's LetterBox output. */
  readonly rgb: Uint8Array;
}

/** Python's round() on a float: to nearest, ties to even. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Letterboxes images with OpenCV in one Python process (Ultralytics' LetterBox, predict path). */
export function letterboxWithOpenCv(paths: readonly string[], size = 320): Promise<LetterboxedImage[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [LETTERBOX_SCRIPT, '--size', String(size)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${PYTHON} ${LETTERBOX_SCRIPT} exited ${code}: ${stderr.trim()}`));
        return;
      }
      const all = Buffer.concat(chunks);
      const out: LetterboxedImage[] = [];
      const bytes = size * size * 3;
      let p = 0;
      while (p < all.length) {
        const nl = all.indexOf(0x0a, p);
        if (nl < 0) break;
        const head = JSON.parse(all.subarray(p, nl).toString('utf8')) as LetterboxInfo & { path: string; error?: string };
        p = nl + 1;
        if (head.error !== undefined) {
          reject(new Error(`${head.path}: ${head.error}`));
          return;
        }
        const { path, ...info } = head;
        out.push({ path, info, rgb: new Uint8Array(all.buffer, all.byteOffset + p, bytes) });
        p += bytes;
      }
      if (out.length !== paths.length) reject(new Error(`letterbox_ref.py answered ${out.length} of ${paths.length} images: ${stderr.trim()}`));
      else resolve(out);
    });
    child.stdin.end(paths.map((f) => `${f}\n`).join(''));
  });
}

export interface ReferenceOptions {
  /** ONNX file (YOLOv8-seg: output0 [b, 4+nc+nm, anchors], output1 [b, nm, s/4, s/4]). */
  readonly model: string;
  readonly conf?: number;
  readonly iou?: number;
  readonly maxDet?: number;
  /** Images per session.run (1 for a static-batch model). Default 8. */
  readonly batch?: number;
  /** onnxruntime intra-op threads. Default 2. */
  readonly threads?: number;
  /**
   * Ultralytics' retina_masks: process_mask_native (prototypes bilinear straight to the image
   * with scale_masks, then crop_mask with the image-space box, sigmoid > 0.5) instead of the
   * default process_mask + scale_masks. Default false.
   */
  readonly retinaMasks?: boolean;
}

export interface ReferenceOutput {
  /** COCO results with file_name and category_name, image ids as cocoImageIds on the given paths. */
  readonly results: CocoResult[];
  /** The letterboxed model inputs, in the order of the paths. */
  readonly inputs: LetterboxedImage[];
  /** Wall time, s: OpenCV letterbox, onnxruntime (overlapping the post-processing), float64 post-processing. */
  readonly seconds: { readonly letterbox: number; readonly inference: number; readonly post: number };
}

/** Runs the reference pipeline on still images. Defaults: conf 0.25, iou 0.7, maxDet 300 (Ultralytics predict). */
export async function referenceSegment(imagePaths: readonly string[], options: ReferenceOptions): Promise<ReferenceOutput> {
  const conf = options.conf ?? 0.25;
  const iou = options.iou ?? 0.7;
  const maxDet = options.maxDet ?? 300;
  const names = modelClassNames(options.model);
  const session = await ort.InferenceSession.create(options.model, {
    intraOpNumThreads: options.threads ?? 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    const meta = session.inputMetadata[0];
    const shape = meta?.isTensor ? meta.shape : [];
    const size = typeof shape[2] === 'number' ? shape[2] : 320;
    const batch = typeof shape[0] === 'number' ? shape[0] : (options.batch ?? 8);
    const ids = cocoImageIds(imagePaths);
    let t = performance.now();
    const inputs = await letterboxWithOpenCv(imagePaths, size);
    const letterbox = (performance.now() - t) / 1000;
    let inference = 0;
    let post = 0;
    const results: CocoResult[] = [];
    const plane = size * size;
    const runBatch = (start: number) => {
      const group = inputs.slice(start, start + batch);
      const n = batch === shape[0] ? batch : group.length;
      const x = new Float32Array(n * 3 * plane);
      group.forEach((im, b) => {
        // HWC uint8 -> CHW float32 / 255 (one correctly rounded division, as torch's float32 one).
        for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) x[(b * 3 + c) * plane + i] = im.rgb[i * 3 + c]! / 255;
      });
      const t0 = performance.now();
      return session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, [n, 3, size, size]) }).then((out) => {
        inference += (performance.now() - t0) / 1000;
        return { start, group, out };
      });
    };
    // The next batch runs in onnxruntime's threads while this one is post-processed.
    let pending = inputs.length > 0 ? runBatch(0) : undefined;
    while (pending !== undefined) {
      const { start, group, out } = await pending;
      pending = start + batch < inputs.length ? runBatch(start + batch) : undefined;
      t = performance.now();
      const o0 = out[session.outputNames[0]!]!;
      const o1 = out[session.outputNames[1]!]!;
      const [, channels, anchors] = o0.dims as [number, number, number];
      const [, nm, ph, pw] = o1.dims as [number, number, number, number];
      const d0 = o0.data as Float32Array;
      const d1 = o1.data as Float32Array;
      group.forEach((im, b) => {
        const dets = decodeImage(
          d0.subarray(b * channels * anchors, (b + 1) * channels * anchors),
          d1.subarray(b * nm * ph * pw, (b + 1) * nm * ph * pw),
          { channels, anchors, nm, ph, pw, size },
          im.info,
          { conf, iou, maxDet, retinaMasks: options.retinaMasks ?? false },
        );
        const imageId = ids[start + b]!;
        for (const d of dets) {
          results.push({
            image_id: imageId,
            file_name: basename(im.path),
            category_id: d.cls,
            ...(names[d.cls] !== undefined ? { category_name: names[d.cls] } : {}),
            bbox: d.bbox,
            score: d.score,
            segmentation: d.segmentation,
          });
        }
      });
      post += (performance.now() - t) / 1000;
    }
    return { results, inputs, seconds: { letterbox, inference, post } };
  } finally {
    await session.release();
  }
}

/** Class names from the model's Ultralytics metadata (`names`: a Python dict literal). */
export function modelClassNames(modelPath: string): string[] {
  const model = onnxProto.onnx.ModelProto.decode(readFileSync(modelPath));
  const prop = model.metadataProps.find((p) => p.key === 'names');
  const names: string[] = [];
  for (const m of (prop?.value ?? '').matchAll(/(\d+)\s*:\s*(?:'([^']*)'|"([^"]*)")/g)) names[Number(m[1])] = m[2] ?? m[3]!;
  return names;
}

interface Layout {
  readonly channels: number;
  readonly anchors: number;
  readonly nm: number;
  readonly ph: number;
  readonly pw: number;
  /** model input side, px */
  readonly size: number;
}

interface Decoded {
  readonly cls: number;
  readonly score: number;
  readonly bbox: [number, number, number, number];
  readonly segmentation: { size: [number, number]; counts: string };
}

function decodeImage(
  out0: Float32Array,
  protos: Float32Array,
  L: Layout,
  info: LetterboxInfo,
  o: { conf: number; iou: number; maxDet: number; retinaMasks: boolean },
): Decoded[] {
  const A = L.anchors;
  const nc = L.channels - 4 - L.nm;
  interface Cand {
    a: number;
    cls: number;
    score: number;
    x1: number;
    y1: number;
    x2: number;
    y2: number;
  }
  const cands: Cand[] = [];
  for (let a = 0; a < A; a++) {
    let best = -Infinity;
    let cls = -1;
    for (let c = 0; c < nc; c++) {
      const v = out0[(4 + c) * A + a]!;
      if (v > best) {
        best = v;
        cls = c;
      }
    }
    if (!(best > o.conf)) continue;
    const cx = out0[a]!;
    const cy = out0[A + a]!;
    const hw = out0[2 * A + a]! / 2;
    const hh = out0[3 * A + a]! / 2;
    cands.push({ a, cls, score: best, x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh });
  }
  // torchvision.ops.nms on class-offset boxes = NMS within each class; kept in score order.
  cands.sort((p, q) => q.score - p.score);
  const kept: Cand[] = [];
  const byClass = new Map<number, Cand[]>();
  for (const c of cands) {
    if (kept.length >= o.maxDet) break;
    const same = byClass.get(c.cls) ?? [];
    const area = (c.x2 - c.x1) * (c.y2 - c.y1);
    let suppressed = false;
    for (const k of same) {
      const iw = Math.max(0, Math.min(c.x2, k.x2) - Math.max(c.x1, k.x1));
      const ih = Math.max(0, Math.min(c.y2, k.y2) - Math.max(c.y1, k.y1));
      const inter = iw * ih;
      if (inter / ((k.x2 - k.x1) * (k.y2 - k.y1) + area - inter) > o.iou) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    same.push(c);
    byClass.set(c.cls, same);
    kept.push(c);
  }

  const { width: W, height: H } = info;
  const gain = Math.min(L.size / H, L.size / W);
  const padX = (L.size - W * gain) / 2;
  const padY = (L.size - H * gain) / 2;
  const boxPadX = roundHalfEven(padX - 0.1);
  const boxPadY = roundHalfEven(padY - 0.1);
  const cut = {
    top: Math.trunc(roundHalfEven(padY - 0.1)),
    left: Math.trunc(roundHalfEven(padX - 0.1)),
    bottom: L.size - Math.trunc(roundHalfEven(padY + 0.1)),
    right: L.size - Math.trunc(roundHalfEven(padX + 0.1)),
  };
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return kept.map((k) => {
    const x1 = clip((k.x1 - boxPadX) / gain, W);
    const y1 = clip((k.y1 - boxPadY) / gain, H);
    const x2 = clip((k.x2 - boxPadX) / gain, W);
    const y2 = clip((k.y2 - boxPadY) / gain, H);
    const coef = new Float64Array(L.nm);
    for (let m = 0; m < L.nm; m++) coef[m] = out0[(4 + nc + m) * A + k.a]!;
    const mask = o.retinaMasks ? nativeMask(coef, protos, { x1, y1, x2, y2 }, L, W, H) : imageMask(coef, protos, k, L, cut, W, H);
    return { cls: k.cls, score: k.score, bbox: [x1, y1, x2 - x1, y2 - y1], segmentation: encodeMask(mask, W, H) };
  });
}

/** A mask over part of the image: its top-left corner and size, px, and row-major bits. */
interface MaskCropLike {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** One bilinear tap of PyTorch's upsample_bilinear2d (align_corners=False, no scale given). */
interface Taps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly l1: Float64Array;
}
function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l1 = new Float64Array(outSize);
  for (let d = 0; d < outSize; d++) {
    const src = Math.max((d + 0.5) * scale - 0.5, 0);
    const i = Math.floor(src);
    i0[d] = i;
    i1[d] = i < inSize - 1 ? i + 1 : i;
    l1[d] = src - i;
  }
  return { i0, i1, l1 };
}
const tapCache = new Map<string, Taps>();
function cachedTaps(inSize: number, outSize: number): Taps {
  const key = `${inSize}>${outSize}`;
  let t = tapCache.get(key);
  if (t === undefined) tapCache.set(key, (t = taps(inSize, outSize)));
  return t;
}

/**
 * A source image given over a window [x0, x0 + width) x [y0, y0 + height) of its sw x sh frame;
 * the window must hold every pixel the resampled region reads (see `tapWindow`).
 */
interface Window {
  readonly data: Float64Array | Uint8Array;
  readonly x0: number;
  readonly y0: number;
  readonly width: number;
}

/** The source window [x0, x1) x [y0, y1) that the bilinear taps of a destination region read. */
function tapWindow(sw: number, sh: number, dw: number, dh: number, x0: number, x1: number, y0: number, y1: number): [number, number, number, number] {
  const tx = cachedTaps(sw, dw);
  const ty = cachedTaps(sh, dh);
  return [tx.i0[x0]!, tx.i1[x1 - 1]! + 1, ty.i0[y0]!, ty.i1[y1 - 1]! + 1];
}

/**
 * Bilinear resample (PyTorch's upsample_bilinear2d, align_corners=False) of a sw x sh source to
 * a dw x dh frame, computed over [x0, x1) x [y0, y1) only and thresholded > 0.5; row-major.
 */
function resampleBits(src: Window, sw: number, sh: number, dw: number, dh: number, x0: number, x1: number, y0: number, y1: number): Uint8Array {
  const tx = cachedTaps(sw, dw);
  const ty = cachedTaps(sh, dh);
  const w = x1 - x0;
  const out = new Uint8Array(w * (y1 - y0));
  const { data, width: sww } = src;
  const ox = src.x0;
  for (let y = y0; y < y1; y++) {
    const r0 = (ty.i0[y]! - src.y0) * sww - ox;
    const r1 = (ty.i1[y]! - src.y0) * sww - ox;
    const ly1 = ty.l1[y]!;
    const ly0 = 1 - ly1;
    for (let x = x0; x < x1; x++) {
      const c0 = tx.i0[x]!;
      const c1 = tx.i1[x]!;
      const lx1 = tx.l1[x]!;
      const lx0 = 1 - lx1;
      const v = ly0 * (lx0 * data[r0 + c0]! + lx1 * data[r0 + c1]!) + ly1 * (lx0 * data[r1 + c0]! + lx1 * data[r1 + c1]!);
      if (v > 0.5) out[(y - y0) * w + (x - x0)] = 1;
    }
  }
  return out;
}

/** The destination range [lo, hi) whose bilinear taps can reach source indices [a, b). */
function reach(a: number, b: number, scale: number, outSize: number): [number, number] {
  if (b <= a) return [0, 0];
  const lo = Math.max(0, Math.floor((a - 0.5) / scale - 0.5) - 1);
  const hi = Math.min(outSize, Math.ceil((b + 0.5) / scale - 0.5) + 2);
  return [lo, Math.max(lo, hi)];
}

function imageMask(
  coef: Float64Array,
  protos: Float32Array,
  box: { x1: number; y1: number; x2: number; y2: number },
  L: Layout,
  cut: { top: number; left: number; bottom: number; right: number },
  W: number,
  H: number,
): MaskCropLike {
  const empty = { x: 0, y: 0, width: 0, height: 0, data: new Uint8Array(0) };
  const { pw, ph, nm, size } = L;
  // crop_mask on the prototype grid: index i kept when x1 * pw/size <= i < x2 * pw/size.
  const bx1 = box.x1 * (pw / size);
  const bx2 = box.x2 * (pw / size);
  const by1 = box.y1 * (ph / size);
  const by2 = box.y2 * (ph / size);
  const c0 = Math.max(0, Math.ceil(bx1));
  const c1 = Math.min(pw, Math.ceil(bx2));
  const r0 = Math.max(0, Math.ceil(by1));
  const r1 = Math.min(ph, Math.ceil(by2));
  if (c1 <= c0 || r1 <= r0) return empty;
  const plane = pw * ph;
  if (protoBuffer.length !== plane) protoBuffer = new Float64Array(plane);
  const proto = protoBuffer;
  for (let r = r0; r < r1; r++) {
    for (let c = c0; c < c1; c++) {
      if (!(c >= bx1 && c < bx2 && r >= by1 && r < by2)) continue;
      let s = 0;
      const i = r * pw + c;
      for (let m = 0; m < nm; m++) s += coef[m]! * protos[m * plane + i]!;
      proto[i] = 1 / (1 + Math.exp(-s));
    }
  }
  // Upsample to the model input (size x size), only where the crop can reach, and only inside
  // the cut (scale_masks drops the padding).
  const [rx0, rx1] = reach(c0, c1, pw / size, size);
  const [ry0, ry1] = reach(r0, r1, ph / size, size);
  const ux0 = Math.max(rx0, cut.left);
  const ux1 = Math.min(rx1, cut.right);
  const uy0 = Math.max(ry0, cut.top);
  const uy1 = Math.min(ry1, cut.bottom);
  const up = ux1 > ux0 && uy1 > uy0 ? resampleBits({ data: proto, x0: 0, y0: 0, width: pw }, pw, ph, size, size, ux0, ux1, uy0, uy1) : new Uint8Array(0);
  for (let r = r0; r < r1; r++) proto.fill(0, r * pw + c0, r * pw + c1);
  // The set pixels' bounds, in cut coordinates.
  const uw = ux1 - ux0;
  let mx0 = Infinity;
  let mx1 = -Infinity;
  let my0 = Infinity;
  let my1 = -Infinity;
  for (let y = uy0; y < uy1; y++) {
    for (let x = ux0; x < ux1; x++) {
      if (!up[(y - uy0) * uw + (x - ux0)]) continue;
      if (x < mx0) mx0 = x;
      if (x + 1 > mx1) mx1 = x + 1;
      if (y < my0) my0 = y;
      if (y + 1 > my1) my1 = y + 1;
    }
  }
  if (mx1 <= mx0) return empty;
  // scale_masks: bilinear from the cut (cutW x cutH) to the image size, > 0.5. The source is
  // read through a window: `up` covers [ux0, ux1) x [uy0, uy1) of the letterbox, zero elsewhere.
  const cutW = cut.right - cut.left;
  const cutH = cut.bottom - cut.top;
  const [ox0, ox1] = reach(mx0 - cut.left, mx1 - cut.left, cutW / W, W);
  const [oy0, oy1] = reach(my0 - cut.top, my1 - cut.top, cutH / H, H);
  // Copy the set pixels into a zeroed window that holds every tap of the output region.
  const [wx0, wx1, wy0, wy1] = tapWindow(cutW, cutH, W, H, ox0, ox1, oy0, oy1);
  const ww = wx1 - wx0;
  const win = new Uint8Array(ww * (wy1 - wy0));
  for (let y = Math.max(uy0 - cut.top, wy0); y < Math.min(uy1 - cut.top, wy1); y++) {
    for (let x = Math.max(ux0 - cut.left, wx0); x < Math.min(ux1 - cut.left, wx1); x++) {
      win[(y - wy0) * ww + (x - wx0)] = up[(y + cut.top - uy0) * uw + (x + cut.left - ux0)]!;
    }
  }
  const data = resampleBits({ data: win, x0: wx0, y0: wy0, width: ww }, cutW, cutH, W, H, ox0, ox1, oy0, oy1);
  return { x: ox0, y: oy0, width: ox1 - ox0, height: oy1 - oy0, data };
}
let protoBuffer = new Float64Array(0);

/**
 * process_mask_native: sigmoid(coefficients @ prototypes), scale_masks from the prototype grid
 * (its padding cut at prototype scale) bilinear to the image, crop_mask with the box in image
 * px (pixel index i kept when x1 <= i < x2), > 0.5. Only pixels inside the box are computed.
 */
function nativeMask(coef: Float64Array, protos: Float32Array, box: { x1: number; y1: number; x2: number; y2: number }, L: Layout, W: number, H: number): MaskCropLike {
  const { pw, ph, nm } = L;
  const plane = pw * ph;
  const gain = Math.min(ph / H, pw / W);
  const padX = (pw - W * gain) / 2;
  const padY = (ph - H * gain) / 2;
  const top = roundHalfEven(padY - 0.1);
  const left = roundHalfEven(padX - 0.1);
  const tx = cachedTaps(pw - roundHalfEven(padX + 0.1) - left, W);
  const ty = cachedTaps(ph - roundHalfEven(padY + 0.1) - top, H);
  const x0 = Math.max(0, Math.ceil(box.x1));
  const x1 = Math.min(W, Math.ceil(box.x2));
  const y0 = Math.max(0, Math.ceil(box.y1));
  const y1 = Math.min(H, Math.ceil(box.y2));
  if (x1 <= x0 || y1 <= y0) return { x: 0, y: 0, width: 0, height: 0, data: new Uint8Array(0) };
  if (protoBuffer.length !== plane) protoBuffer = new Float64Array(plane);
  const prob = protoBuffer;
  const done = new Uint8Array(plane);
  /** Prototype-grid value at (row, col) of the cut, computed on first use. */
  const at = (r: number, c: number): number => {
    const i = (r + top) * pw + (c + left);
    if (!done[i]) {
      let s = 0;
      for (let m = 0; m < nm; m++) s += coef[m]! * protos[m * plane + i]!;
      prob[i] = 1 / (1 + Math.exp(-s));
      done[i] = 1;
    }
    return prob[i]!;
  };
  const w = x1 - x0;
  const data = new Uint8Array(w * (y1 - y0));
  for (let y = y0; y < y1; y++) {
    const r0 = ty.i0[y]!;
    const r1 = ty.i1[y]!;
    const ly1 = ty.l1[y]!;
    for (let x = x0; x < x1; x++) {
      const c0 = tx.i0[x]!;
      const c1 = tx.i1[x]!;
      const lx1 = tx.l1[x]!;
      const v = (1 - ly1) * ((1 - lx1) * at(r0, c0) + lx1 * at(r0, c1)) + ly1 * ((1 - lx1) * at(r1, c0) + lx1 * at(r1, c1));
      if (v > 0.5) data[(y - y0) * w + (x - x0)] = 1;
    }
  }
  return { x: x0, y: y0, width: w, height: y1 - y0, data };
}

export interface MatchSummary {
  /** Reference detections considered. */
  readonly reference: number;
  readonly candidate: number;
  /** Reference detections with a same-class candidate at box IoU >= minIou. */
  readonly matched: number;
  /** matched / reference (1 when there is no reference detection). */
  readonly found: number;
  /** Mean mask IoU of the matched pairs (NaN when none, or when masks are missing). */
  readonly meanMaskIou: number;
}

/**
 * Pairs candidate detections with reference detections: reference detections in descending
 * score, each taking the unmatched candidate of the same image and class with the highest box
 * IoU >= minIou (default 0.5). Images are told apart by image_id.
 */
export function matchDetections(reference: readonly CocoResult[], candidate: readonly CocoResult[], options: { minIou?: number } = {}): MatchSummary {
  const minIou = options.minIou ?? 0.5;
  const byKey = new Map<string, { r: CocoResult; used: boolean }[]>();
  for (const c of candidate) {
    const k = `${c.image_id}:${c.category_id}`;
    const list = byKey.get(k) ?? [];
    list.push({ r: c, used: false });
    byKey.set(k, list);
  }
  const refs = [...reference].sort((a, b) => b.score - a.score);
  let matched = 0;
  let iouSum = 0;
  let masks = true;
  for (const ref of refs) {
    const list = byKey.get(`${ref.image_id}:${ref.category_id}`) ?? [];
    let best: { r: CocoResult; used: boolean } | undefined;
    let bestIou = minIou;
    for (const c of list) {
      if (c.used) continue;
      const v = boxIou(c.r.bbox, ref.bbox);
      if (v >= bestIou && (best === undefined || v > bestIou)) {
        best = c;
        bestIou = v;
      }
    }
    if (best === undefined) continue;
    best.used = true;
    matched++;
    if (ref.segmentation !== undefined && best.r.segmentation !== undefined) {
      iouSum += maskIou(runLengthsFromRle(best.r.segmentation), runLengthsFromRle(ref.segmentation));
    } else masks = false;
  }
  return {
    reference: refs.length,
    candidate: candidate.length,
    matched,
    found: refs.length === 0 ? 1 : matched / refs.length,
    meanMaskIou: matched > 0 && masks ? iouSum / matched : NaN,
  };
}
