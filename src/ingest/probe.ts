import ffmpeg from 'fluent-ffmpeg';
import { SegstreamError } from '../core/index.js';
import type { SourceSpec } from './sourceSpec.js';

export interface StreamInfo {
  width: number;
  height: number;
  /** Frames per second; 0 when the source does not say. */
  fps: number;
  codec: string;
}

/** Parses ffprobe's `30000/1001` style rates. */
export function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [n, d] = rate.split('/').map(Number);
  if (n === undefined || !Number.isFinite(n)) return 0;
  const fps = d === undefined ? n : d > 0 ? n / d : 0;
  return Number.isFinite(fps) && fps > 0 && fps < 1000 ? fps : 0;
}

/** ffprobe the source for its first video stream; E_SOURCE_UNREADABLE when it has none. */
export function probeSource(spec: SourceSpec, timeoutS: number): Promise<StreamInfo> {
  const options = ['-hide_banner'];
  if (spec.kind === 'rtsp') options.push('-rtsp_transport', 'tcp', '-timeout', String(Math.round(timeoutS * 1e6)));
  if (spec.kind === 'http' || spec.kind === 'rtmp') options.push('-rw_timeout', String(Math.round(timeoutS * 1e6)));
  if (spec.kind === 'webcam') options.push('-f', 'v4l2');
  return new Promise((resolve, reject) => {
    const fail = (why: string, cause?: unknown): void =>
      reject(
        new SegstreamError('E_SOURCE_UNREADABLE', `camera ${spec.id}: cannot read ${spec.url}: ${why}`, {
          expected: 'a readable video stream',
          cause,
        }),
      );
    const timer = setTimeout(() => fail(`no answer within ${timeoutS} s`), timeoutS * 1000 + 2000);
    ffmpeg.ffprobe(spec.url, options, (err, data) => {
      clearTimeout(timer);
      if (err) {
        const msg = String((err as Error).message ?? err)
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('ffprobe version') && !l.startsWith('Command failed'))
          .slice(-2)
          .join(' ');
        fail(msg || 'ffprobe failed', err);
        return;
      }
      const v = data.streams.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0 && (s.height ?? 0) > 0);
      if (!v) {
        fail('no video stream');
        return;
      }
      resolve({
        width: v.width!,
        height: v.height!,
        fps: parseRate(v.avg_frame_rate) || parseRate(v.r_frame_rate),
        codec: v.codec_name ?? 'unknown',
      });
    });
  });
}
