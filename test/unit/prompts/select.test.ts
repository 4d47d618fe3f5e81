import { describe, expect, it } from 'vitest';
import { Detections, type MaskCrop } from '../../../src/core/index.js';
import {
  maskBoxIou,
  resolveClassQuery,
  select,
  selectByBox,
  selectByClassName,
  selectByPoints,
  selectSync,
  textCandidates,
  trackIdsOf,
  type TextSelector,
} from '../../../src/prompts/select.js';

type Box = [number, number, number, number];

/** A mask over `box` whose pixels are set where `inside(px, py)` (source px). */
function maskOf(box: Box, inside: (x: number, y: number) => boolean = () => true): MaskCrop {
  const [x1, y1, x2, y2] = box;
  const width = x2 - x1;
  const height = y2 - y1;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = inside(x1 + x, y1 + y) ? 1 : 0;
  return { x: x1, y: y1, width, height, data };
}

interface D {
  box: Box;
  mask?: MaskCrop | null;
  classId?: number;
  trackId?: number;
}

function dets(list: D[]): Detections {
  return new Detections({
    boxes: Float32Array.from(list.flatMap((d) => d.box)),
    scores: Float32Array.from(list.map(() => 0.9)),
    classIds: Int32Array.from(list.map((d) => d.classId ?? 0)),
    masks: list.map((d) => (d.mask === undefined ? maskOf(d.box) : d.mask)),
    trackIds: Int32Array.from(list.map((d) => d.trackId ?? -1)),
  });
}

const fg = (x: number, y: number) => ({ x, y, label: 1 as const });
const bg = (x: number, y: number) => ({ x, y, label: 0 as const });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'no error';
}

describe('point prompts (FastSAM point_prompt)', () => {
  // A car [0,0,100,60]; a person [80,0,120,100] overlapping it in [80,100) x [0,60); a dog far away.
  const scene = dets([{ box: [0, 0, 100, 60] }, { box: [80, 0, 120, 100] }, { box: [200, 200, 240, 240] }]);

  it('selects the object under a foreground point', () => {
    expect(selectByPoints(scene, [fg(10, 10)])).toEqual([0]);
  });

  it('merges the objects under several foreground points into one selection', () => {
    expect(selectByPoints(scene, [fg(10, 10), fg(210, 210)])).toEqual([0, 2]);
  });

  it('a point on an overlap selects both objects; a background point on one of them removes it', () => {
    expect(selectByPoints(scene, [fg(90, 30)])).toEqual([0, 1]);
    expect(selectByPoints(scene, [fg(90, 30), bg(100, 80)])).toEqual([0]);
  });

  it('tests the mask, not the box: a point in a hole of the mask selects nothing there', () => {
    const ring = dets([{ box: [0, 0, 50, 50], mask: maskOf([0, 0, 50, 50], (x, y) => (x - 25) ** 2 + (y - 25) ** 2 > 100) }]);
    expect(selectByPoints(ring, [fg(2, 2)])).toEqual([0]);
    expect(code(() => selectByPoints(ring, [fg(25, 25)]))).toBe('E_PROMPT_NO_MATCH');
  });

  it('falls back to the box for a detection without a mask', () => {
    expect(selectByPoints(dets([{ box: [0, 0, 10, 10], mask: null }]), [fg(9.5, 0)])).toEqual([0]);
  });

  it('no object under the foreground points is E_PROMPT_NO_MATCH', () => {
    expect(() => selectByPoints(scene, [fg(150, 150)])).toThrow(/no object lies under the foreground points/);
  });

  it('only background points select nothing (E_PROMPT_NO_MATCH)', () => {
    expect(() => selectByPoints(scene, [bg(10, 10)])).toThrow(/no foreground point/);
  });

  it('every foreground object also under a background point is E_PROMPT_NO_MATCH saying so', () => {
    expect(() => selectByPoints(scene, [fg(10, 10), bg(20, 20)])).toThrow(/also lies under a background point \(1 removed\)/);
  });
});

describe('box prompts (FastSAM box_prompt, mask-vs-box IoU)', () => {
  it('maskBoxIou counts mask pixels inside the rounded box over box + mask - intersection', () => {
    const m = maskOf([0, 0, 10, 10]);
    expect(maskBoxIou(m, [5, 0, 15, 10])).toBeCloseTo(50 / 150, 10);
    expect(maskBoxIou(m, [4.6, 0, 15.4, 10])).toBeCloseTo(50 / 150, 10);
    expect(maskBoxIou(m, [20, 20, 30, 30])).toBe(0);
  });

  it('picks the solid object over a thin one whose bounding box matches the prompt box exactly', () => {
    // A diagonal line: bounding box [0,0,100,100] (box IoU 1 with the prompt) but 100 mask px.
    const line = maskOf([0, 0, 100, 100], (x, y) => x === y);
    const d = dets([{ box: [0, 0, 100, 100], mask: line }, { box: [10, 10, 90, 90] }]);
    const s = selectByBox(d, [0, 0, 100, 100]);
    expect(s.indices).toEqual([1]);
    expect(s.scores![0]).toBeCloseTo(0.01, 6);
    expect(s.scores![1]).toBeCloseTo(0.64, 6);
  });

  it('uses box IoU for detections without a mask, and ties go to the earlier detection', () => {
    const d = dets([{ box: [0, 0, 10, 10], mask: null }, { box: [0, 0, 10, 10], mask: null }, { box: [50, 50, 60, 60], mask: null }]);
    expect(selectByBox(d, [0, 0, 10, 10]).indices).toEqual([0]);
    expect(selectByBox(d, [48, 50, 60, 60]).indices).toEqual([2]);
  });

  it('a box touching no object is E_PROMPT_NO_MATCH', () => {
    expect(code(() => selectByBox(dets([{ box: [0, 0, 10, 10] }]), [20, 20, 30, 30]))).toBe('E_PROMPT_NO_MATCH');
  });
});

describe('text prompts by class name', () => {
  const names = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'traffic light', 'cell phone', 'scissors'];
  const id = (n: string) => names.indexOf(n);
  const scene = dets(
    ['person', 'car', 'truck', 'bus', 'bicycle', 'motorcycle', 'traffic light', 'person'].map((n, i) => ({ box: [i * 20, 0, i * 20 + 10, 10] as Box, classId: id(n) })),
  );

  const cases: [string, number[]][] = [
    ['truck', [2]],
    ['Trucks', [2]],
    ['  TRUCK  ', [2]],
    ['lorry', [2]],
    ['lorries', [2]],
    ['buses', [3]],
    ['a photo of a bus', [3]],
    ['vehicle', [1, 2, 3, 5]],
    ['Vehicles', [1, 2, 3, 5]],
    ['person', [0, 7]],
    ['people', [0, 7]],
    ['pedestrians', [0, 7]],
    ['bike', [4, 5]],
    ['traffic lights', [6]],
  ];
  for (const [text, want] of cases) {
    it(`'${text}' selects ${JSON.stringify(want)}`, () => {
      expect(selectByClassName(scene, text, names)).toEqual(want);
    });
  }

  it('keeps a class name that ends in s (scissors) and maps words to class ids', () => {
    expect(resolveClassQuery('scissors', names)).toEqual([id('scissors')]);
    expect(resolveClassQuery('phones', names)).toEqual([id('cell phone')]);
    expect(textCandidates('The Buses!')).toEqual(['the buses', 'the bus', 'the buse', 'buses', 'bus', 'buse']);
  });

  it('a synonym whose classes the model lacks matches nothing', () => {
    expect(code(() => resolveClassQuery('vehicle', ['person', 'dog']))).toBe('E_PROMPT_NO_MATCH');
  });

  it('a word naming no class is E_PROMPT_NO_MATCH listing the class names', () => {
    try {
      selectByClassName(scene, 'unicorn', names);
      expect.fail('no error');
    } catch (err) {
      expect(err).toMatchObject({ code: 'E_PROMPT_NO_MATCH', expected: names, actual: 'unicorn' });
    }
  });

  it("a known class absent from the frame is E_PROMPT_NO_MATCH: no 'train' in this frame", () => {
    expect(() => selectByClassName(scene, 'trains', names)).toThrow(/no 'trains' in this frame/);
  });

  it('custom synonyms replace the table', () => {
    expect(selectByClassName(scene, 'wheels', names, new Map([['wheel', ['bicycle']]]))).toEqual([4]);
    expect(code(() => selectByClassName(scene, 'lorry', names, new Map()))).toBe('E_PROMPT_NO_MATCH');
  });

  it.each(['constructor', 'hasOwnProperty', 'toString', 'valueOf', '__proto__', '__defineGetter__'])(
    "Object.prototype names are no synonyms: '%s' is E_PROMPT_NO_MATCH",
    (text) => {
      expect(code(() => resolveClassQuery(text, names))).toBe('E_PROMPT_NO_MATCH');
      expect(code(() => selectByClassName(scene, text, names))).toBe('E_PROMPT_NO_MATCH');
    },
  );
});

describe('select / selectSync / trackIdsOf', () => {
  const d = dets([
    { box: [0, 0, 10, 10], classId: 0, trackId: 4 },
    { box: [20, 0, 30, 10], classId: 1, trackId: -1 },
    { box: [40, 0, 50, 10], classId: 1, trackId: 9 },
  ]);
  const names = ['person', 'car'];

  it('dispatches each prompt kind', () => {
    expect(selectSync({ kind: 'points', points: [fg(5, 5)] }, d, { classNames: names })).toEqual({ indices: [0], method: 'points' });
    expect(selectSync({ kind: 'box', box: [19, 0, 31, 10] }, d, { classNames: names })).toMatchObject({ indices: [1], method: 'box' });
    expect(selectSync({ kind: 'text', text: 'cars' }, d, { classNames: names })).toEqual({ indices: [1, 2], method: 'class' });
  });

  it('an empty frame is E_PROMPT_NO_MATCH for every kind', () => {
    expect(code(() => selectSync({ kind: 'box', box: [0, 0, 5, 5] }, Detections.empty(), { classNames: names }))).toBe('E_PROMPT_NO_MATCH');
  });

  it('uses the text selector for text when one and the image are given, class names otherwise', async () => {
    const calls: string[] = [];
    const clip: TextSelector = {
      selectByText: async (text) => {
        calls.push(text);
        return { index: 2, probabilities: Float32Array.from([0.1, 0.2, 0.7]) };
      },
    };
    const image = { width: 50, height: 10, data: new Uint8Array(50 * 10 * 3) };
    expect(await select({ kind: 'text', text: 'a red car' }, d, { classNames: names, textSelector: clip, image })).toMatchObject({
      indices: [2],
      method: 'clip',
    });
    expect(await select({ kind: 'text', text: 'person' }, d, { classNames: names, textSelector: clip })).toEqual({ indices: [0], method: 'class' });
    expect(await select({ kind: 'points', points: [fg(45, 5)] }, d, { classNames: names, textSelector: clip, image })).toEqual({ indices: [2], method: 'points' });
    expect(calls).toEqual(['a red car']);
  });

  it('trackIdsOf maps selected detections to their track ids, skipping untracked ones', () => {
    expect(trackIdsOf(d, [0, 1, 2])).toEqual([4, 9]);
    expect(code(() => trackIdsOf(d, [1]))).toBe('E_PROMPT_NO_MATCH');
  });
});
