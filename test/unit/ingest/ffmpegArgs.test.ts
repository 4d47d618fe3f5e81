import { describe, expect, it } from 'vitest';
import { inferenceFilter, inferenceSize, inputOptions, outputOptions, type DecodeArgsOptions } from '../../../src/ingest/ffmpegArgs.js';
import type { SourceKind, SourceSpec } from '../../../src/ingest/sourceSpec.js';

const spec = (kind: SourceKind, url = 'x'): SourceSpec => ({ id: 'c', url, kind });
const opts = (o: Partial<DecodeArgsOptions> = {}): DecodeArgsOptions => ({ loop: false, networkTimeoutS: 10, ...o });

/** Index of the adjacent pair a, b in args, or -1. */
function pairAt(args: string[], a: string, b: string): number {
  return args.findIndex((v, i) => v === a && args[i + 1] === b);
}

describe('inferenceFilter', () => {
  it('reports each frame (showinfo, no checksums) first, then keeps or caps its size and converts to rgb24 (no letterbox: the worker does it)', () => {
    const f = inferenceFilter(1280);
    expect(f.startsWith('showinfo=checksum=0,scale=')).toBe(true);
    expect(f.endsWith(',format=rgb24')).toBe(true);
    expect(f).not.toContain('pad=');
  });

  it('computes the size from the decoded size (iw, ih) as inferenceSize does, so a resolution change is followed', () => {
    expect(inferenceFilter(640)).toContain(`scale=w='if(gt(iw,640),640,iw)':h='if(gt(iw,640),max(1,round(ih*640/iw)),ih)':flags=area`);
  });
});

describe('inferenceSize', () => {
  it('keeps a source at most maxWidth wide as it is, odd sizes included', () => {
    expect(inferenceSize(641, 359, 1280)).toEqual({ width: 641, height: 359 });
    expect(inferenceSize(1280, 720, 1280)).toEqual({ width: 1280, height: 720 });
  });

  it('scales a wider source to maxWidth, aspect kept, height rounded half up', () => {
    expect(inferenceSize(1920, 1080, 1280)).toEqual({ width: 1280, height: 720 });
    // 1000 * 1280 / 2001 = 639.68 -> 640.
    expect(inferenceSize(2001, 1000, 1280)).toEqual({ width: 1280, height: 640 });
    expect(inferenceSize(100_000, 10, 1280)).toEqual({ width: 1280, height: 1 });
  });
});

describe('outputOptions', () => {
  it('writes the first video stream as raw rgb24 through the inference filter, every frame once, at its own size', () => {
    const args = outputOptions(1280);
    expect(args[pairAt(args, '-vf', inferenceFilter(1280)) + 1]).toBe(inferenceFilter(1280));
    expect(pairAt(args, '-map', '0:v:0')).toBeGreaterThanOrEqual(0);
    expect(pairAt(args, '-fps_mode', 'passthrough')).toBeGreaterThanOrEqual(0);
    expect(pairAt(args, '-f', 'rawvideo')).toBeGreaterThanOrEqual(0);
    expect(pairAt(args, '-pix_fmt', 'rgb24')).toBeGreaterThanOrEqual(0);
    // Without it ffmpeg scales every frame after a resolution change back to the first size.
    expect(pairAt(args, '-autoscale', '0')).toBeGreaterThanOrEqual(0);
    expect(args).toContain('-an');
  });
});

describe('inputOptions', () => {
  it.each(['file', 'rtsp', 'rtmp', 'http', 'webcam'] as const)('never lets ffmpeg pace a %s source (CameraSource paces by frame time)', (kind) => {
    expect(inputOptions(spec(kind), opts())).not.toContain('-re');
  });

  it('resumes a file or an http(s) file at a position, never a stream', () => {
    expect(pairAt(inputOptions(spec('file'), opts(), 12.3456), '-ss', '12.346')).toBeGreaterThanOrEqual(0);
    expect(pairAt(inputOptions(spec('http'), opts(), 3), '-ss', '3.000')).toBeGreaterThanOrEqual(0);
    expect(inputOptions(spec('file'), opts(), 0)).not.toContain('-ss');
    for (const kind of ['rtsp', 'rtmp', 'webcam'] as const) expect(inputOptions(spec(kind), opts(), 5)).not.toContain('-ss');
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

  it.each([
    ['file', 'file'],
    ['rtsp', 'rtsp,rtsps,tcp,tls'],
    ['rtmp', 'rtmp,rtmps,rtmpt,rtmpts,tcp,tls'],
    ['http', 'http,https,tcp,tls,crypto'],
    ['webcam', 'file'],
  ] as const)('restricts a %s input to the protocols it needs (-protocol_whitelist %s)', (kind, list) => {
    const args = inputOptions(spec(kind), opts());
    expect(args[args.indexOf('-protocol_whitelist') + 1]).toBe(list);
    // Network inputs can never reach a local file, a pipe or a shell-like protocol.
    if (kind !== 'file' && kind !== 'webcam') for (const p of ['file', 'pipe', 'concat', 'subfile', 'data']) expect(list.split(',')).not.toContain(p);
  });

  it('verifies TLS servers by default (https, rtmps), with a CA file when given, off only when asked', () => {
    const tlsArgs = (a: string[]) => [a[a.indexOf('-tls_verify') + 1], a.includes('-ca_file') ? a[a.indexOf('-ca_file') + 1] : null];
    expect(tlsArgs(inputOptions(spec('http', 'https://cam/live.m3u8'), opts()))).toEqual(['1', null]);
    expect(tlsArgs(inputOptions(spec('rtmp', 'rtmps://cam/app/key'), opts({ caFile: '/etc/ca.pem' })))).toEqual(['1', '/etc/ca.pem']);
    expect(tlsArgs(inputOptions(spec('http', 'https://cam/x'), opts({ tlsVerify: false })))).toEqual(['0', null]);
    // ffmpeg 5.1's RTSP client takes no TLS options (rtsps is refused unless verification is off).
    for (const url of ['http://cam/x', 'rtsp://cam/s', 'rtmp://cam/a/k', 'rtsps://cam/s']) expect(inputOptions(spec('rtsp', url), opts())).not.toContain('-tls_verify');
  });

  it('reads local files with container demuxers only (no playlist, concat or image-sequence demuxer)', () => {
    const args = inputOptions(spec('file', '/m/clip.mp4'), opts());
    const formats = args[args.indexOf('-format_whitelist') + 1]!.split(',');
    expect(formats).toContain('mp4');
    for (const f of ['hls', 'dash', 'concat', 'image2', 'lavfi']) expect(formats).not.toContain(f);
    expect(inputOptions(spec('http', 'http://h/x.m3u8'), opts())).not.toContain('-format_whitelist');
    // A still image: exactly that file, no %d sequence pattern.
    const still = inputOptions(spec('file', '/m/snap%03d.JPG'), opts());
    expect(still.slice(still.indexOf('-f'), still.indexOf('-f') + 4)).toEqual(['-f', 'image2', '-pattern_type', 'none']);
    expect(still).not.toContain('-format_whitelist');
  });

  it('opens a webcam with the v4l2 demuxer', () => {
    expect(pairAt(inputOptions(spec('webcam'), opts()), '-f', 'v4l2')).toBeGreaterThanOrEqual(0);
  });
});
