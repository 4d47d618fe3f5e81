/**
 * Builds tiny ONNX models for tests: YOLOv8-seg-shaped graphs whose outputs are constants
 * chosen by the test (plus 0 * mean(input), so the input is really consumed). They run in
 * real onnxruntime and exercise the real loading, metadata and decoding code.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = 1;
const INT64 = 7;
const ATTR_INT = 2;
const ATTR_INTS = 7;

export interface FakeSegModelOptions {
  numClasses: number;
  numMasks?: number;
  /** Input size, px (square). */
  size?: number;
  /** Fixed batch, or null for a symbolic batch dimension. */
  batch?: number | null;
  /** output0 contents for one image, [4 + nc + nm, anchors], channel-major. */
  det: Float32Array;
  numAnchors: number;
  /** output1 contents for one image, [nm, size/4, size/4]. */
  protos?: Float32Array;
  /** false: leave out the prototype output (a detection-only model). */
  withProtos?: boolean;
  metadata?: Record<string, string>;
  /** Replace the first op type (to make a graph onnxruntime rejects). */
  brokenOp?: string;
}

function dim(v: number | string): onnxProto.onnx.TensorShapeProto.IDimension {
  return typeof v === 'number' ? { dimValue: v } : { dimParam: v };
}

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map(dim) } } } };
}

export function buildFakeSegModel(o: FakeSegModelOptions): Uint8Array {
  const nm = o.numMasks ?? 32;
  const size = o.size ?? 320;
  const p = size / 4;
  const channels = 4 + o.numClasses + nm;
  const b: number | string = o.batch === undefined || o.batch === null ? 'batch' : o.batch;
  if (o.det.length !== channels * o.numAnchors) throw new Error(`det must hold ${channels * o.numAnchors} floats`);
  const protos = o.protos ?? new Float32Array(nm * p * p);
  const withProtos = o.withProtos ?? true;
  const nodes: onnxProto.onnx.INodeProto[] = [
    {
      opType: o.brokenOp ?? 'ReduceMean',
      input: ['images'],
      output: ['mean'],
      attribute: [
        { name: 'axes', type: ATTR_INTS, ints: [1, 2, 3] },
        { name: 'keepdims', type: ATTR_INT, i: 0 },
      ],
    },
    { opType: 'Mul', input: ['mean', 'zero'], output: ['zmean'] },
    { opType: 'Unsqueeze', input: ['zmean', 'axes12'], output: ['z3'] },
    { opType: 'Add', input: ['z3', 'det_const'], output: ['output0'] },
  ];
  const initializer: onnxProto.onnx.ITensorProto[] = [
    { name: 'zero', dims: [], dataType: FLOAT, floatData: [0] },
    { name: 'axes12', dims: [2], dataType: INT64, int64Data: [1, 2] },
    { name: 'det_const', dims: [1, channels, o.numAnchors], dataType: FLOAT, rawData: bytesOf(o.det) },
  ];
  const outputs = [valueInfo('output0', [b, channels, o.numAnchors])];
  if (withProtos) {
    nodes.push({ opType: 'Unsqueeze', input: ['zmean', 'axes123'], output: ['z4'] });
    nodes.push({ opType: 'Add', input: ['z4', 'proto_const'], output: ['output1'] });
    initializer.push({ name: 'axes123', dims: [3], dataType: INT64, int64Data: [1, 2, 3] });
    initializer.push({ name: 'proto_const', dims: [1, nm, p, p], dataType: FLOAT, rawData: bytesOf(protos) });
    outputs.push(valueInfo('output1', [b, nm, p, p]));
  }
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: 'segstream-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'fake-seg',
      node: nodes,
      initializer,
      input: [valueInfo('images', [b, 3, size, size])],
      output: outputs,
    },
    metadataProps: Object.entries({ task: 'segment', imgsz: `[${size}, ${size}]`, stride: '32', ...(o.metadata ?? {}) }).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * A det tensor for one image with the given boxes set at anchors 0..k-1:
 * [cx, cy, w, h] in input px, a score for one class, and mask coefficients.
 */
export function detTensor(
  numClasses: number,
  numMasks: number,
  numAnchors: number,
  boxes: { cx: number; cy: number; w: number; h: number; classId: number; score: number; coef: number[] }[],
): Float32Array {
  const det = new Float32Array((4 + numClasses + numMasks) * numAnchors);
  boxes.forEach((bx, a) => {
    det[0 * numAnchors + a] = bx.cx;
    det[1 * numAnchors + a] = bx.cy;
    det[2 * numAnchors + a] = bx.w;
    det[3 * numAnchors + a] = bx.h;
    det[(4 + bx.classId) * numAnchors + a] = bx.score;
    bx.coef.forEach((c, k) => (det[(4 + numClasses + k) * numAnchors + a] = c));
  });
  return det;
}
