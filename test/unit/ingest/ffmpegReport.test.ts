import { describe, expect, it } from 'vitest';
import { FfmpegReport, isFrameLine } from '../../../src/ingest/ffmpegReport.js';

// Lines as Debian's ffmpeg 5.1 prints them (the shared CCTV clip, an MPEG-TS with a
// resolution change, an MJPEG stream over HTTP).
const MP4_REPORT = [
  "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'clip.mp4':",
  '  Metadata:',
  '    major_brand     : mp42',
  '  Duration: 00:00:30.30, start: 0.000000, bitrate: 849 kb/s',
  '  Stream #0:0[0x1](und): Video: h264 (Main) (avc1 / 0x31637661), yuv420p(progressive), 640x480 [SAR 1:1 DAR 4:3], 848 kb/s, 30 fps, 30 tbr, 30k tbn (default)',
  'Stream mapping:',
  '  Stream #0:0 -> #0:0 (h264 (native) -> rawvideo (native))',
  '[Parsed_showinfo_0 @ 0x55ce8481b200] config in time_base: 1/30000, frame_rate: 30/1',
  '[Parsed_showinfo_0 @ 0x55ce8481b200] n:   0 pts:      0 pts_time:0       pos:       80 fmt:yuv420p sar:1/1 s:640x480 i:P iskey:1 type:I ',
  '[Parsed_showinfo_0 @ 0x55ce8481b200] color_range:unknown color_space:unknown color_primaries:unknown color_trc:unknown',
  "Output #0, rawvideo, to 'pipe:1':",
  '  Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 320x320 [SAR 1:1 DAR 1:1], q=2-31, 73728 kb/s, 30 fps, 30 tbn (default)',
  '[Parsed_showinfo_0 @ 0x55ce8481b200] n:   1 pts:   1000 pts_time:0.0333333 pos:    40970 fmt:yuv420p sar:1/1 s:640x480 i:P iskey:0 type:P ',
];

function facts(lines: string[]) {
  const r = new FfmpegReport();
  return lines.map((l) => r.push(l)).filter((f) => f !== null);
}

describe('FfmpegReport', () => {
  it('reads duration, the input video stream and each frame, and nothing from the output section', () => {
    expect(facts(MP4_REPORT)).toEqual([
      { kind: 'duration', durationS: 30.3 },
      { kind: 'stream', stream: { width: 640, height: 480, fps: 30, codec: 'h264' } },
      { kind: 'frame', frame: { width: 640, height: 480, ptsS: 0 } },
      { kind: 'frame', frame: { width: 640, height: 480, ptsS: 1000 / 30000 } },
    ]);
  });

  it('gives exact frame times from the integer pts and the time base, which a rebuilt graph prints again', () => {
    const got = facts([
      '[Parsed_showinfo_0 @ 0x1] config in time_base: 1/90000, frame_rate: 30/1',
      '[Parsed_showinfo_0 @ 0x1] n:  29 pts:  87000 pts_time:0.966667 pos: 1 fmt:yuv420p sar:1/1 s:640x480 i:P iskey:0 type:P ',
      '[Parsed_showinfo_0 @ 0x2] config in time_base: 1/1000, frame_rate: 30/1',
      '[Parsed_showinfo_0 @ 0x2] n:   0 pts:   1000 pts_time:1       pos: 2 fmt:yuv420p sar:3/4 s:640x360 i:P iskey:1 type:I ',
    ]);
    expect(got).toEqual([
      { kind: 'frame', frame: { width: 640, height: 480, ptsS: 87000 / 90000 } },
      { kind: 'frame', frame: { width: 640, height: 360, ptsS: 1 } },
    ]);
  });

  it('reports a live stream (no duration, rate from tbr) and frames without a timestamp', () => {
    expect(
      facts([
        "Input #0, mpjpeg, from 'http://127.0.0.1:8081/mjpeg':",
        '  Duration: N/A, bitrate: N/A',
        '  Stream #0:0: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 1280x720, 25 tbr, 25 tbn',
        '[Parsed_showinfo_0 @ 0x1] config in time_base: 1/25, frame_rate: 25/1',
        '[Parsed_showinfo_0 @ 0x1] n:   0 pts:NOPTS pts_time:NOPTS pos: -1 fmt:yuvj420p sar:0/1 s:1280x720 i:P iskey:1 type:I ',
      ]),
    ).toEqual([
      { kind: 'duration', durationS: null },
      { kind: 'stream', stream: { width: 1280, height: 720, fps: 25, codec: 'mjpeg' } },
      { kind: 'frame', frame: { width: 1280, height: 720, ptsS: null } },
    ]);
  });

  it('takes the first video stream of the input only, and fractional rates', () => {
    expect(
      facts([
        "Input #0, mpegts, from 'x.ts':",
        '  Duration: 01:02:03.50, start: 1.400000, bitrate: 9977 kb/s',
        '  Stream #0:0[0x100]: Audio: aac (LC), 48000 Hz, stereo, fltp',
        '  Stream #0:1[0x101]: Video: hevc (Main), yuv420p(tv), 1920x1080, 29.97 fps, 29.97 tbr, 90k tbn',
        '  Stream #0:2[0x102]: Video: h264, yuv420p, 640x360, 25 fps, 25 tbr, 90k tbn',
      ]),
    ).toEqual([
      { kind: 'duration', durationS: 3723.5 },
      { kind: 'stream', stream: { width: 1920, height: 1080, fps: 29.97, codec: 'hevc' } },
    ]);
  });

  it('gives a frame line that arrives before the time base is known no time', () => {
    expect(facts(['[Parsed_showinfo_0 @ 0x1] n:   0 pts:      7 pts_time:0.2 pos: 1 fmt:yuv420p sar:1/1 s:2x2 i:P iskey:1 type:I '])).toEqual([
      { kind: 'frame', frame: { width: 2, height: 2, ptsS: null } },
    ]);
  });

  it('tells per-frame lines from the ones worth showing in an error', () => {
    expect(isFrameLine(MP4_REPORT[8]!)).toBe(true);
    expect(isFrameLine('/tmp/x.mp4: No such file or directory')).toBe(false);
  });
});
