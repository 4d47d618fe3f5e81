import { describe, expect, it } from 'vitest';
import { Pacer } from '../../../src/ingest/pacer.js';

describe('Pacer', () => {
  it('holds each frame until its media time, measured from the first frame', () => {
    const p = new Pacer();
    expect(p.delay(0, 1000)).toBe(0);
    expect(p.delay(40, 1000)).toBe(40);
    expect(p.delay(80, 1050)).toBe(30);
    expect(p.delay(120, 1200)).toBe(0); // 80 ms late: shown now, clock kept
    expect(p.delay(160, 1150)).toBe(10);
  });

  it('re-anchors instead of bursting when far behind', () => {
    const p = new Pacer(250);
    p.delay(0, 0);
    expect(p.delay(40, 1000)).toBe(0); // 960 ms late (a stopped ffmpeg): new anchor
    expect(p.delay(80, 1000)).toBe(40);
  });

  it('re-anchors when the timestamp goes back or leaps', () => {
    const p = new Pacer(250, 5000);
    p.delay(10_000, 0);
    expect(p.delay(0, 10)).toBe(0);
    expect(p.delay(40, 10)).toBe(40);
    expect(p.delay(60_000, 20)).toBe(0);
    expect(p.delay(60_040, 20)).toBe(40);
  });
});
