import { redactUrl, SegstreamError } from '../core/index.js';

export const SOURCE_KINDS = ['file', 'rtsp', 'rtmp', 'http', 'webcam'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface SourceSpec {
  /** Camera id: from `id=url`, else `cam<index>`. */
  readonly id: string;
  readonly url: string;
  readonly kind: SourceKind;
}

const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Parses `--source` values: `[id=]url` where url is a file path, rtsp://, rtmp://,
 * http(s):// (HLS, MJPEG, progressive files) or a webcam (`/dev/video0`, `v4l2:///dev/video0`).
 */
export function parseSourceSpec(value: string, index: number): SourceSpec {
  let id = `cam${index}`;
  let url = value.trim();
  const eq = url.indexOf('=');
  const scheme = url.indexOf('://');
  // What precedes '=' is meant as an id unless it holds a '/': `/data/run=3/clip.mp4` stays a path.
  if (eq > 0 && (scheme < 0 || eq < scheme) && !url.slice(0, eq).includes('/')) {
    id = url.slice(0, eq);
    url = url.slice(eq + 1);
  }
  if (!ID_RE.test(id)) {
    throw new SegstreamError('E_CONFIG', `camera id '${id}' is invalid`, { expected: ID_RE.source, actual: id });
  }
  if (url.length === 0) throw new SegstreamError('E_CONFIG', `source for camera '${id}' is empty`, { expected: 'a path or URL' });
  return { id, url: url.replace(/^v4l2:\/\//, ''), kind: classify(url) };
}

function classify(url: string): SourceKind {
  const lower = url.toLowerCase();
  if (lower.startsWith('rtsp://') || lower.startsWith('rtsps://')) return 'rtsp';
  if (lower.startsWith('rtmp://') || lower.startsWith('rtmps://')) return 'rtmp';
  if (lower.startsWith('http://') || lower.startsWith('https://')) return 'http';
  if (lower.startsWith('v4l2://') || /^\/dev\/video\d+$/.test(lower)) return 'webcam';
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(lower) && !lower.startsWith('file://')) {
    throw new SegstreamError('E_CONFIG', `unsupported source scheme in '${redactUrl(url)}'`, {
      expected: 'a file path, rtsp://, rtmp://, http(s):// or /dev/videoN',
      actual: redactUrl(url),
    });
  }
  return 'file';
}

/**
 * Live sources (network, webcam) are reconnected whenever they fail or end; a local file
 * is finite. An http(s) source is finite too when its stream report gives a duration.
 */
export function isLive(kind: SourceKind): boolean {
  return kind !== 'file';
}
