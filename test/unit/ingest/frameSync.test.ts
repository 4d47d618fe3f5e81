import { describe, expect, it } from 'vitest';
import { FrameSync } from '../../../src/ingest/frameSync.js';

const info = (w: number) => ({ width: w, height: 1, ptsS: w });
const data = (v: number) => new Uint8Array([v]);

describe('FrameSync', () => {
  it('pairs the n-th frame with the n-th report, whichever pipe is ahead', () => {
    const s = new FrameSync();
    expect(s.pushData(data(1))).toEqual([]);
    expect(s.pushData(data(2))).toEqual([]);
    expect(s.pushInfo(info(10))).toEqual([{ data: data(1), info: info(10) }]);
    expect(s.pushInfo(info(20))).toEqual([{ data: data(2), info: info(20) }]);
    expect(s.pushInfo(info(30))).toEqual([]);
    expect(s.pushData(data(3))).toEqual([{ data: data(3), info: info(30) }]);
    expect(s.inStep).toBe(true);
  });

  it('is out of step once either side runs more than maxUnpaired ahead', () => {
    const s = new FrameSync(2);
    s.pushInfo(info(1));
    s.pushInfo(info(2));
    expect(s.inStep).toBe(true);
    s.pushInfo(info(3));
    expect(s.inStep).toBe(false);
    const t = new FrameSync(1);
    t.pushData(data(1));
    t.pushData(data(2));
    expect(t.inStep).toBe(false);
  });
});
