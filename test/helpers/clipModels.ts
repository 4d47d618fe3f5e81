/**
 * Tiny CLIP-shaped ONNX encoders for tests, with weights chosen by the test, so the real
 * loading, preprocessing, tokenisation and similarity code run end to end in onnxruntime.
 *
 * Image encoder: pixels [b, 3, S, S] -> GlobalAveragePool -> Flatten -> MatMul(W [3, D]):
 * the embedding is W applied to the per-channel means of the normalised crop.
 * Text encoder: ids [b, L] -> Gather(table [V, D]) -> mean over the L positions (or, with an
 * attention mask, the masked sum) -> MatMul(P [D, D]).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Dim = number | string;

function valueInfo(name: string, elemType: number, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function floats(name: string, dims: number[], data: Float32Array): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function model(name: string, graph: onnxProto.onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, producerName: 'segstream-tests', opsetImport: [{ domain: '', version: 17 }], graph: { name, ...graph } }),
  ).finish();
}

export interface ImageEncoderOptions {
  /** [3, D], row-major: embedding = means(R, G, B) x W. */
  weights: Float32Array;
  dim: number;
  size?: number;
  /** Fixed batch, or a symbolic one when absent. */
  batch?: number;
  /** Input channels (3 for a valid encoder; other values make a malformed one). */
  channels?: number;
}

export function buildImageEncoder(o: ImageEncoderOptions): Uint8Array {
  const size = o.size ?? 224;
  const b: Dim = o.batch ?? 'batch';
  const c = o.channels ?? 3;
  if (o.weights.length !== c * o.dim) throw new Error(`weights must hold ${c * o.dim} floats`);
  return model('clip-image', {
    node: [
      { opType: 'GlobalAveragePool', input: ['pixel_values'], output: ['pooled'] },
      { opType: 'Flatten', input: ['pooled'], output: ['flat'], attribute: [{ name: 'axis', type: ATTR_INT, i: 1 }] },
      { opType: 'MatMul', input: ['flat', 'W'], output: ['image_embeds'] },
    ],
    initializer: [floats('W', [c, o.dim], o.weights)],
    input: [valueInfo('pixel_values', FLOAT, [b, c, size, size])],
    output: [valueInfo('image_embeds', FLOAT, [b, o.dim])],
  });
}

export interface TextEncoderOptions {
  /** [V, D], row-major: one embedding row per token id. */
  table: Float32Array;
  vocabSize: number;
  dim: number;
  contextLength?: number;
  /** Element type of the ids input. */
  idsType?: 'int32' | 'int64';
  /** Add an int64 `attention_mask` input; the embedding is then the masked sum of rows. */
  attentionMask?: boolean;
}

export function buildTextEncoder(o: TextEncoderOptions): Uint8Array {
  const L = o.contextLength ?? 77;
  const D = o.dim;
  if (o.table.length !== o.vocabSize * D) throw new Error(`table must hold ${o.vocabSize * D} floats`);
  const eye = new Float32Array(D * D);
  for (let i = 0; i < D; i++) eye[i * D + i] = 1;
  const nodes: onnxProto.onnx.INodeProto[] = [{ opType: 'Gather', input: ['table', 'input_ids'], output: ['rows'], attribute: [{ name: 'axis', type: ATTR_INT, i: 0 }] }];
  const initializer: onnxProto.onnx.ITensorProto[] = [floats('table', [o.vocabSize, D], o.table), floats('P', [D, D], eye)];
  const inputs = [valueInfo('input_ids', o.idsType === 'int32' ? INT32 : INT64, ['batch', L])];
  if (o.attentionMask) {
    nodes.push(
      { opType: 'Cast', input: ['attention_mask'], output: ['maskf'], attribute: [{ name: 'to', type: ATTR_INT, i: FLOAT }] },
      { opType: 'Unsqueeze', input: ['maskf', 'axis2'], output: ['mask3'] },
      { opType: 'Mul', input: ['rows', 'mask3'], output: ['kept'] },
      { opType: 'ReduceSum', input: ['kept', 'axis1'], output: ['pooled'], attribute: [{ name: 'keepdims', type: ATTR_INT, i: 0 }] },
    );
    initializer.push({ name: 'axis2', dims: [1], dataType: INT64, int64Data: [2] }, { name: 'axis1', dims: [1], dataType: INT64, int64Data: [1] });
    inputs.push(valueInfo('attention_mask', INT64, ['batch', L]));
  } else {
    nodes.push({
      opType: 'ReduceMean',
      input: ['rows'],
      output: ['pooled'],
      attribute: [
        { name: 'axes', type: ATTR_INTS, ints: [1] },
        { name: 'keepdims', type: ATTR_INT, i: 0 },
      ],
    });
  }
  nodes.push({ opType: 'MatMul', input: ['pooled', 'P'], output: ['text_embeds'] });
  return model('clip-text', { node: nodes, initializer, input: inputs, output: [valueInfo('text_embeds', FLOAT, ['batch', D])] });
}

/** A [V, D] table that is zero except for the given rows. */
export function embeddingTable(vocabSize: number, dim: number, rows: Record<number, number[]>): Float32Array {
  const t = new Float32Array(vocabSize * dim);
  for (const [id, v] of Object.entries(rows)) {
    if (v.length !== dim) throw new Error(`row ${id} must hold ${dim} values`);
    t.set(v, Number(id) * dim);
  }
  return t;
}
