import { describe, expect, it } from 'vitest';
import { computeLetterbox, Detections, type Frame, type MaskCrop } from '../../../src/core/index.js';
import type { SegmentedFrame } from '../../../src/pipeline/segmentedFrame.js';
import { clientMessageSchema, frameMessage } from '../../../src/publish/messages.js';
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
  const msg = frameMessage(seg(), 3, 1_000_042.4);

  it('describes the frame in source pixels', () => {
    expect(msg).toMatchObject({ type: 'frame', camera: 'gate', seq: 17, pts: 567, timestamp: 1_000_000, width: W, height: H, dropped: 3, latencyMs: 42 });
  });

  it('labels objects from classNames, falling back to class<id>', () => {
    expect(msg.objects.map((o) => [o.label, o.classId])).toEqual([
      ['car', 1],
      ['class7', 7],
    ]);
  });

  it('rounds boxes to 0.1 px and scores to 0.001', () => {
    expect(msg.objects[0]!.box).toEqual([10, 5.3, 14, 8]);
    expect(msg.objects[0]!.score).toBe(0.877);
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
    const tracked = frameMessage(seg([4, -1]), 0, 0);
    expect(tracked.objects[0]!.id).toBe(4);
    expect('id' in tracked.objects[1]!).toBe(false);
    expect(frameMessage(seg([0, -1]), 0, 0).objects[0]!.id).toBe(0);
  });

  it('survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(msg))).toEqual(msg);
  });
});

describe('clientMessageSchema', () => {
  it.each([
    [{ type: 'ping' }],
    [{ type: 'ping', id: 'abc' }],
    [{ type: 'ping', id: 3 }],
    [{ type: 'subscribe' }],
    [{ type: 'subscribe', cameras: '*' }],
    [{ type: 'subscribe', cameras: ['gate', 'yard'] }],
  ])('accepts %j', (m) => {
    expect(clientMessageSchema.safeParse(m).success).toBe(true);
  });

  it.each([
    [{ type: 'ping', extra: 1 }],
    [{ type: 'subscribe', cameras: ['gate'], camera: 'typo' }],
    [{ type: 'publish' }],
    [{}],
    [{ type: 'subscribe', cameras: [''] }],
    [{ type: 'subscribe', cameras: 'gate' }],
    [{ type: 'ping', id: 'x'.repeat(65) }],
  ])('rejects %j', (m) => {
    expect(clientMessageSchema.safeParse(m).success).toBe(false);
  });
});

describe('frameMessage mask quality and targets', () => {
  it('sends the mask stability as maskScore (rounded), and none where it is unknown', () => {
    const withScore = seg();
    const d = withScore.detections;
    const scored = new Detections({ boxes: d.boxes, scores: d.scores, classIds: d.classIds, masks: [{ ...mask, stability: 0.91234 }, null] });
    expect(frameMessage({ ...withScore, detections: scored }, 0, 0).objects.map((o) => o.maskScore)).toEqual([0.912, undefined]);
    expect(frameMessage(seg(), 0, 0).objects.map((o) => o.maskScore)).toEqual([undefined, undefined]);
  });

  it('marks the objects of tracks bound to a target', () => {
    const m = frameMessage(seg([4, 9]), 0, 0, new Map([[9, 2]]));
    expect(m.objects.map((o) => [o.id, o.target])).toEqual([
      [4, undefined],
      [9, 2],
    ]);
  });
});
