import { describe, expect, it } from 'vitest';
import { FrameAssembler } from '../../../src/ingest/frameAssembler.js';
import { displayFilter, displayOutputOptions, displaySize, i420ByteLength } from '../../../src/ingest/ffmpegArgs.js';
import { FrameSync } from '../../../src/ingest/frameSync.js';

describe('displaySize', () => {
  it.each([
    [640, 480, 1280, 640, 480],
    [1920, 1080, 1280, 1280, 720],
    [1281, 721, 1280, 1280, 720],
    [641, 359, 1280, 640, 358],
    [3840, 2160, 640, 640, 360],
    [1080, 1920, 1280, 1080, 1920],
    [1, 1, 1280, 2, 2],
    [4000, 3, 1280, 1280, 2],
  ])('%ix%i capped at %i px wide is %ix%i (aspect kept, even sides)', (w, h, max, ew, eh) => {
    expect(displaySize(w, h, max)).toEqual({ width: ew, height: eh });
  });

  it('writes the same arithmetic into the ffmpeg filter, from the decoded size', () => {
    expect(displayFilter(1280)).toBe("scale=w='max(2,2*trunc(min(iw,1280)/2))':h='max(2,2*trunc(ih*max(2,2*trunc(min(iw,1280)/2))/iw/2+0.5))':flags=bilinear,format=yuv420p");
    const args = displayOutputOptions(1280, 3);
    expect(args[args.length - 1]).toBe('pipe:3');
    // Without it ffmpeg scales frames after a size change back to the first size.
    expect(args[args.indexOf('-autoscale') + 1]).toBe('0');
  });

  it('i420ByteLength counts a full Y plane and two quarter chroma planes', () => {
    expect(i420ByteLength(640, 480)).toBe(460_800);
  });
});

describe('FrameAssembler', () => {
  it('cuts frames of the sizes told in order, whether the bytes or the sizes come first', () => {
    const a = new FrameAssembler(100);
    expect(a.push(new Uint8Array([1, 2, 3]))).toEqual([]);
    expect(a.expect(2)).toEqual([new Uint8Array([1, 2])]);
    expect(a.expect(4)).toEqual([]);
    expect(a.push(new Uint8Array([4, 5, 6, 7, 8]))).toEqual([new Uint8Array([3, 4, 5, 6])]);
    expect(a.expect(1)).toEqual([new Uint8Array([7])]);
    expect(a.push(new Uint8Array([9]))).toEqual([]);
    expect(a.inStep).toBe(true);
  });

  it('keeps the waiting bytes as its own copy', () => {
    const a = new FrameAssembler(100);
    const chunk = new Uint8Array([1, 2]);
    a.push(chunk);
    chunk.fill(0);
    expect(a.expect(2)).toEqual([new Uint8Array([1, 2])]);
  });

  it('is out of step once more than maxWaitingBytes wait for their size', () => {
    const a = new FrameAssembler(4);
    a.push(new Uint8Array(4));
    expect(a.inStep).toBe(true);
    a.push(new Uint8Array(1));
    expect(a.inStep).toBe(false);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new FrameAssembler(4).expect(0)).toThrow(TypeError);
  });
});

describe('FrameSync with a display output', () => {
  const info = (n: number) => ({ width: n, height: 1, ptsS: n });
  it('pairs the n-th model frame, report line and display frame, whichever comes last', () => {
    const s = new FrameSync(64, true);
    expect(s.pushData(new Uint8Array([1]))).toEqual([]);
    expect(s.pushInfo(info(1))).toEqual([]);
    expect(s.pushDisplay(new Uint8Array([10]))).toEqual([{ data: new Uint8Array([1]), info: info(1), display: new Uint8Array([10]) }]);
    expect(s.pushDisplay(new Uint8Array([20]))).toEqual([]);
    expect(s.pushInfo(info(2))).toEqual([]);
    expect(s.pushData(new Uint8Array([2]))).toEqual([{ data: new Uint8Array([2]), info: info(2), display: new Uint8Array([20]) }]);
  });

  it('is out of step once display frames run more than maxUnpaired ahead', () => {
    const s = new FrameSync(1, true);
    s.pushDisplay(new Uint8Array(1));
    s.pushDisplay(new Uint8Array(1));
    expect(s.inStep).toBe(false);
  });
});
