import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSegstreamError } from '../../../src/core/index.js';
import { formatMotResults, motCommand, parseMotDetections, runTrackerOnMot } from '../../../src/tracking/index.js';

describe('parseMotDetections', () => {
  it('reads comma-separated MOTChallenge rows and skips blank lines', () => {
    const rows = parseMotDetections('1,-1,281.9,187.5,79.9,209.5,0.99,-1,-1,-1\n\n2,-1,10,20,30,40,0.5,-1,-1,-1\r\n');
    expect(rows).toEqual([
      { frame: 1, id: -1, x: 281.9, y: 187.5, width: 79.9, height: 209.5, score: 0.99 },
      { frame: 2, id: -1, x: 10, y: 20, width: 30, height: 40, score: 0.5 },
    ]);
  });

  it('accepts whitespace separators and a missing score (read as 1)', () => {
    expect(parseMotDetections('3 7 1 2 3 4')).toEqual([{ frame: 3, id: 7, x: 1, y: 2, width: 3, height: 4, score: 1 }]);
  });

  it('throws E_SOURCE_UNREADABLE naming the line of a malformed row', () => {
    let err: unknown;
    try {
      parseMotDetections('1,-1,1,2,3,4,0.9\n1,-1,abc,2,3,4,0.9');
    } catch (e) {
      err = e;
    }
    expect(isSegstreamError(err) && err.code).toBe('E_SOURCE_UNREADABLE');
    expect((err as Error).message).toContain('line 2');
  });
});

describe('formatMotResults', () => {
  it('writes frame,id,x,y,w,h,1,-1,-1,-1 with two decimals, like SORT', () => {
    const text = formatMotResults([{ frame: 4, id: 2, x: 1.234, y: 5, width: 10.005, height: 20.5, score: 0.3 }]);
    expect(text).toBe('4,2,1.23,5.00,10.01,20.50,1,-1,-1,-1\n');
  });

  it('round-trips through parseMotDetections', () => {
    const rows = [{ frame: 1, id: 1, x: 10.5, y: 20.25, width: 30, height: 60, score: 1 }];
    expect(parseMotDetections(formatMotResults(rows))).toEqual(rows);
  });
});

describe('runTrackerOnMot', () => {
  const walker = (frames: number[]) =>
    frames.map((f) => ({ frame: f, id: -1, x: 100 + 3 * f, y: 50, width: 40, height: 100, score: 0.95 }));

  it('gives one id to one walking person and steps frames without detections', () => {
    const rows = runTrackerOnMot(walker([1, 2, 3, 5, 6]), { minHits: 1 });
    expect(rows.map((r) => [r.frame, r.id])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [5, 1],
      [6, 1],
    ]);
  });

  it('converts frame numbers to time with fps: the same maxAgeS spans more frames at a higher rate', () => {
    // Seen on frames 1-3, then again on frame 10: 7 frames unseen is 0.7 s at 10 fps, 0.23 s at 30 fps.
    const frames = [1, 2, 3, 10];
    const ids = (fps: number) => new Set(runTrackerOnMot(walker(frames), { minHits: 1, maxAgeS: 0.5, matchIouHigh: 0.01 }, { fps }).map((r) => r.id));
    expect(ids(30)).toEqual(new Set([1]));
    expect(ids(10)).toEqual(new Set([1, 2]));
    expect(() => runTrackerOnMot(walker(frames), {}, { fps: 0 })).toThrow(/frame rate/);
  });

  it('writes predicted rows only when includePredicted is set', () => {
    // One frame at the default 30 fps is 1/30 s.
    const opts = { minHits: 1, predictWindowS: 0.04 };
    expect(runTrackerOnMot(walker([1, 2, 3, 5]), opts).some((r) => r.frame === 4)).toBe(false);
    expect(runTrackerOnMot(walker([1, 2, 3, 5]), opts, { includePredicted: true }).some((r) => r.frame === 4)).toBe(true);
  });
});

describe('motCommand', () => {
  it('reads a det file and writes MOT results', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'segstream-mot-'));
    const det = join(dir, 'det.txt');
    const out = join(dir, 'out.txt');
    await writeFile(det, '1,-1,10,10,40,100,0.95,-1,-1,-1\n2,-1,12,10,40,100,0.95,-1,-1,-1\n');
    await motCommand({ det, out, minHits: 1, outputBox: 'detection' });
    expect(await readFile(out, 'utf8')).toBe('1,1,10.00,10.00,40.00,100.00,1,-1,-1,-1\n2,1,12.00,10.00,40.00,100.00,1,-1,-1,-1\n');
  });

  it('rejects a missing det file with E_SOURCE_UNREADABLE and bad options with E_CONFIG', async () => {
    await expect(motCommand({ det: '/nonexistent/det.txt', out: '/tmp/x' })).rejects.toMatchObject({
      code: 'E_SOURCE_UNREADABLE',
    });
    await expect(motCommand({ det: '/nonexistent/det.txt', out: '/tmp/x', minHits: -1 })).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
    await expect(motCommand({ det: '/nonexistent/det.txt', out: '/tmp/x', fps: -5 })).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});
