import { describe, expect, it } from 'vitest';
import { computeLetterbox, Detections, type Frame, type MaskCrop } from '../../../src/core/index.js';
import { GatewayFrame, rleCrop } from '../../../src/cluster/gatewayFrame.js';
import { FrameMessages } from '../../../src/publish/messages.js';
import { decodeRle, encodeMask } from '../../../src/publish/rle.js';
import { warpMaskToBox } from '../../../src/tracking/maskWarp.js';
import type { CocoRle } from '../../../src/protocol/index.js';
import { rng } from '../../helpers/random.js';

const W = 64;
const H = 48;

function frameOf(width = W, height = H): Frame {
  return {
    camera: 'gate.1',
    seq: 99,
    timestamp: 1_700_000_000_000,
    pts: 1234.5678,
    width: 32,
    height: 32,
    format: 'rgb24',
    data: new Uint8Array(32 * 32 * 3),
    letterbox: computeLetterbox(width, height, 32, 32),
  };
}

type Box = [number, number, number, number];

/** A crop as the model's mask assembly makes one: on the rounded box, set only where a pixel's centre is inside the box (and `fill` says so). */
function modelMask(box: Box, fill: (x: number, y: number) => boolean, W_ = W, H_ = H): MaskCrop {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  const x0 = clamp(Math.round(box[0]), 0, W_);
  const y0 = clamp(Math.round(box[1]), 0, H_);
  const x1 = clamp(Math.round(box[2]), x0, W_);
  const y1 = clamp(Math.round(box[3]), y0, H_);
  const w = x1 - x0;
  const h = y1 - y0;
  const data = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const cx = x0 + i + 0.5;
      const cy = y0 + j + 0.5;
      if (cx >= box[0] && cx <= box[2] && cy >= box[1] && cy <= box[3] && fill(x0 + i, y0 + j)) data[j * w + i] = 1;
    }
  }
  return { x: x0, y: y0, width: w, height: h, data, stability: 0.8765 };
}

/**
 * A random box. `leftTop` picks the fraction of its left and top edges (`any`, or `aligned`: one
 * for which the node's crop starts on the same pixel as the gateway's, see below).
 */
function randomBox(r: () => number, outside: boolean, frac: () => number): Box {
  const span = (n: number): [number, number] => {
    const a = Math.floor((outside ? -8 : 0) + r() * (n + (outside ? 16 : 0))) + frac();
    const len = 1 + r() * n * 0.6;
    return [a, a + len];
  };
  const [x1, x2] = span(W);
  const [y1, y2] = span(H);
  return [x1, y1, x2, y2];
}

/** A blob: a random ellipse plus speckle, so masks have holes, several parts and edge-touching runs. */
function blob(r: () => number, box: Box): (x: number, y: number) => boolean {
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  const rx = ((box[2] - box[0]) / 2) * (0.6 + r() * 0.6);
  const ry = ((box[3] - box[1]) / 2) * (0.6 + r() * 0.6);
  const speckle = r() * 0.3;
  const seed = Math.floor(r() * 1e9);
  const noise = rng(seed);
  const cache = new Map<string, boolean>();
  return (x, y) => {
    const k = `${x},${y}`;
    let v = cache.get(k);
    if (v === undefined) {
      const inside = ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1;
      v = noise() < speckle ? !inside : inside;
      cache.set(k, v);
    }
    return v;
  };
}

interface Obj {
  box: Box;
  mask: MaskCrop | null;
  score?: number;
  classId?: number;
  trackId?: number;
  predicted?: boolean;
}

function messagesOf(objs: Obj[], frame = frameOf()): FrameMessages {
  const detections = new Detections({
    boxes: Float32Array.from(objs.flatMap((o) => o.box)),
    scores: Float32Array.from(objs.map((o) => o.score ?? 0.5)),
    classIds: Int32Array.from(objs.map((o) => o.classId ?? 0)),
    masks: objs.map((o) => o.mask),
    trackIds: Int32Array.from(objs.map((o) => o.trackId ?? -1)),
    predicted: Uint8Array.from(objs.map((o) => (o.predicted ? 1 : 0))),
  });
  return new FrameMessages({ frame, detections, classNames: ['person', 'car', 'bus'] }, { dropped: 2, now: frame.timestamp + 41.6, targets: new Map([[7, 3]]) });
}

/** The gateway's frame of what a node published, and the node's own messages. */
function both(objs: Obj[], frame = frameOf()): { node: FrameMessages; gw: GatewayFrame } {
  const node = messagesOf(objs, frame);
  return { node, gw: new GatewayFrame(node.json('rle')) };
}

/**
 * Random objects as a node's two mask producers make them: the model's (crop on the rounded
 * box) or, `warped`, a tracked object's mask carried onto its predicted box (crop on the
 * box's floor/ceil, set pixels possibly a little outside the box and the frame).
 *
 * `aligned`: left/top edges whose fraction puts the node's crop origin on the pixel the gateway's
 * cut starts on (floor(edge rounded to 0.1 - 0.05)): model crops start at round(edge), so the
 * fraction is above 0.05 and below 0.45; warped ones at floor(edge), so above 0.05 and below 0.95.
 */
function randomObjects(r: () => number, n: number, opts: { outside?: boolean; warped?: boolean; aligned?: boolean } = {}): Obj[] {
  const out: Obj[] = [];
  const any = (): number => r();
  const frac = !opts.aligned ? any : opts.warped ? () => 0.06 + r() * 0.88 : () => 0.06 + r() * 0.38;
  for (let i = 0; i < n; i++) {
    if (opts.warped) {
      // Observed on one box, carried to another (moved and resized), as the tracker predicts it.
      const from = randomBox(r, opts.outside ?? false, any);
      const to = randomBox(r, opts.outside ?? false, frac);
      const mask = warpMaskToBox(modelMask(from, blob(r, from)), from, to);
      out.push({ box: to, mask, trackId: i + 1, predicted: true, score: r(), classId: i % 3 });
      continue;
    }
    const box = randomBox(r, opts.outside ?? false, frac);
    const mask = r() < 0.1 ? null : modelMask(box, blob(r, box));
    out.push({ box, mask, score: r(), classId: i % 3, trackId: i % 2 === 0 ? i + 5 : -1 });
  }
  return out;
}

function expectSameAsNode(objs: Obj[], what: string): void {
  const { node, gw } = both(objs);
  expect(JSON.parse(gw.json('none')), what).toEqual(JSON.parse(node.json('none')));
  expect(JSON.parse(gw.json('polygons')), what).toEqual(JSON.parse(node.json('polygons')));
}

describe('GatewayFrame', () => {
  const fixed: Obj[] = [
    // An L at (10, 5).
    { box: [10.04, 5.26, 13.96, 7.999], mask: { x: 10, y: 5, width: 4, height: 3, data: Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]) }, trackId: 7 },
    // No mask.
    { box: [30, 30, 40, 44], mask: null, classId: 1 },
    // Touching the frame's corner, with a hole.
    { box: [0, 0, 5, 5], mask: { x: 0, y: 0, width: 5, height: 5, data: Uint8Array.from([1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]) }, classId: 2 },
    // Touching the bottom-right corner, box and crop partly out of the frame.
    { box: [60.2, 44.4, 70, 52], mask: { x: 60, y: 44, width: 8, height: 6, data: new Uint8Array(48).fill(1) }, predicted: true, trackId: 9 },
  ];

  it('serves the node\'s RLE text unchanged', () => {
    const { node, gw } = both(fixed);
    expect(gw.json('rle')).toBe(node.json('rle'));
  });

  it('none: the message without masks, as the node would have sent it', () => {
    const { node, gw } = both(fixed);
    const got = JSON.parse(gw.json('none')) as { objects: Record<string, unknown>[] };
    expect(got).toEqual(JSON.parse(node.json('none')));
    for (const o of got.objects) expect('mask' in o).toBe(false);
  });

  it('polygons: traced from the RLE exactly as the node traces its crops', () => {
    const { node, gw } = both(fixed);
    const got = JSON.parse(gw.json('polygons')) as { objects: { polygons: number[][] }[] };
    expect(got).toEqual(JSON.parse(node.json('polygons')));
    // Not trivially empty: the L, the ring and the corner block have outlines; no mask: none.
    expect(got.objects.map((o) => o.polygons.length > 0)).toEqual([true, false, true, true]);
  });

  it('keeps fields it does not know (the node name a node adds) in every format', () => {
    const { node } = both(fixed);
    const gw = new GatewayFrame(`{"node":"n-1",${node.json('rle').slice(1)}`);
    expect(JSON.parse(gw.json('none'))).toEqual({ node: 'n-1', ...JSON.parse(node.json('none')) });
    expect(JSON.parse(gw.json('polygons'))).toEqual({ node: 'n-1', ...JSON.parse(node.json('polygons')) });
  });

  it('builds each format once and shares the text', () => {
    const { gw } = both(fixed);
    expect(gw.json('polygons')).toBe(gw.json('polygons'));
    expect(gw.json('none')).toBe(gw.json('none'));
  });

  it('an empty frame stays empty in every format', () => {
    const { node, gw } = both([]);
    expect(JSON.parse(gw.json('none'))).toEqual(JSON.parse(node.json('none')));
    expect(JSON.parse(gw.json('polygons'))).toEqual(JSON.parse(node.json('polygons')));
  });

  it('matches the node on random frames of model masks (edges and boxes out of the frame included)', () => {
    const r = rng(1234);
    for (let t = 0; t < 200; t++) expectSameAsNode(randomObjects(r, 1 + Math.floor(r() * 6), { outside: t % 2 === 1, aligned: true }), `frame ${t}`);
  });

  it('matches the node on random frames of predicted objects (masks warped onto the predicted box, sticking out of it)', () => {
    const r = rng(98765);
    for (let t = 0; t < 200; t++) expectSameAsNode(randomObjects(r, 1 + Math.floor(r() * 6), { outside: t % 2 === 1, warped: true, aligned: true }), `frame ${t}`);
  });

  it('keeps the pixel column a warped mask has just left of its rounded box', () => {
    // Predicted box x from 4.99: published as 5.0; the warped crop starts at floor(4.99) = 4.
    // Column 4 is set on rows 3-7, columns 5-6 on rows 4-5 only, columns 7-9 on rows 3-7: the
    // node's outline runs down x = 5 (column 4, clamped to the box) from row 3 to 7; cut at
    // floor(5.0) = 5, the gateway's showed notches above and below columns 5-6 instead.
    const box: Box = [4.99, 2.3, 9.6, 8.4];
    const w = 6;
    const h = 7;
    const data = new Uint8Array(w * h);
    for (let y = 1; y <= 5; y++) for (let x = 0; x < w; x++) data[y * w + x] = x === 1 || x === 2 ? Number(y === 2 || y === 3) : 1;
    const objs: Obj[] = [{ box, mask: { x: 4, y: 2, width: w, height: h, data }, predicted: true, trackId: 3 }];
    expectSameAsNode(objs, 'column 4');
    const { gw } = both(objs);
    const [poly] = (JSON.parse(gw.json('polygons')) as { objects: { polygons: number[][] }[] }).objects[0]!.polygons;
    // Its outline reaches both the top and the bottom of the mask on x = 5.
    const onLeft = poly!.filter((_, i) => i % 2 === 1 && poly![i - 1] === 5);
    expect(Math.min(...onLeft)).toBeLessThanOrEqual(3.5);
    expect(Math.max(...onLeft)).toBeGreaterThanOrEqual(7);
  });
});

describe('rleCrop', () => {
  /** The definition: the decoded full-frame bitmap, cut to the box on the pixel grid. */
  function reference(rle: CocoRle, box: Box): { x: number; y: number; width: number; height: number; data: Uint8Array } {
    const [h, w] = rle.size;
    const full = decodeRle(rle);
    const x0 = Math.max(0, Math.floor(box[0]));
    const y0 = Math.max(0, Math.floor(box[1]));
    const x1 = Math.min(w, Math.ceil(box[2]));
    const y1 = Math.min(h, Math.ceil(box[3]));
    const width = Math.max(0, x1 - x0);
    const height = Math.max(0, y1 - y0);
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = full[(y + y0) * w + (x + x0)]!;
    return { x: x0, y: y0, width, height, data };
  }

  function randomRle(r: () => number, w: number, h: number): CocoRle {
    // A crop anywhere, partly out of the frame at times (encodeMask cuts it), with random pixels.
    const cx = Math.floor(r() * (w + 8)) - 4;
    const cy = Math.floor(r() * (h + 8)) - 4;
    const cw = 1 + Math.floor(r() * w);
    const ch = 1 + Math.floor(r() * h);
    const density = r();
    const data = new Uint8Array(cw * ch);
    for (let i = 0; i < data.length; i++) data[i] = r() < density ? 1 : 0;
    return encodeMask({ x: cx, y: cy, width: cw, height: ch, data }, w, h);
  }

  it('equals the decoded mask cut to the box, on random masks and boxes', () => {
    const r = rng(42);
    for (let t = 0; t < 400; t++) {
      const w = 1 + Math.floor(r() * 40);
      const h = 1 + Math.floor(r() * 30);
      const rle = randomRle(r, w, h);
      const box: Box = [r() * (w + 10) - 5, r() * (h + 10) - 5, 0, 0];
      box[2] = box[0] + r() * (w + 5);
      box[3] = box[1] + r() * (h + 5);
      const got = rleCrop(rle, box);
      const want = reference(rle, box);
      expect({ ...got, data: [...got.data] }, `case ${t}: ${w}x${h} box ${box.join(',')}`).toEqual({ ...want, data: [...want.data] });
    }
  });

  it('handles masks touching every frame edge and the whole frame', () => {
    const w = 9;
    const h = 7;
    const border = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) border[y * w + x] = x === 0 || y === 0 || x === w - 1 || y === h - 1 ? 1 : 0;
    for (const data of [border, new Uint8Array(w * h).fill(1), new Uint8Array(w * h)]) {
      const rle = encodeMask({ x: 0, y: 0, width: w, height: h, data }, w, h);
      for (const box of [[0, 0, w, h], [-3, -3, w + 3, h + 3], [0.5, 0.5, w - 0.5, h - 0.5], [w - 1, h - 1, w + 5, h + 5], [-5, 2, 1, 3]] as Box[]) {
        const got = rleCrop(rle, box);
        const want = reference(rle, box);
        expect({ ...got, data: [...got.data] }).toEqual({ ...want, data: [...want.data] });
      }
    }
  });

  it('a box wholly outside the frame gives an empty crop', () => {
    const rle = encodeMask({ x: 0, y: 0, width: 4, height: 4, data: new Uint8Array(16).fill(1) }, 4, 4);
    for (const box of [[5, 0, 9, 4], [0, 5, 4, 9], [-9, -9, -1, -1]] as Box[]) {
      const got = rleCrop(rle, box);
      expect(got.width * got.height).toBe(0);
      expect(got.data.length).toBe(0);
    }
  });
});
