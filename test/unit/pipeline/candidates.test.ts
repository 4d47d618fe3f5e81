import { describe, expect, it } from 'vitest';
import { selectDetections, type DecodeOptions, type OutputLayout } from '../../../src/pipeline/candidates.js';

interface Anchor {
  /** Box centre and size, input px. */
  cx: number;
  cy: number;
  w: number;
  h: number;
  /** class index -> score; other classes get 0.01. */
  scores: Record<number, number>;
  coefficients: number[];
}

/**
 * Builds output0 as the model lays it out: [batch, 4 + nc + nm, anchors], channel-major,
 * value(b, c, a) at b * C * N + c * N + a. Image `image` holds `anchors` (the rest are
 * background); every other image is filled with confident garbage that must be ignored.
 */
function output0(layout: OutputLayout, batch: number, image: number, anchors: Map<number, Anchor>): Float32Array {
  const { numClasses: nc, numMasks: nm, numAnchors: n } = layout;
  const C = 4 + nc + nm;
  const out = new Float32Array(batch * C * n);
  const set = (b: number, c: number, a: number, v: number): void => {
    out[b * C * n + c * n + a] = v;
  };
  for (let b = 0; b < batch; b++) {
    for (let a = 0; a < n; a++) {
      const spec = b === image ? anchors.get(a) : undefined;
      if (b !== image) {
        // Confident, big, overlapping boxes everywhere: reading the wrong image shows.
        for (let c = 0; c < C; c++) set(b, c, a, 0.99);
        continue;
      }
      if (!spec) {
        set(b, 0, a, 5 + a);
        set(b, 1, a, 5 + a);
        set(b, 2, a, 4);
        set(b, 3, a, 4);
        for (let c = 0; c < nc; c++) set(b, 4 + c, a, 0.001);
        for (let m = 0; m < nm; m++) set(b, 4 + nc + m, a, -7);
        continue;
      }
      set(b, 0, a, spec.cx);
      set(b, 1, a, spec.cy);
      set(b, 2, a, spec.w);
      set(b, 3, a, spec.h);
      for (let c = 0; c < nc; c++) set(b, 4 + c, a, spec.scores[c] ?? 0.01);
      for (let m = 0; m < nm; m++) set(b, 4 + nc + m, a, spec.coefficients[m] ?? 0);
    }
  }
  return out;
}

const coefs = (nm: number, seed: number): number[] => Array.from({ length: nm }, (_, m) => seed * 100 + m + 0.5);

describe('selectDetections on a COCO layout (80 classes, 32 masks), image 1 of 2', () => {
  const layout: OutputLayout = { numClasses: 80, numMasks: 32, numAnchors: 50 };
  const options: DecodeOptions = { confidence: 0.25, iouThreshold: 0.5, agnostic: false, maxDetections: 100 };
  const anchors = new Map<number, Anchor>([
    // Person at anchor 3; a weaker duplicate of it at anchor 40 (same class, IoU high).
    [3, { cx: 100, cy: 80, w: 40, h: 100, scores: { 0: 0.9 }, coefficients: coefs(32, 1) }],
    [40, { cx: 102, cy: 82, w: 40, h: 100, scores: { 0: 0.6 }, coefficients: coefs(32, 2) }],
    // A car whose best class is 2 (class 7 second), overlapping the person: other class, kept.
    [17, { cx: 100, cy: 80, w: 40, h: 100, scores: { 2: 0.7, 7: 0.5 }, coefficients: coefs(32, 3) }],
    // Last class index, far away.
    [49, { cx: 250, cy: 250, w: 20, h: 10, scores: { 79: 0.3 }, coefficients: coefs(32, 4) }],
    // Below the confidence threshold.
    [0, { cx: 10, cy: 10, w: 8, h: 8, scores: { 5: 0.2 }, coefficients: coefs(32, 5) }],
    // Exactly at the threshold: not above it, so dropped.
    [1, { cx: 300, cy: 10, w: 8, h: 8, scores: { 5: 0.25 }, coefficients: coefs(32, 6) }],
  ]);
  const out = selectDetections(output0(layout, 2, 1, anchors), 1, layout, options);

  it('keeps anchors above the confidence threshold, minus NMS duplicates, best score first', () => {
    expect(Array.from(out.scores)).toEqual([Math.fround(0.9), Math.fround(0.7), Math.fround(0.3)]);
  });

  it('takes the argmax class', () => {
    expect(Array.from(out.classIds)).toEqual([0, 2, 79]);
  });

  it('converts cx, cy, w, h to x1, y1, x2, y2', () => {
    expect(Array.from(out.boxes)).toEqual([80, 30, 120, 130, 80, 30, 120, 130, 240, 245, 260, 255]);
  });

  it('gathers the mask coefficients of the kept anchors', () => {
    const expected = [...coefs(32, 1), ...coefs(32, 3), ...coefs(32, 4)].map(Math.fround);
    expect(Array.from(out.coefficients)).toEqual(expected);
  });

  it('keeps the duplicate when NMS is made permissive', () => {
    const loose = selectDetections(output0(layout, 2, 1, anchors), 1, layout, { ...options, iouThreshold: 0.99 });
    expect(Array.from(loose.classIds)).toEqual([0, 2, 0, 79]);
    expect(Array.from(loose.coefficients.subarray(2 * 32, 3 * 32))).toEqual(coefs(32, 2).map(Math.fround));
  });

  it('suppresses across classes when agnostic', () => {
    const agn = selectDetections(output0(layout, 2, 1, anchors), 1, layout, { ...options, agnostic: true });
    expect(Array.from(agn.classIds)).toEqual([0, 79]);
  });

  it('honours maxDetections', () => {
    const one = selectDetections(output0(layout, 2, 1, anchors), 1, layout, { ...options, maxDetections: 1 });
    expect(Array.from(one.classIds)).toEqual([0]);
    expect(one.coefficients.length).toBe(32);
  });

  it('throws TypeError when output0 is too short for the image', () => {
    const short = new Float32Array(2 * (4 + 80 + 32) * 50 - 1);
    expect(() => selectDetections(short, 1, layout, options)).toThrow(TypeError);
  });
});

describe('selectDetections on a FastSAM layout (1 class, 32 masks)', () => {
  const layout: OutputLayout = { numClasses: 1, numMasks: 32, numAnchors: 21 };
  const options: DecodeOptions = { confidence: 0.4, iouThreshold: 0.7, agnostic: true, maxDetections: 10 };
  const anchors = new Map<number, Anchor>([
    [20, { cx: 60, cy: 60, w: 20, h: 20, scores: { 0: 0.95 }, coefficients: coefs(32, 7) }],
    [5, { cx: 160, cy: 100, w: 60, h: 30, scores: { 0: 0.5 }, coefficients: coefs(32, 8) }],
    [6, { cx: 10, cy: 10, w: 4, h: 4, scores: { 0: 0.3 }, coefficients: coefs(32, 9) }],
  ]);

  it('reads image 1 of 2 and keeps the confident objects with their coefficients', () => {
    const out = selectDetections(output0(layout, 2, 1, anchors), 1, layout, options);
    expect(Array.from(out.scores)).toEqual([Math.fround(0.95), Math.fround(0.5)]);
    expect(Array.from(out.classIds)).toEqual([0, 0]);
    expect(Array.from(out.boxes)).toEqual([50, 50, 70, 70, 130, 85, 190, 115]);
    expect(Array.from(out.coefficients)).toEqual([...coefs(32, 7), ...coefs(32, 8)].map(Math.fround));
  });

  it('reads image 0 when it is the one asked for', () => {
    const out = selectDetections(output0(layout, 2, 0, anchors), 0, layout, options);
    expect(Array.from(out.scores)).toEqual([Math.fround(0.95), Math.fround(0.5)]);
  });

  it('returns empty arrays when nothing clears the threshold', () => {
    const out = selectDetections(output0(layout, 2, 1, new Map()), 1, layout, options);
    expect([out.boxes.length, out.scores.length, out.classIds.length, out.coefficients.length]).toEqual([0, 0, 0, 0]);
  });
});
