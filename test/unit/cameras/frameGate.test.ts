import { describe, expect, it } from 'vitest';
import { computeLetterbox, type Frame } from '../../../src/core/index.js';
import { FrameGate, type GateStep } from '../../../src/cameras/frameGate.js';
import { DEFAULT_MOTION_GATE } from '../../../src/pipeline/index.js';

const W = 128;
const H = 96;
const ON = { ...DEFAULT_MOTION_GATE, enabled: true };

/** A picture: a flat grey with a black square at x (each x a different picture). */
function picture(x: number): Uint8Array {
  const d = new Uint8Array(W * H * 3).fill(120);
  for (let y = 30; y < 60; y++) d.fill(0, (y * W + x) * 3, (y * W + x + 30) * 3);
  return d;
}

function frame(seq: number, x: number, src: [number, number] = [640, 480]): Frame {
  return { camera: 'c', seq, timestamp: seq, pts: seq * 100, width: W, height: H, format: 'rgb24', data: picture(x), letterbox: computeLetterbox(src[0], src[1], 320, 320) };
}

/** Steps as `kind:seq` (gated ones with the seq of the result they carry). */
const show = (steps: GateStep<string>[]): string[] => steps.map((s) => (s.kind === 'gated' ? `gated:${s.frame.seq}<-${s.from}` : `${s.kind}:${s.frame.seq}`));

describe('FrameGate', () => {
  it('off: sends every frame to inference and gates none', () => {
    const g = new FrameGate<string>(null);
    for (let i = 0; i < 5; i++) expect(show(g.offer(frame(i, 10)))).toEqual([`infer:${i}`]);
    expect(g.gated).toBe(0);
  });

  it('on: carries the last result forward for unchanged frames, holding the one that comes while its reference is in inference', () => {
    const g = new FrameGate<string>(ON);
    const f0 = frame(0, 10);
    expect(show(g.offer(f0))).toEqual(['infer:0']);
    // Frame 0's result is not known yet: frame 1 waits for it.
    expect(show(g.offer(frame(1, 10)))).toEqual([]);
    expect(g.holding).toBe(true);
    expect(show(g.release())).toEqual([]);
    g.resolved(f0, 'r0');
    expect(show(g.release())).toEqual(['gated:1<-r0']);
    expect(g.holding).toBe(false);
    expect(show(g.offer(frame(2, 10)))).toEqual(['gated:2<-r0']);
    expect(show(g.offer(frame(3, 60)))).toEqual(['infer:3']);
    expect(g.gated).toBe(2);
  });

  it('drops a held frame for a newer one, and for a changed frame that goes to inference', () => {
    const g = new FrameGate<string>(ON);
    g.offer(frame(0, 10));
    g.offer(frame(1, 10));
    expect(show(g.offer(frame(2, 10)))).toEqual(['drop:1']);
    expect(show(g.offer(frame(3, 60)))).toEqual(['drop:2', 'infer:3']);
    // Frame 0's result comes after frame 3 went: nothing held is carried with it.
    g.resolved(frame(0, 10), 'r0');
    expect(show(g.release())).toEqual([]);
  });

  it('sends the held frame to inference when its reference is lost, and the next frame when none is held', () => {
    const g = new FrameGate<string>(ON);
    g.offer(frame(0, 10));
    g.offer(frame(1, 10));
    g.lost(0);
    expect(show(g.release())).toEqual(['infer:1']);
    g.lost(1);
    expect(show(g.offer(frame(2, 10)))).toEqual(['infer:2']);
    g.resolved(frame(2, 10), 'r2');
    expect(show(g.offer(frame(3, 10)))).toEqual(['gated:3<-r2']);
  });

  it('ignores the loss of a frame other than the reference (an older frame replaced in the scheduler)', () => {
    const g = new FrameGate<string>(ON);
    g.offer(frame(0, 10));
    g.offer(frame(1, 60));
    g.lost(0);
    g.resolved(frame(1, 60), 'r1');
    expect(show(g.offer(frame(2, 60)))).toEqual(['gated:2<-r1']);
  });

  it('sends a frame of another source size to inference even when its picture is the same', () => {
    const g = new FrameGate<string>(ON);
    g.offer(frame(0, 10));
    g.resolved(frame(0, 10), 'r0');
    expect(show(g.offer(frame(1, 10, [1280, 720])))).toEqual(['infer:1']);
  });

  it('forces inference after maxSkipS of unchanged frames', () => {
    const g = new FrameGate<string>({ ...ON, maxSkipS: 0.3 });
    g.offer(frame(0, 10));
    g.resolved(frame(0, 10), 'r0');
    expect(show(g.offer(frame(1, 10)))).toEqual(['gated:1<-r0']);
    expect(show(g.offer(frame(2, 10)))).toEqual(['gated:2<-r0']);
    expect(show(g.offer(frame(3, 10)))).toEqual(['infer:3']);
  });

  it('switched off in place: a held frame is dropped and frames go to inference; switched on again it starts from a new reference', () => {
    const g = new FrameGate<string>(ON);
    g.offer(frame(0, 10));
    g.offer(frame(1, 10));
    g.configure({ ...ON, enabled: false });
    expect(show(g.offer(frame(2, 10)))).toEqual(['drop:1', 'infer:2']);
    g.resolved(frame(2, 10), 'r2');
    g.configure(ON);
    expect(show(g.offer(frame(3, 10)))).toEqual(['infer:3']);
  });
});
