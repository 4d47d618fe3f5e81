import { describe, expect, it } from 'vitest';
import { computeLetterbox, type Frame } from '../../../src/core/index.js';
import { LatestFrameScheduler } from '../../../src/pipeline/scheduler.js';

const lb = computeLetterbox(4, 4, 4, 4);
function frame(camera: string, seq: number): Frame {
  return { camera, seq, timestamp: seq, pts: seq, width: 4, height: 4, format: 'rgb24', data: new Uint8Array(48), letterbox: lb };
}
const ids = (fs: Frame[]): string[] => fs.map((f) => `${f.camera}#${f.seq}`);

describe('LatestFrameScheduler', () => {
  it('keeps only the newest frame per camera and returns the one it displaced', () => {
    const s = new LatestFrameScheduler();
    const a0 = frame('a', 0);
    expect(s.offer(a0)).toBeUndefined();
    expect(s.offer(frame('a', 1))).toBe(a0);
    expect(ids(s.take(10))).toEqual(['a#1']);
  });

  it('displaces one frame per newer frame of the same camera, never another camera\'s', () => {
    const s = new LatestFrameScheduler();
    const displaced = [0, 1, 2, 3, 4].map((i) => s.offer(frame('a', i)));
    expect(displaced.map((f) => f?.seq)).toEqual([undefined, 0, 1, 2, 3]);
    expect(s.offer(frame('b', 0))).toBeUndefined();
  });

  it('displaces nothing when the waiting frame was taken before the next one arrives', () => {
    const s = new LatestFrameScheduler();
    s.offer(frame('a', 0));
    s.take(1);
    expect(s.offer(frame('a', 1))).toBeUndefined();
  });

  it('holds at most one frame per camera however many arrive', () => {
    const s = new LatestFrameScheduler();
    for (let i = 0; i < 100; i++) s.offer(frame(`c${i % 3}`, i));
    expect(s.size).toBe(3);
  });

  it('takes at most max frames, longest-waiting camera first', () => {
    const s = new LatestFrameScheduler();
    s.offer(frame('a', 0));
    s.offer(frame('b', 0));
    s.offer(frame('c', 0));
    expect(ids(s.take(2))).toEqual(['a#0', 'b#0']);
    expect(ids(s.take(2))).toEqual(['c#0']);
  });

  it('keeps a camera in its waiting position when its frame is replaced', () => {
    const s = new LatestFrameScheduler();
    s.offer(frame('a', 0));
    s.offer(frame('b', 0));
    s.offer(frame('a', 1)); // a has waited since before b
    expect(ids(s.take(2))).toEqual(['a#1', 'b#0']);
  });

  it('moves a camera to the back once it has been served', () => {
    const s = new LatestFrameScheduler();
    s.offer(frame('a', 0));
    s.offer(frame('b', 0));
    s.take(1); // serves a
    s.offer(frame('a', 1));
    expect(ids(s.take(2))).toEqual(['b#0', 'a#1']);
  });

  it('take(0) and take on an empty scheduler return nothing', () => {
    const s = new LatestFrameScheduler();
    expect(s.take(3)).toEqual([]);
    s.offer(frame('a', 0));
    expect(s.take(0)).toEqual([]);
    expect(s.size).toBe(1);
  });
});
