import { describe, expect, it } from 'vitest';
import { advance, reached } from '../../../src/events/hysteresis.js';
import { HISTORY_BUCKETS, TrackMotion } from '../../../src/events/trackMotion.js';

describe('advance (one condition run)', () => {
  it('starts a run when the condition holds, keeps it through a false spell shorter than endS, drops it after', () => {
    const run = advance(undefined, true, 1, 2)!;
    expect(run).toEqual({ since: 1, last: 1, open: false });
    expect(advance(run, false, 2.5, 2)).toBe(run);
    expect(advance(run, true, 2.9, 2)).toEqual({ since: 1, last: 2.9, open: false });
    expect(advance(run, false, 4.9, 2)).toBeUndefined();
    expect(advance(undefined, false, 5, 2)).toBeUndefined();
  });

  it('may begin a run earlier than now (frozen since the previous sample), never later', () => {
    expect(advance(undefined, true, 10, 2, 9.8)!.since).toBe(9.8);
    expect(advance(undefined, true, 10, 2, 11)!.since).toBe(10);
  });

  it('counts frame-time rounding as reached: 1.4 - 0.9 is 0.5 s', () => {
    expect(1.4 - 0.9 >= 0.5).toBe(false);
    expect(reached(1.4 - 0.9, 0.5)).toBe(true);
  });
});

describe('TrackMotion', () => {
  it('smooths by time, not by frames: a step of 100 px reads alike at 5 and 30 fps', () => {
    const at = (fps: number): number => {
      const m = new TrackMotion(0.1, 0.5);
      for (let i = 0; i * (1 / fps) <= 1 + 1e-9; i++) m.add(i / fps, i === 0 ? 0 : 100, 0, 10);
      return m.x;
    };
    // After 1 s of the step (first sample at 0): 100 (1 - e^(-1 / 0.5)) = 86.5 px.
    expect(at(5)).toBeCloseTo(100 * (1 - Math.exp(-2)), 6);
    expect(at(30)).toBeCloseTo(100 * (1 - Math.exp(-2)), 6);
  });

  it('keeps at most 64 buckets that still reach back the whole window, whatever the frame rate', () => {
    const window = 10;
    const m = new TrackMotion(window / (HISTORY_BUCKETS - 2), 0);
    for (let i = 0; i <= 60 * 100; i++) m.add(i / 60, 5, 5, 10); // 100 s at 60 fps, standing
    const size = (m as unknown as { size: number }).size;
    expect(size).toBe(HISTORY_BUCKETS);
    expect(100 - m.stillSince(1)).toBeGreaterThan(window);
    expect(100 - m.stillSince(1)).toBeLessThan(window * 1.1);
  });

  it('stillSince is the start of the newest run of positions within d of the current one', () => {
    const m = new TrackMotion(0.5, 0);
    for (let i = 0; i <= 100; i++) {
      const t = i / 10;
      m.add(t, t < 4 ? 10 * t : 40, 0, 10);
    }
    // Moving until 4 s at 10 px/s, then standing at 40: within 3 px from about 3.7 s; the bucket
    // holding earlier positions does not count.
    expect(m.stillSince(3)).toBeGreaterThanOrEqual(3.7 - 1e-9);
    expect(m.stillSince(3)).toBeLessThanOrEqual(4.5);
    expect(m.stillSince(100)).toBe(0);
  });
});
