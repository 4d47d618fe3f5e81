import { describe, expect, it } from 'vitest';
import { computeLetterbox } from '../../../src/core/geometry.js';
import { inputOptions, letterboxFilter, outputOptions, type DecodeArgsOptions } from '../../../src/ingest/ffmpegArgs.js';
import type { SourceKind, SourceSpec } from '../../../src/ingest/sourceSpec.js';

const spec = (kind: SourceKind, url = 'x'): SourceSpec => ({ id: 'c', url, kind });
const opts = (o: Partial<DecodeArgsOptions> = {}): DecodeArgsOptions => ({ realtime: false, loop: false, networkTimeoutS: 10, ...o });

/** Index of the adjacent pair a, b in args, or -1. */
function pairAt(args: string[], a: string, b: string): number {
  return args.findIndex((v, i) => v === a && args[i + 1] === b);
}

describe('letterboxFilter', () => {
  it('scales to the inner size and pads to the model size with grey 114 at the letterbox offset', () => {
    // 640x360 -> 320x320: inner 320x180, 70 px bars top and bottom.
    expect(letterboxFilter(computeLetterbox(640, 360, 320, 320))).toBe(
      `scale=320:180:flags=bilinear,pad=320:320:0:70:color=0x${(114).toString(16).repeat(3)},format=rgb24`,
    );
  });

  it('pads left for a portrait source', () => {
    // 480x640 -> 320x320: inner 240x320, 40 px left.
    expect(letterboxFilter(computeLetterbox(480, 640, 320, 320))).toMatch(/^scale=240:320:.*,pad=320:320:40:0:/);
  });
});

describe('outputOptions', () => {
  it('writes raw rgb24 through the letterbox filter, video only', () => {
    const lb = computeLetterbox(640, 480, 320, 320);
    const args = outputOptions(lb);
    expect(args[pairAt(args, '-vf', letterboxFilter(lb)) + 1]).toBe(letterboxFilter(lb));
    expect(pairAt(args, '-f', 'rawvideo')).toBeGreaterThanOrEqual(0);
    expect(pairAt(args, '-pix_fmt', 'rgb24')).toBeGreaterThanOrEqual(0);
    expect(args).toContain('-an');
  });
});

describe('inputOptions', () => {
  it('adds -re for a file only when realtime', () => {
    expect(inputOptions(spec('file'), opts({ realtime: true }))).toContain('-re');
    expect(inputOptions(spec('file'), opts({ realtime: false }))).not.toContain('-re');
  });

  it.each(['rtsp', 'rtmp', 'http', 'webcam'] as const)('never adds -re for a live %s source', (kind) => {
    expect(inputOptions(spec(kind), opts({ realtime: true }))).not.toContain('-re');
  });

  it('adds -stream_loop -1 for a looped file only', () => {
    expect(pairAt(inputOptions(spec('file'), opts({ loop: true })), '-stream_loop', '-1')).toBeGreaterThanOrEqual(0);
    expect(inputOptions(spec('file'), opts({ loop: false }))).not.toContain('-stream_loop');
    expect(inputOptions(spec('rtsp'), opts({ loop: true }))).not.toContain('-stream_loop');
  });

  it('reads RTSP over TCP with the network timeout in microseconds', () => {
    const args = inputOptions(spec('rtsp'), opts({ networkTimeoutS: 2.5 }));
    expect(pairAt(args, '-rtsp_transport', 'tcp')).toBeGreaterThanOrEqual(0);
    expect(pairAt(args, '-timeout', '2500000')).toBeGreaterThanOrEqual(0);
  });

  it.each(['rtmp', 'http'] as const)('gives %s a read/write timeout in microseconds', (kind) => {
    expect(pairAt(inputOptions(spec(kind), opts({ networkTimeoutS: 10 })), '-rw_timeout', '10000000')).toBeGreaterThanOrEqual(0);
  });

  it('opens a webcam with the v4l2 demuxer', () => {
    expect(pairAt(inputOptions(spec('webcam'), opts()), '-f', 'v4l2')).toBeGreaterThanOrEqual(0);
  });
});
