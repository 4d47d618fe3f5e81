import { describe, expect, it } from 'vitest';
import type { DisplayFrame } from '../../../src/core/index.js';
import { DisplayRing } from '../../../src/overlay/index.js';

const frame = (seq: number): DisplayFrame => ({ camera: 'c', seq, timestamp: seq, pts: seq, width: 2, height: 2, format: 'i420', data: new Uint8Array(6), srcWidth: 2, srcHeight: 2 });

describe('DisplayRing', () => {
  it('hands out the frame of a result and drops (counts) the older ones, whose results will never come', () => {
    const r = new DisplayRing(8);
    for (let s = 0; s < 5; s++) r.push(frame(s));
    expect(r.take(0)?.seq).toBe(0);
    // 1 and 2 were dropped by the scheduler: the result of 3 comes next.
    expect(r.take(3)?.seq).toBe(3);
    expect(r.dropped).toBe(2);
    expect(r.size).toBe(1);
  });

  it('holds at most capacity frames: a frame pushed into a full ring pushes the oldest out (counted)', () => {
    const r = new DisplayRing(3);
    expect([0, 1, 2].map((s) => r.push(frame(s)))).toEqual([0, 0, 0]);
    expect(r.push(frame(3))).toBe(1);
    expect(r.size).toBe(3);
    expect(r.dropped).toBe(1);
    // The result of the pushed-out frame comes late: nothing to draw on, nothing else lost.
    expect(r.take(0)).toBeUndefined();
    expect(r.size).toBe(3);
    expect(r.take(1)?.seq).toBe(1);
  });

  it('answers undefined for a result whose frame it does not hold, dropping only older frames', () => {
    const r = new DisplayRing(4);
    r.push(frame(10));
    r.push(frame(12));
    expect(r.take(11)).toBeUndefined();
    expect(r.dropped).toBe(1);
    expect(r.take(12)?.seq).toBe(12);
  });

  it('starts over when seq goes back (a restarted source), counting what it held', () => {
    const r = new DisplayRing(4);
    r.push(frame(5));
    r.push(frame(6));
    expect(r.push(frame(0))).toBe(2);
    expect(r.take(0)?.seq).toBe(0);
  });

  it('clear() lets go of everything without counting; a capacity below 1 is a TypeError', () => {
    const r = new DisplayRing(2);
    r.push(frame(1));
    r.clear();
    expect([r.size, r.dropped]).toEqual([0, 0]);
    expect(() => new DisplayRing(0)).toThrow(TypeError);
  });
});

describe('DisplayRing.discard', () => {
  it('lets a frame the scheduler dropped go at once (counted), so the ring holds only frames still waiting for a result', () => {
    const r = new DisplayRing(8);
    for (let s = 0; s < 4; s++) r.push(frame(s));
    r.discard(1);
    r.discard(2);
    r.discard(9);
    expect([r.size, r.dropped]).toEqual([2, 2]);
    expect(r.take(3)?.seq).toBe(3);
    // 0 was older than the result: it goes too.
    expect(r.dropped).toBe(3);
  });
});
