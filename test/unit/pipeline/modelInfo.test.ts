import { describe, expect, it } from 'vitest';
import { SegstreamError } from '../../../src/core/errors.js';
import { thrownSegstreamError } from '../../helpers/errors.js';
import { describeModel, parseImgsz, parseNames, type TensorDecl } from '../../../src/pipeline/modelInfo.js';

const COCO = ['person', 'bicycle', 'car'].concat(Array.from({ length: 77 }, (_, i) => `thing${i + 3}`));
const cocoNames = `{${COCO.map((n, i) => `${i}: '${n}'`).join(', ')}}`;

const input = (shape: (number | null)[]): TensorDecl => ({ name: 'images', shape });
const out = (name: string, shape: (number | null)[]): TensorDecl => ({ name, shape });
const PATH = '/models/some-model.onnx';

const thrown = thrownSegstreamError;

describe('parseNames', () => {
  it('reads an Ultralytics dict literal in index order', () => {
    expect(parseNames("{0: 'person', 1: 'bicycle', 2: 'car'}")).toEqual(['person', 'bicycle', 'car']);
  });

  it('orders by the keys, not by position', () => {
    expect(parseNames("{1: 'b', 0: 'a'}")).toEqual(['a', 'b']);
  });

  it('reads double-quoted names and escaped quotes', () => {
    expect(parseNames(`{0: "it's", 1: 'it\\'s', 2: "say \\"hi\\"", 3: 'a\\\\b'}`)).toEqual(["it's", "it's", 'say "hi"', 'a\\b']);
  });

  it('keeps commas, colons and spaces inside names', () => {
    expect(parseNames("{0: 'hot dog', 1: 'a, b: c'}")).toEqual(['hot dog', 'a, b: c']);
  });

  it('returns [] when an index is missing', () => {
    expect(parseNames("{0: 'a', 2: 'c'}")).toEqual([]);
  });

  it('returns [] for nothing or garbage', () => {
    expect(parseNames(undefined)).toEqual([]);
    expect(parseNames('')).toEqual([]);
    expect(parseNames('not a dict')).toEqual([]);
  });
});

describe('parseImgsz', () => {
  it('reads [h, w] lists and single numbers', () => {
    expect(parseImgsz('[320, 320]')).toEqual([320, 320]);
    expect(parseImgsz('[384, 640]')).toEqual([384, 640]);
    expect(parseImgsz('640')).toEqual([640, 640]);
  });

  it('returns null for nothing or no number', () => {
    expect(parseImgsz(undefined)).toBeNull();
    expect(parseImgsz('')).toBeNull();
    expect(parseImgsz('[]')).toBeNull();
  });
});

describe('describeModel', () => {
  it('understands an 80-class COCO YOLOv8-seg export with a dynamic batch', () => {
    const info = describeModel(PATH, { task: 'segment', names: cocoNames, stride: '32', imgsz: '[320, 320]' }, [input([null, 3, 320, 320])], [
      out('output0', [null, 116, 2100]),
      out('output1', [null, 32, 80, 80]),
    ]);
    // 116 channels = 4 box values + 80 classes + 32 mask coefficients
    expect(info).toMatchObject({
      path: PATH,
      inputName: 'images',
      inputWidth: 320,
      inputHeight: 320,
      batch: null,
      stride: 32,
      task: 'segment',
      numClasses: 80,
      numMasks: 32,
      numAnchors: 2100,
      detName: 'output0',
      protoName: 'output1',
      protoWidth: 80,
      protoHeight: 80,
    });
    expect(info.classNames).toEqual(COCO);
  });

  it('finds the outputs by rank whatever their order', () => {
    const info = describeModel(PATH, {}, [input([1, 3, 320, 320])], [out('protos', [1, 32, 80, 80]), out('dets', [1, 116, 2100])]);
    expect([info.detName, info.protoName]).toEqual(['dets', 'protos']);
  });

  it("names a FastSAM model's single class 'object' when it has no names", () => {
    // 37 channels = 4 + 1 class + 32 masks
    const info = describeModel(PATH, {}, [input([1, 3, 320, 320])], [out('output0', [1, 37, 2100]), out('output1', [1, 32, 80, 80])]);
    expect(info.numClasses).toBe(1);
    expect(info.classNames).toEqual(['object']);
    expect(info.batch).toBe(1);
    expect(info.task).toBe('segment');
  });

  it('names classes class<i> when a multi-class model has no names', () => {
    const info = describeModel(PATH, {}, [input([1, 3, 320, 320])], [out('o0', [1, 39, 2100]), out('o1', [1, 32, 80, 80])]);
    expect(info.classNames).toEqual(['class0', 'class1', 'class2']);
  });

  it('takes the input size from imgsz metadata when the input is dynamic', () => {
    const info = describeModel(PATH, { imgsz: '[256, 320]' }, [input([null, 3, null, null])], [
      out('o0', [null, 37, 1680]),
      out('o1', [null, 32, 64, 80]),
    ]);
    expect([info.inputHeight, info.inputWidth]).toEqual([256, 320]);
  });

  it('falls back to stride 32 when the metadata is not a positive number', () => {
    const outs = [out('o0', [1, 37, 2100]), out('o1', [1, 32, 80, 80])];
    expect(describeModel(PATH, { stride: 'x' }, [input([1, 3, 320, 320])], outs).stride).toBe(32);
    expect(describeModel(PATH, { stride: '16' }, [input([1, 3, 320, 320])], outs).stride).toBe(16);
  });

  it('rejects a detection-only model (one output) with E_MODEL_NOT_SEGMENTATION naming the file', () => {
    const err = thrown(() => describeModel(PATH, { task: 'segment' }, [input([1, 3, 320, 320])], [out('output0', [1, 84, 2100])]));
    expect(err.code).toBe('E_MODEL_NOT_SEGMENTATION');
    expect(err.message).toContain(PATH);
    expect(err.actual).toEqual(['output0[1,84,2100]']);
  });

  it("rejects task 'detect' with E_MODEL_NOT_SEGMENTATION", () => {
    const err = thrown(() =>
      describeModel(PATH, { task: 'detect' }, [input([1, 3, 320, 320])], [out('o0', [1, 116, 2100]), out('o1', [1, 32, 80, 80])]),
    );
    expect(err.code).toBe('E_MODEL_NOT_SEGMENTATION');
    expect(err.message).toContain(PATH);
    expect(err.actual).toBe('task=detect');
  });

  it('rejects two outputs without a prototype tensor', () => {
    const err = thrown(() => describeModel(PATH, {}, [input([1, 3, 320, 320])], [out('a', [1, 84, 2100]), out('b', [1, 84, 2100])]));
    expect(err.code).toBe('E_MODEL_NOT_SEGMENTATION');
  });

  it('rejects an output0 too narrow for any class', () => {
    const err = thrown(() => describeModel(PATH, {}, [input([1, 3, 320, 320])], [out('o0', [1, 36, 2100]), out('o1', [1, 32, 80, 80])]));
    expect(err.code).toBe('E_MODEL_NOT_SEGMENTATION');
    expect(err.actual).toBe(36);
  });

  it.each([
    ['rank 3', [1, 3, 320]],
    ['rank 5', [1, 3, 320, 320, 1]],
    ['4 channels', [1, 4, 320, 320]],
  ])('rejects an image input of %s with E_MODEL_SHAPE naming the file', (_name, shape) => {
    const err = thrown(() => describeModel(PATH, {}, [input(shape)], [out('o0', [1, 116, 2100]), out('o1', [1, 32, 80, 80])]));
    expect(err.code).toBe('E_MODEL_SHAPE');
    expect(err.message).toContain(PATH);
  });

  it('rejects a dynamic input size without imgsz metadata with E_MODEL_SHAPE', () => {
    const err = thrown(() => describeModel(PATH, {}, [input([1, 3, null, null])], [out('o0', [1, 116, 2100]), out('o1', [1, 32, 80, 80])]));
    expect(err.code).toBe('E_MODEL_SHAPE');
  });

  it('rejects names that disagree with the class count, with expected and actual', () => {
    const err = thrown(() =>
      describeModel(PATH, { names: "{0: 'a', 1: 'b', 2: 'c'}" }, [input([1, 3, 320, 320])], [
        out('o0', [1, 116, 2100]),
        out('o1', [1, 32, 80, 80]),
      ]),
    );
    expect(err.code).toBe('E_MODEL_SHAPE');
    expect(err.message).toContain(PATH);
    expect([err.expected, err.actual]).toEqual([80, 3]);
  });
});
