import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { SegstreamError } from '../core/index.js';

/** A tensor shape as the model declares it: numbers, or null for a symbolic/dynamic dim. */
export type DeclaredShape = readonly (number | null)[];

export interface TensorDecl {
  readonly name: string;
  readonly shape: DeclaredShape;
}

/** What segstream needs to know about a YOLOv8/YOLO11-seg or FastSAM ONNX export. */
export interface ModelInfo {
  readonly path: string;
  readonly inputName: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Fixed batch size, or null when the batch dimension is dynamic. */
  readonly batch: number | null;
  readonly stride: number;
  readonly task: string;
  readonly classNames: readonly string[];
  readonly numClasses: number;
  /** Number of prototype masks (32 for YOLOv8-seg). */
  readonly numMasks: number;
  /** Anchors per image in output0 (2100 at 320x320). */
  readonly numAnchors: number;
  readonly detName: string;
  readonly protoName: string;
  readonly protoWidth: number;
  readonly protoHeight: number;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Reads the file and its ONNX metadata; errors name the file and what was expected. */
export async function readModelFile(path: string): Promise<{ bytes: Uint8Array; info: ModelInfo }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SegstreamError('E_MODEL_NOT_FOUND', `model file ${path} cannot be read: ${(err as Error).message}`, {
      expected: 'a readable ONNX file',
      cause: err,
    });
  }
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw corrupt(path, `not a valid ONNX protobuf (${(err as Error).message})`, err);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) throw corrupt(path, 'the ONNX file holds no graph');
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name)).map(toDecl);
  const outputs = (graph.output ?? []).map(toDecl);
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return { bytes, info: describeModel(path, metadata, inputs, outputs) };
}

function corrupt(path: string, why: string, cause?: unknown): SegstreamError {
  return new SegstreamError('E_MODEL_CORRUPT', `model file ${path} is corrupt: ${why}`, {
    expected: 'an ONNX ModelProto',
    cause,
  });
}

function toDecl(v: onnxProto.onnx.IValueInfoProto): TensorDecl {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return {
    name: v.name ?? '',
    shape: dims.map((d) => {
      const value = d.dimValue;
      const n = value === undefined || value === null ? 0 : Number(value);
      return d.dimParam || n <= 0 ? null : n;
    }),
  };
}

/**
 * Validates a segmentation model's declared inputs/outputs and metadata (pure).
 * The class count comes from output0: channels - 4 box values - number of prototypes,
 * so an 80-class COCO model and a 1-class FastSAM model are both understood.
 */
export function describeModel(
  path: string,
  metadata: Readonly<Record<string, string>>,
  inputs: readonly TensorDecl[],
  outputs: readonly TensorDecl[],
): ModelInfo {
  const task = metadata['task'] ?? 'segment';
  if (task !== 'segment') {
    throw new SegstreamError('E_MODEL_NOT_SEGMENTATION', `model ${path} is a '${task}' model, not a segmentation model`, {
      expected: 'task=segment',
      actual: `task=${task}`,
    });
  }
  if (outputs.length < 2) {
    throw new SegstreamError(
      'E_MODEL_NOT_SEGMENTATION',
      `model ${path} has ${outputs.length} output(s); a segmentation model has detections and mask prototypes`,
      { expected: 'outputs [batch, 4+classes+masks, anchors] and [batch, masks, h, w]', actual: outputs.map(fmt) },
    );
  }
  const input = inputs[0];
  if (inputs.length !== 1 || !input || input.shape.length !== 4 || input.shape[1] !== 3) {
    throw new SegstreamError('E_MODEL_SHAPE', `model ${path} must take one image input [batch, 3, height, width]`, {
      expected: '[batch, 3, height, width]',
      actual: inputs.map(fmt),
    });
  }
  const det = outputs.find((o) => o.shape.length === 3);
  const proto = outputs.find((o) => o.shape.length === 4);
  if (!det || !proto) {
    throw new SegstreamError('E_MODEL_NOT_SEGMENTATION', `model ${path} lacks a 3-d detection output and a 4-d prototype output`, {
      expected: '[batch, 4+classes+masks, anchors] and [batch, masks, h, w]',
      actual: outputs.map(fmt),
    });
  }
  const imgsz = parseImgsz(metadata['imgsz']);
  const inputHeight = input.shape[2] ?? imgsz?.[0] ?? null;
  const inputWidth = input.shape[3] ?? imgsz?.[1] ?? null;
  const channels = det.shape[1];
  const numAnchors = det.shape[2];
  const numMasks = proto.shape[1];
  const protoHeight = proto.shape[2];
  const protoWidth = proto.shape[3];
  if (
    inputHeight === null ||
    inputWidth === null ||
    channels == null ||
    numAnchors == null ||
    numMasks == null ||
    protoHeight == null ||
    protoWidth == null
  ) {
    throw new SegstreamError('E_MODEL_SHAPE', `model ${path} must declare fixed image, output and prototype sizes`, {
      expected: 'static height/width, channels, anchors and prototype dims',
      actual: [...inputs, ...outputs].map(fmt),
    });
  }
  const numClasses = channels - 4 - numMasks;
  if (numClasses < 1) {
    throw new SegstreamError('E_MODEL_NOT_SEGMENTATION', `model ${path}: output0 has ${channels} channels, too few for 4 box values, >=1 class and ${numMasks} mask coefficients`, {
      expected: `>= ${4 + 1 + numMasks} channels`,
      actual: channels,
    });
  }
  const batches = [input.shape[0], det.shape[0], proto.shape[0]];
  const batch = batches.every((b) => b === null || b === undefined) ? null : (batches.find((b) => typeof b === 'number') ?? null);
  const names = parseNames(metadata['names']);
  let classNames: string[];
  if (names.length === numClasses) classNames = names;
  else if (names.length === 0) classNames = Array.from({ length: numClasses }, (_, i) => (numClasses === 1 ? 'object' : `class${i}`));
  else {
    throw new SegstreamError('E_MODEL_SHAPE', `model ${path}: metadata names ${names.length} classes but output0 carries ${numClasses}`, {
      expected: numClasses,
      actual: names.length,
    });
  }
  const stride = Number.parseInt(metadata['stride'] ?? '32', 10);
  return {
    path,
    inputName: input.name,
    inputWidth,
    inputHeight,
    batch,
    stride: Number.isFinite(stride) && stride > 0 ? stride : 32,
    task,
    classNames,
    numClasses,
    numMasks,
    numAnchors,
    detName: det.name,
    protoName: proto.name,
    protoWidth,
    protoHeight,
    metadata,
  };
}

function fmt(t: TensorDecl): string {
  return `${t.name}[${t.shape.map((d) => (d === null ? '?' : d)).join(',')}]`;
}

/** `[320, 320]` or `320` -> [h, w]. */
export function parseImgsz(s: string | undefined): [number, number] | null {
  if (!s) return null;
  const nums = s.match(/\d+/g)?.map(Number) ?? [];
  if (nums.length === 1) return [nums[0]!, nums[0]!];
  if (nums.length >= 2) return [nums[0]!, nums[1]!];
  return null;
}

/**
 * Ultralytics stores class names as a Python dict literal: `{0: 'person', 1: "it's"}`.
 * Returns names ordered by index; [] when absent or unparsable.
 */
export function parseNames(s: string | undefined): string[] {
  if (!s) return [];
  const out: string[] = [];
  const re = /(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const raw = m[2] ?? m[3] ?? '';
    out[Number(m[1])] = raw.replace(/\\(.)/g, '$1');
  }
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) return [];
  return out;
}
