import { describe, expect, it } from 'vitest';
import { thrownSegstreamError } from '../../helpers/errors.js';
import { isLive, parseSourceSpec } from '../../../src/ingest/sourceSpec.js';

const configError = thrownSegstreamError;

describe('parseSourceSpec', () => {
  it('names a camera cam<index> when no id is given', () => {
    expect(parseSourceSpec('videos/a.mp4', 2)).toEqual({ id: 'cam2', url: 'videos/a.mp4', kind: 'file' });
  });

  it('takes the id from an id= prefix', () => {
    expect(parseSourceSpec('gate=rtsp://10.0.0.5/stream1', 0)).toEqual({ id: 'gate', url: 'rtsp://10.0.0.5/stream1', kind: 'rtsp' });
  });

  it('does not mistake an = inside a URL for an id', () => {
    const url = 'rtsp://user:pw@cam.local/live?channel=1&subtype=0';
    expect(parseSourceSpec(url, 1)).toEqual({ id: 'cam1', url, kind: 'rtsp' });
    expect(parseSourceSpec(`door=${url}`, 1)).toEqual({ id: 'door', url, kind: 'rtsp' });
  });

  it('trims surrounding whitespace', () => {
    expect(parseSourceSpec('  yard=clip.mp4 ', 0)).toEqual({ id: 'yard', url: 'clip.mp4', kind: 'file' });
  });

  it.each([
    ['clip.mp4', 'file'],
    ['/abs/path/clip.mkv', 'file'],
    ['rtsp://h/s', 'rtsp'],
    ['rtsps://h/s', 'rtsp'],
    ['RTSP://H/S', 'rtsp'],
    ['rtmp://h/live/key', 'rtmp'],
    ['rtmps://h/live/key', 'rtmp'],
    ['http://h/stream.m3u8', 'http'],
    ['https://h/mjpeg', 'http'],
    ['/dev/video0', 'webcam'],
    ['/dev/video12', 'webcam'],
  ])('classifies %s as %s', (url, kind) => {
    expect(parseSourceSpec(url, 0).kind).toBe(kind);
  });

  it('strips v4l2:// from a webcam URL', () => {
    expect(parseSourceSpec('v4l2:///dev/video0', 0)).toEqual({ id: 'cam0', url: '/dev/video0', kind: 'webcam' });
    expect(parseSourceSpec('desk=v4l2:///dev/video1', 0)).toEqual({ id: 'desk', url: '/dev/video1', kind: 'webcam' });
  });

  it('rejects an invalid camera id with E_CONFIG', () => {
    const err = configError(() => parseSourceSpec('bad id!=clip.mp4', 0));
    expect(err.code).toBe('E_CONFIG');
    expect(err.actual).toBe('bad id!');
    expect(configError(() => parseSourceSpec(`${'x'.repeat(65)}=clip.mp4`, 0)).code).toBe('E_CONFIG');
  });

  it('rejects an empty source with E_CONFIG', () => {
    expect(configError(() => parseSourceSpec('cam=', 0)).code).toBe('E_CONFIG');
    expect(configError(() => parseSourceSpec('   ', 0)).code).toBe('E_CONFIG');
  });

  it.each([
    ['srt://h:9000', 'srt: protocol is not allowed'],
    ['file:///etc/passwd', 'file: protocol is not allowed'],
    ['concat:a.mp4|b.mp4', 'concat: protocol is not allowed'],
    ['subfile:,start,0,end,100,:/etc/passwd', 'subfile: protocol is not allowed'],
    ['pipe:0', 'pipe: protocol is not allowed'],
    ['data:video/mp4;base64,AAAA', 'data: protocol is not allowed'],
    ['tcp://10.0.0.1:9000', 'tcp: protocol is not allowed'],
    ['udp://239.0.0.1:1234', 'udp: protocol is not allowed'],
    ['lavfi:testsrc', 'lavfi: protocol is not allowed'],
    ['cache:http://h/x.mp4', 'cache: protocol is not allowed'],
    ['-i', 'may not begin with "-"'],
    ['-f lavfi -i testsrc', 'may not begin with "-"'],
    ['rtsp:h/s', 'rtsp: needs rtsp://'],
    ['/tmp/a\nb.mp4', 'control characters'],
    ['v4l2:///etc/shadow', 'a v4l2 source must be /dev/videoN'],
    ['v4l2://-f', 'a v4l2 source must be /dev/videoN'],
    ['v4l2://concat:/etc/passwd', 'a v4l2 source must be /dev/videoN'],
  ])('refuses %s with E_SOURCE_REFUSED naming the rule', (url, rule) => {
    const err = configError(() => parseSourceSpec(`cam=${url}`, 0));
    expect(err.code).toBe('E_SOURCE_REFUSED');
    expect(err.message).toContain(rule);
  });

  it('lower-cases a scheme, as ffmpeg needs; a path under /dev/videoN is a file, not a webcam', () => {
    expect(parseSourceSpec('HTTPS://Cam.local/Live.m3u8', 0)).toMatchObject({ url: 'https://Cam.local/Live.m3u8', kind: 'http' });
    expect(parseSourceSpec('RTSP://h/S', 0)).toMatchObject({ url: 'rtsp://h/S', kind: 'rtsp' });
    expect(parseSourceSpec('V4L2:///dev/video3', 0)).toMatchObject({ url: '/dev/video3', kind: 'webcam' });
    expect(parseSourceSpec('/dev/video0/../../etc/passwd', 0).kind).toBe('file');
  });

  it('redacts credentials in a refusal', () => {
    const err = configError(() => parseSourceSpec('ftp://admin:hunter2@h/s', 0));
    expect(err.code).toBe('E_SOURCE_REFUSED');
    expect(err.message).toContain('ftp://admin:***@h/s');
    expect(JSON.stringify(err)).not.toContain('hunter2');
  });
});

describe('isLive', () => {
  it('treats every kind but file as live', () => {
    expect(['file', 'rtsp', 'rtmp', 'http', 'webcam'].map((k) => isLive(k as Parameters<typeof isLive>[0]))).toEqual([
      false,
      true,
      true,
      true,
      true,
    ]);
  });
});

describe('parseSourceSpec with "=" inside a path', () => {
  it('keeps a path whose directory holds "=" whole', () => {
    expect(parseSourceSpec('/data/run=3/clip.mp4', 2)).toEqual({ id: 'cam2', url: '/data/run=3/clip.mp4', kind: 'file' });
    expect(parseSourceSpec('lane=/data/run=3/clip.mp4', 0)).toEqual({ id: 'lane', url: '/data/run=3/clip.mp4', kind: 'file' });
  });
});
