import { describe, expect, it } from 'vitest';
import { computeLetterbox, Detections, type Frame, type MaskCrop } from '../../../src/core/index.js';
import type { SegmentedFrame } from '../../../src/pipeline/segmentedFrame.js';
import { frameMessage, FrameMessages } from '../../../src/publish/messages.js';
import { ringArea } from '../../../src/publish/simplify.js';
import { frameMessageSchema } from '../../../src/protocol/index.js';
import { decodeRle } from '../../../src/publish/rle.js';

const W = 64;
const H = 48;
const frame: Frame = {
  camera: 'gate',
  seq: 17,
  timestamp: 1_000_000,
  pts: 566.6667,
  width: 32,
  height: 32,
  format: 'rgb24',
  data: new Uint8Array(32 * 32 * 3),
  letterbox: computeLetterbox(W, H, 32, 32),
};

// An L-shaped 4x3 mask at (10, 5): 6 pixels set.
const mask: MaskCrop = { x: 10, y: 5, width: 4, height: 3, data: Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]) };

function seg(trackIds?: number[]): SegmentedFrame {
  const detections = new Detections({
    boxes: Float32Array.from([10.04, 5.26, 13.96, 7.999, 30, 30, 40, 44]),
    scores: Float32Array.from([0.87654, 0.5]),
    classIds: Int32Array.from([1, 7]),
    masks: [mask, null],
    ...(trackIds ? { trackIds: Int32Array.from(trackIds) } : {}),
  });
  return {
    frame,
    detections,
    classNames: ['person', 'car'],
    timings: { queueMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, masksMs: 0, batchSize: 1 },
  };
}

describe('frameMessage', () => {
  const msg = frameMessage(seg(), { dropped: 3, now: 1_000_042.4 });

  it('describes the frame in source pixels', () => {
    expect(msg).toMatchObject({ type: 'frame', camera: 'gate', seq: 17, pts: 567, timestamp: 1_000_000, width: W, height: H, dropped: 3, latencyMs: 42 });
  });

  it('says gated: true only for a frame motion gating kept from inference (the field is absent otherwise), and stays valid', () => {
    expect('gated' in msg).toBe(false);
    const gated = frameMessage({ ...seg([4, -1]), gated: true }, { dropped: 0, now: 1_000_001 });
    expect(gated.gated).toBe(true);
    expect(gated.objects.map((o) => o.id)).toEqual([4, undefined]);
    expect(frameMessageSchema.safeParse({ ...gated, clientDropped: 0 }).success).toBe(true);
  });

  it('labels objects from classNames, falling back to class<id>', () => {
    expect(msg.objects.map((o) => [o.label, o.classId])).toEqual([
      ['car', 1],
      ['class7', 7],
    ]);
  });

  it('rounds boxes to 0.1 px and scores to 4 decimals', () => {
    expect(msg.objects[0]!.box).toEqual([10, 5.3, 14, 8]);
    // float32 0.87654 -> 0.8765 (3 decimals would publish 0.877, 4 keep 0.2504 above 0.25).
    expect(msg.objects[0]!.score).toBe(0.8765);
    expect(msg.objects[1]!.box).toEqual([30, 30, 40, 44]);
  });

  it('gives the mask pixel count as area and 0 without a mask', () => {
    expect(msg.objects.map((o) => o.area)).toEqual([6, 0]);
  });

  it('encodes the mask as a frame-sized RLE that decodes to the crop at its position', () => {
    const rle = msg.objects[0]!.mask!;
    expect(rle.size).toEqual([H, W]);
    const full = decodeRle(rle);
    const set: string[] = [];
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (full[y * W + x]) set.push(`${x},${y}`);
    expect(set).toEqual(['10,5', '10,6', '10,7', '11,7', '12,7', '13,7']);
    expect(msg.objects[1]!.mask).toBeNull();
  });

  it('adds id only for tracked objects', () => {
    expect(msg.objects.every((o) => !('id' in o))).toBe(true);
    const tracked = frameMessage(seg([4, -1]), { dropped: 0, now: 0 });
    expect(tracked.objects[0]!.id).toBe(4);
    expect('id' in tracked.objects[1]!).toBe(false);
    expect(frameMessage(seg([0, -1]), { dropped: 0, now: 0 }).objects[0]!.id).toBe(0);
  });

  it('survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(msg))).toEqual(msg);
  });
});

describe('frameMessage mask quality and targets', () => {
  it('sends the mask stability as maskScore (rounded), and none where it is unknown', () => {
    const withScore = seg();
    const d = withScore.detections;
    const scored = new Detections({ boxes: d.boxes, scores: d.scores, classIds: d.classIds, masks: [{ ...mask, stability: 0.91234 }, null] });
    expect(frameMessage({ ...withScore, detections: scored }, { dropped: 0, now: 0 }).objects.map((o) => o.maskScore)).toEqual([0.912, undefined]);
    expect(frameMessage(seg(), { dropped: 0, now: 0 }).objects.map((o) => o.maskScore)).toEqual([undefined, undefined]);
  });

  it('marks the objects of tracks bound to a target', () => {
    const m = frameMessage(seg([4, 9]), { dropped: 0, now: 0, targets: new Map([[9, 2]]) });
    expect(m.objects.map((o) => [o.id, o.target])).toEqual([
      [4, undefined],
      [9, 2],
    ]);
  });
});

describe('frame messages by mask format', () => {
  // A filled 20x30 rectangle at (5, 8) and an object without a mask.
  const rect: MaskCrop = { x: 5, y: 8, width: 20, height: 30, data: new Uint8Array(600).fill(1) };
  const input = (): SegmentedFrame => {
    const s = seg([4, -1]);
    const d = s.detections;
    return { ...s, detections: new Detections({ boxes: Float32Array.from([5, 8, 25, 38, 30, 30, 40, 44]), scores: d.scores, classIds: d.classIds, masks: [rect, null], trackIds: d.trackIds }) };
  };

  it('rle (default) carries mask, polygons carries polygons, none carries neither; all keep area and the rest', () => {
    const rle = frameMessage(input(), { dropped: 0, now: 0 });
    const poly = frameMessage(input(), { dropped: 0, now: 0 }, 'polygons');
    const none = frameMessage(input(), { dropped: 0, now: 0 }, 'none');
    expect(Object.keys(rle.objects[0]!)).toContain('mask');
    expect(rle.objects[1]!.mask).toBeNull();
    expect(poly.objects.map((o) => 'mask' in o)).toEqual([false, false]);
    expect(poly.objects[1]!.polygons).toEqual([]);
    expect(none.objects.map((o) => 'mask' in o || 'polygons' in o)).toEqual([false, false]);
    for (const m of [rle, poly, none]) expect(m.objects.map((o) => o.area)).toEqual([600, 0]);
    const strip = (m: typeof rle): unknown => m.objects.map(({ mask: _m, polygons: _p, ...rest }) => rest);
    expect(strip(poly)).toEqual(strip(rle));
    expect(strip(none)).toEqual(strip(rle));
  });

  it('a rectangle mask becomes one polygon on its outline, inside its box, with about its area', () => {
    const [polygon, ...more] = frameMessage(input(), { dropped: 0, now: 0 }, 'polygons').objects[0]!.polygons!;
    expect(more).toEqual([]);
    const points: [number, number][] = [];
    for (let i = 0; i < polygon!.length; i += 2) points.push([polygon![i]!, polygon![i + 1]!]);
    for (const [x, y] of points) {
      expect(x).toBeGreaterThanOrEqual(5);
      expect(x).toBeLessThanOrEqual(25);
      expect(y).toBeGreaterThanOrEqual(8);
      expect(y).toBeLessThanOrEqual(38);
    }
    // Marching squares cuts each corner by half a pixel's diagonal (600 - 4 * 0.125); the 1 px
    // simplification may cut half-pixel strips along the edges (pixel-aligned edges are its worst case).
    expect(ringArea(points)).toBeGreaterThan(0.95 * 600);
    expect(ringArea(points)).toBeLessThanOrEqual(599.5);
    // Simplified to the four corners' cut edges, not one point per pixel.
    expect(points.length).toBeLessThanOrEqual(8);
  });

  it('every format satisfies the protocol schema once clientDropped is added', () => {
    for (const format of ['rle', 'polygons', 'none'] as const) {
      const body = frameMessage(input(), { dropped: 2, now: 1_000_100 }, format);
      expect(frameMessageSchema.parse({ ...body, clientDropped: 0 })).toEqual({ ...body, clientDropped: 0 });
    }
  });

  it('FrameMessages builds and serialises a format only when asked, once', () => {
    const frames = new FrameMessages(input(), { dropped: 0, now: 0 });
    expect(frames.built).toEqual([]);
    const a = frames.json('polygons');
    expect(frames.built).toEqual(['polygons']);
    expect(frames.json('polygons')).toBe(a);
    expect(frames.message('polygons')).toBe(frames.message('polygons'));
    expect(JSON.parse(a)).toEqual(frames.message('polygons'));
    frames.json('none');
    expect(frames.built).toEqual(['polygons', 'none']);
  });
});
