import { describe, expect, it } from 'vitest';
import { Detections, type MaskCrop } from '../../../src/core/detections.js';

function init(n: number) {
  return {
    boxes: new Float32Array(n * 4),
    scores: new Float32Array(n),
    classIds: new Int32Array(n),
  };
}

describe('Detections', () => {
  it('fills masks with null and track ids with -1 when not given', () => {
    const d = new Detections(init(2));
    expect(d.length).toBe(2);
    expect(d.masks).toEqual([null, null]);
    expect(Array.from(d.trackIds)).toEqual([-1, -1]);
  });

  it('returns one box as x1, y1, x2, y2', () => {
    const d = new Detections({ ...init(2), boxes: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) });
    expect(d.box(1)).toEqual([5, 6, 7, 8]);
  });

  it('empty() has no detections', () => {
    expect(Detections.empty().length).toBe(0);
  });

  it('rejects boxes of the wrong length, naming expected and actual', () => {
    expect(() => new Detections({ ...init(2), boxes: new Float32Array(7) })).toThrow(
      new TypeError('Detections.boxes: expected length 8, got 7'),
    );
  });

  it('rejects classIds of the wrong length', () => {
    expect(() => new Detections({ ...init(3), classIds: new Int32Array(2) })).toThrow(
      new TypeError('Detections.classIds: expected length 3, got 2'),
    );
  });

  it('rejects a masks array of the wrong length', () => {
    expect(() => new Detections({ ...init(2), masks: [null] })).toThrow(
      new TypeError('Detections.masks: expected length 2, got 1'),
    );
  });

  it('rejects trackIds of the wrong length', () => {
    expect(() => new Detections({ ...init(1), trackIds: new Int32Array(4) })).toThrow(
      new TypeError('Detections.trackIds: expected length 1, got 4'),
    );
  });

  it('rejects a mask whose data does not match width * height', () => {
    const bad: MaskCrop = { x: 0, y: 0, width: 3, height: 2, data: new Uint8Array(5) };
    expect(() => new Detections({ ...init(1), masks: [bad] })).toThrow(
      new TypeError('Detections.mask data: expected length 6, got 5'),
    );
  });

  it('accepts consistent masks and track ids', () => {
    const m: MaskCrop = { x: 1, y: 1, width: 3, height: 2, data: new Uint8Array(6) };
    const d = new Detections({ ...init(2), masks: [m, null], trackIds: Int32Array.from([7, -1]) });
    expect(d.masks[0]).toBe(m);
    expect(Array.from(d.trackIds)).toEqual([7, -1]);
  });
});

describe('Detections.subset', () => {
  it('keeps every field of the chosen detections, in the order asked', () => {
    const mask = { x: 1, y: 2, width: 1, height: 1, data: Uint8Array.from([1]) };
    const d = new Detections({
      boxes: Float32Array.from([0, 0, 1, 1, 10, 10, 20, 20, 5, 5, 6, 6]),
      scores: Float32Array.from([0.1, 0.5, 0.9]),
      classIds: Int32Array.from([3, 4, 5]),
      masks: [null, mask, null],
      trackIds: Int32Array.from([-1, 7, 8]),
      predicted: Uint8Array.from([0, 0, 1]),
    });
    const s = d.subset([2, 1]);
    expect(s.length).toBe(2);
    expect(Array.from(s.boxes)).toEqual([5, 5, 6, 6, 10, 10, 20, 20]);
    expect(Array.from(s.scores)).toEqual([Math.fround(0.9), Math.fround(0.5)]);
    expect(Array.from(s.classIds)).toEqual([5, 4]);
    expect(s.masks).toEqual([null, mask]);
    expect(Array.from(s.trackIds)).toEqual([8, 7]);
    expect(Array.from(s.predicted)).toEqual([1, 0]);
    expect(d.subset([]).length).toBe(0);
  });
});
