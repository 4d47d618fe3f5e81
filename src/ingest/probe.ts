import { spawn } from 'node:child_process';
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

/**
 * ffprobe the source for its first video stream; E_SOURCE_UNREADABLE when it has none or
 * cannot be opened. Aborting `signal` kills ffprobe at once (a camera that accepts the
 * connection but never answers would otherwise hold it for the whole timeout).
 */
export function probeSource(spec: SourceSpec, timeoutS: number, signal?: AbortSignal): Promise<StreamInfo> {
  const args = ['-v', 'error', '-hide_banner', '-print_format', 'json', '-show_streams', '-select_streams', 'v'];
  if (spec.kind === 'rtsp') args.push('-rtsp_transport', 'tcp', '-timeout', String(Math.round(timeoutS * 1e6)));
  if (spec.kind === 'http' || spec.kind === 'rtmp') args.push('-rw_timeout', String(Math.round(timeoutS * 1e6)));
  if (spec.kind === 'webcam') args.push('-f', 'v4l2');
  args.push('-i', spec.url);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new SegstreamError('E_SOURCE_UNREADABLE', `camera ${spec.id}: cannot read ${spec.url}: ${why}`, {
          expected: 'a readable video stream',
          cause,
        }),
      );
    };
    const child = spawn(ffprobePath(), args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    // A safety net only: ffprobe's own socket timeout ends dead connections, but a slow live
    // stream may legitimately need its analyzeduration (5 s) on top of connecting.
    const limitS = Math.max(2 * timeoutS, timeoutS + 10);
    const timer = setTimeout(() => fail(`no stream information within ${limitS} s`), limitS * 1000);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => fail(e.name === 'AbortError' ? 'probe cancelled' : e.message, e));
    child.on('close', (code) => {
      if (settled) return;
      if (code !== 0) return fail(err.trim().split('\n').slice(-2).join(' ') || `ffprobe exited with ${code}`);
      let streams: ProbeStream[] = [];
      try {
        streams = (JSON.parse(out) as { streams?: ProbeStream[] }).streams ?? [];
      } catch (e) {
        return fail('ffprobe printed no JSON', e);
      }
      const v = streams.find((st) => st.codec_type === 'video' && (st.width ?? 0) > 0 && (st.height ?? 0) > 0);
      if (!v) return fail('no video stream');
      settled = true;
      clearTimeout(timer);
      resolve({
        width: v.width!,
        height: v.height!,
        fps: parseRate(v.avg_frame_rate) || parseRate(v.r_frame_rate),
        codec: v.codec_name ?? 'unknown',
      });
    });
  });
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
}

/** FFPROBE_PATH, as fluent-ffmpeg honours it, else ffprobe on the PATH. */
function ffprobePath(): string {
  return process.env['FFPROBE_PATH'] || 'ffprobe';
}
