import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { SegstreamError, type Detections } from '../core/index.js';
import { promptError } from './errors.js';
import { clipPreprocess, maskBounds, segmentCrop, type RgbImage } from './image.js';
import type { TextSelector } from './select.js';
import { ClipTokenizer, CLIP_CONTEXT_LENGTH } from './tokenizer.js';

/**
 * FastSAM's text prompt: every mask is cut out of the frame (segmentCrop), embedded by a CLIP
 * image encoder, compared with the CLIP text embedding of the prompt (cosine similarity of
 * L2-normalised embeddings x logit scale), softmaxed over the masks, and the argmax wins.
 *
 * The encoders are ONNX exports run by onnxruntime-node in the caller's thread (a 224 px
 * ViT-B/32 image pass is tens of ms per crop on a CPU; move this to a worker before using it
 * on a busy event loop).
 *
 * Image encoder: one float32 input [batch, 3, S, S] (S from the model, else `imageSize`),
 * one output [batch, D] (or [batch, 1, D]). Text encoder: an int32 or int64 ids input
 * [batch, L] (L from the model, else 77), optionally an `attention_mask` input of the same
 * shape, one output [batch, D]. `imageOutput` / `textOutput` pick an output by name when a
 * model has several (Hugging Face exports: `image_embeds`, `text_embeds`).
 */

export interface ClipOptions {
  /** Image side, px, when the model does not fix it. */
  readonly imageSize?: number;
  /** Masks with fewer pixels are not scored (FastSAM: 100 px). */
  readonly minMaskArea?: number;
  /** R = G = B value outside the mask in a crop (FastSAM: 255, white). */
  readonly background?: number;
  /** Multiplies cosine similarities before the softmax (CLIP / FastSAM: 100). */
  readonly logitScale?: number;
  /** Crops per image-encoder run. */
  readonly maxBatch?: number;
  /** onnxruntime intra-op threads per session. */
  readonly threads?: number;
  readonly imageOutput?: string;
  readonly textOutput?: string;
  /** Text embeddings kept (distinct prompt texts). */
  readonly textCacheSize?: number;
}

export const DEFAULT_CLIP_OPTIONS = {
  imageSize: 224,
  minMaskArea: 100,
  background: 255,
  logitScale: 100,
  maxBatch: 16,
  threads: 1,
  textCacheSize: 64,
} as const;

export interface ClipFiles {
  /** Image encoder ONNX (`--clip-image`). */
  readonly image: string;
  /** Text encoder ONNX (`--clip-text`). */
  readonly text: string;
  /** BPE merges, plain or .gz (`--clip-merges`). */
  readonly merges: string;
  /** Optional Hugging Face vocab.json. */
  readonly vocab?: string;
}

/** In place: v / |v|; a zero vector stays zero. */
export function l2Normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`dot: lengths differ (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Numerically stable softmax. */
export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/**
 * FastSAM `retrieve`: softmax over images of logitScale x cos(image, text), embeddings
 * L2-normalised here. Returns the probabilities and the argmax (first on ties).
 */
export function rankByText(imageEmbeds: readonly Float32Array[], textEmbed: Float32Array, logitScale = 100): { probabilities: Float32Array; index: number } {
  if (imageEmbeds.length === 0) throw new RangeError('rankByText: no image embeddings');
  const t = l2Normalize(Float32Array.from(textEmbed));
  const logits = imageEmbeds.map((e) => logitScale * dot(l2Normalize(Float32Array.from(e)), t));
  const probabilities = softmax(logits);
  let index = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[index]!) index = i;
  return { probabilities, index };
}

interface ImageIo {
  readonly input: string;
  readonly output: string;
  readonly size: number;
  /** Fixed batch size, or null when dynamic. */
  readonly batch: number | null;
}

interface TextIo {
  readonly ids: string;
  readonly idsType: 'int32' | 'int64';
  readonly mask: string | null;
  readonly maskType: 'int32' | 'int64';
  readonly output: string;
  readonly contextLength: number;
}

/** CLIP image + text encoders with the tokenizer; implements the TextSelector of select.ts. */
export class ClipTextSelector implements TextSelector {
  readonly options: Required<Omit<ClipOptions, 'imageOutput' | 'textOutput'>>;
  readonly imageSize: number;
  readonly contextLength: number;
  private readonly textCache = new Map<string, Float32Array>();
  private closed = false;

  private constructor(
    private readonly imageSession: ort.InferenceSession,
    private readonly textSession: ort.InferenceSession,
    readonly tokenizer: ClipTokenizer,
    private readonly imageIo: ImageIo,
    private readonly textIo: TextIo,
    options: ClipOptions,
  ) {
    this.options = { ...DEFAULT_CLIP_OPTIONS, ...stripUndefined(options) } as Required<Omit<ClipOptions, 'imageOutput' | 'textOutput'>>;
    this.imageSize = imageIo.size;
    this.contextLength = textIo.contextLength;
  }

  /** Reads the three (or four) files named by --clip-image, --clip-text, --clip-merges. */
  static async load(files: ClipFiles, options: ClipOptions = {}): Promise<ClipTextSelector> {
    const [image, text, tokenizer] = await Promise.all([
      readModel(files.image, 'CLIP image encoder'),
      readModel(files.text, 'CLIP text encoder'),
      ClipTokenizer.fromFiles(files.merges, files.vocab),
    ]);
    return ClipTextSelector.create(image, text, tokenizer, options, files);
  }

  /** From model bytes already in memory. */
  static async create(
    imageModel: Uint8Array,
    textModel: Uint8Array,
    tokenizer: ClipTokenizer,
    options: ClipOptions = {},
    names: { image?: string; text?: string } = {},
  ): Promise<ClipTextSelector> {
    const threads = options.threads ?? DEFAULT_CLIP_OPTIONS.threads;
    const imageName = names.image ?? 'CLIP image encoder';
    const textName = names.text ?? 'CLIP text encoder';
    const imageSession = await openSession(imageModel, imageName, threads);
    let textSession: ort.InferenceSession;
    try {
      textSession = await openSession(textModel, textName, threads);
    } catch (err) {
      await imageSession.release();
      throw err;
    }
    try {
      const imageIo = describeImageEncoder(imageSession, imageName, options);
      const textIo = describeTextEncoder(textSession, textName, options);
      if (textIo.contextLength < 2) {
        throw new SegstreamError('E_MODEL_SHAPE', `${textName}: a context of ${textIo.contextLength} tokens cannot hold start and end tokens`, {
          expected: '>= 2',
          actual: textIo.contextLength,
        });
      }
      return new ClipTextSelector(imageSession, textSession, tokenizer, imageIo, textIo, options);
    } catch (err) {
      await Promise.all([imageSession.release(), textSession.release()]);
      throw err;
    }
  }

  /** L2-normalised text embedding (cached per text). */
  async encodeText(text: string): Promise<Float32Array> {
    this.assertOpen();
    const hit = this.textCache.get(text);
    if (hit) return hit;
    const io = this.textIo;
    const { ids, length } = this.tokenizer.tokenize(text, io.contextLength);
    const feeds: Record<string, ort.Tensor> = { [io.ids]: intTensor(io.idsType, ids, [1, io.contextLength]) };
    if (io.mask !== null) {
      const mask = new Int32Array(io.contextLength);
      mask.fill(1, 0, length);
      feeds[io.mask] = intTensor(io.maskType, mask, [1, io.contextLength]);
    }
    const out = await runSession(this.textSession, feeds, io.output, 'CLIP text encoder');
    const emb = l2Normalize(Float32Array.from(out));
    if (this.textCache.size >= this.options.textCacheSize) this.textCache.delete(this.textCache.keys().next().value!);
    this.textCache.set(text, emb);
    return emb;
  }

  /** L2-normalised embeddings of already cut-out crops, one per crop. */
  async encodeImages(crops: readonly RgbImage[]): Promise<Float32Array[]> {
    this.assertOpen();
    const io = this.imageIo;
    const S = io.size;
    const plane = 3 * S * S;
    const step = io.batch ?? Math.max(1, this.options.maxBatch);
    const embeds: Float32Array[] = [];
    for (let start = 0; start < crops.length; start += step) {
      const chunk = crops.slice(start, start + step);
      // A fixed-batch model gets zero padding after the last crop.
      const n = io.batch ?? chunk.length;
      const input = new Float32Array(n * plane);
      chunk.forEach((c, i) => clipPreprocess(c, S, input, i * plane));
      const out = await runSession(this.imageSession, { [io.input]: new ort.Tensor('float32', input, [n, 3, S, S]) }, io.output, 'CLIP image encoder');
      if (out.length % n !== 0) {
        throw new SegstreamError('E_MODEL_SHAPE', `CLIP image encoder returned ${out.length} floats for a batch of ${n}`, {
          expected: `a multiple of ${n}`,
          actual: out.length,
        });
      }
      const d = out.length / n;
      for (let i = 0; i < chunk.length; i++) embeds.push(l2Normalize(out.slice(i * d, (i + 1) * d)));
    }
    return embeds;
  }

  /**
   * Scores every detection's mask against the text (FastSAM text_prompt). Masks under
   * `minMaskArea` px are skipped and get probability 0. Throws E_PROMPT_NO_MATCH when no
   * mask can be scored. A segstream Frame can be passed as `image` as is (its letterbox says
   * how its picture relates to the source-px masks).
   */
  async selectByText(text: string, det: Detections, image: RgbImage): Promise<{ index: number; probabilities: Float32Array }> {
    this.assertOpen();
    const crops: RgbImage[] = [];
    const which: number[] = [];
    for (let i = 0; i < det.length; i++) {
      const mask = det.masks[i] ?? null;
      if (mask !== null) {
        const b = maskBounds(mask);
        if (b === null || b.area < this.options.minMaskArea) continue;
      } else {
        const [x1, y1, x2, y2] = det.box(i);
        if ((x2 - x1) * (y2 - y1) < this.options.minMaskArea) continue;
      }
      const crop = segmentCrop(image, mask, det.box(i), { background: this.options.background });
      if (crop === null) continue;
      crops.push(crop);
      which.push(i);
    }
    if (crops.length === 0) {
      throw promptError('E_PROMPT_NO_MATCH', `no object in this frame is large enough for CLIP to score (>= ${this.options.minMaskArea} px)`, {
        expected: `a mask of >= ${this.options.minMaskArea} px`,
        actual: { objects: det.length },
      });
    }
    const t = await this.encodeText(text);
    const images = await this.encodeImages(crops);
    if (images[0]!.length !== t.length) {
      throw new SegstreamError('E_MODEL_SHAPE', `CLIP image embeddings have ${images[0]!.length} dims, text embeddings ${t.length}`, {
        expected: t.length,
        actual: images[0]!.length,
      });
    }
    const r = rankByText(images, t, this.options.logitScale);
    const probabilities = new Float32Array(det.length);
    which.forEach((d, k) => (probabilities[d] = r.probabilities[k]!));
    return { index: which[r.index]!, probabilities };
  }

  /** Releases both sessions; safe to call twice. Later calls to the encoders throw. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.textCache.clear();
    await Promise.all([this.imageSession.release(), this.textSession.release()]);
  }

  private assertOpen(): void {
    if (this.closed) throw new SegstreamError('E_INFERENCE', 'the CLIP text selector is closed');
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function readModel(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new SegstreamError('E_MODEL_NOT_FOUND', `${what} ${path} cannot be read: ${(err as Error).message}`, {
      expected: 'a readable ONNX file',
      cause: err,
    });
  }
}

async function openSession(bytes: Uint8Array, what: string, threads: number): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  } catch (err) {
    throw new SegstreamError('E_MODEL_CORRUPT', `onnxruntime cannot load the ${what}: ${(err as Error).message}`, {
      expected: 'an ONNX model onnxruntime can load',
      cause: err,
    });
  }
}

function tensorMeta(session: ort.InferenceSession, name: string): { type: string; shape: readonly (number | string)[] } | null {
  const m = session.inputMetadata.find((v) => v.name === name);
  return m && m.isTensor ? { type: m.type, shape: m.shape } : null;
}

function pickOutput(session: ort.InferenceSession, wanted: string | undefined, what: string): string {
  if (wanted !== undefined) {
    if (!session.outputNames.includes(wanted)) {
      throw new SegstreamError('E_MODEL_SHAPE', `${what} has no output '${wanted}'`, { expected: wanted, actual: session.outputNames });
    }
    return wanted;
  }
  const first = session.outputNames[0];
  if (first === undefined) throw new SegstreamError('E_MODEL_SHAPE', `${what} has no outputs`, { expected: 'an embedding output', actual: [] });
  return first;
}

function describeImageEncoder(session: ort.InferenceSession, what: string, options: ClipOptions): ImageIo {
  const input = session.inputNames[0];
  const meta = input === undefined ? null : tensorMeta(session, input);
  if (input === undefined || session.inputNames.length !== 1 || meta === null || meta.type !== 'float32' || meta.shape.length !== 4 || (typeof meta.shape[1] === 'number' && meta.shape[1] !== 3)) {
    throw new SegstreamError('E_MODEL_SHAPE', `${what} must take one float32 image input [batch, 3, size, size]`, {
      expected: 'float32[batch, 3, size, size]',
      actual: session.inputNames.map((n) => describeInput(session, n)),
    });
  }
  const [b, , h, w] = meta.shape;
  let size = options.imageSize ?? DEFAULT_CLIP_OPTIONS.imageSize;
  if (typeof h === 'number' && typeof w === 'number') {
    if (h !== w) throw new SegstreamError('E_MODEL_SHAPE', `${what} must take a square image`, { expected: 'size x size', actual: `${w}x${h}` });
    size = h;
  }
  return { input, output: pickOutput(session, options.imageOutput, what), size, batch: typeof b === 'number' && b > 0 ? b : null };
}

function describeTextEncoder(session: ort.InferenceSession, what: string, options: ClipOptions): TextIo {
  const bad = (): SegstreamError =>
    new SegstreamError('E_MODEL_SHAPE', `${what} must take int32/int64 token ids [batch, length] (and optionally attention_mask)`, {
      expected: 'input_ids int64[batch, 77] (+ attention_mask)',
      actual: session.inputNames.map((n) => describeInput(session, n)),
    });
  const maskName = session.inputNames.find((n) => /attention_mask/i.test(n)) ?? null;
  const others = session.inputNames.filter((n) => n !== maskName);
  const ids = others[0];
  if (ids === undefined || others.length !== 1) throw bad();
  const meta = tensorMeta(session, ids);
  if (meta === null || (meta.type !== 'int32' && meta.type !== 'int64') || meta.shape.length !== 2) throw bad();
  let maskType: 'int32' | 'int64' = 'int64';
  if (maskName !== null) {
    const mm = tensorMeta(session, maskName);
    if (mm === null || (mm.type !== 'int32' && mm.type !== 'int64')) throw bad();
    maskType = mm.type;
  }
  const L = meta.shape[1];
  return {
    ids,
    idsType: meta.type,
    mask: maskName,
    maskType,
    output: pickOutput(session, options.textOutput, what),
    contextLength: typeof L === 'number' && L > 0 ? L : CLIP_CONTEXT_LENGTH,
  };
}

function describeInput(session: ort.InferenceSession, name: string): string {
  const m = tensorMeta(session, name);
  return m ? `${name}: ${m.type}[${m.shape.join(',')}]` : name;
}

function intTensor(type: 'int32' | 'int64', values: Int32Array, dims: number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', values, dims);
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

async function runSession(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, output: string, what: string): Promise<Float32Array> {
  let result: ort.InferenceSession.ReturnType;
  try {
    result = await session.run(feeds);
  } catch (err) {
    throw new SegstreamError('E_INFERENCE', `${what} failed: ${(err as Error).message}`, { cause: err });
  }
  const t = result[output];
  if (!t || t.type !== 'float32') {
    throw new SegstreamError('E_MODEL_SHAPE', `${what} output '${output}' is not a float32 tensor`, { expected: 'float32', actual: t?.type ?? null });
  }
  return t.data as Float32Array;
}
