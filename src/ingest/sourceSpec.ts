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
 * Parses `--source` values: `[id=]url` where url is a file path, rtsp(s)://, rtmp(s)://,
 * http(s):// (HLS, MJPEG, progressive files) or a webcam (`/dev/video0`, `v4l2:///dev/video0`).
 * Any other form is E_SOURCE_REFUSED (see classify); a local file is checked against the file
 * system and the media roots by resolveSource().
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
  return sourceSpecOf(id, url);
}

/**
 * A camera's source from its id and URL (a configuration file's or the API's camera): the
 * same allow-list as `--source`. Throws E_SOURCE_REFUSED naming the rule.
 */
export function sourceSpecOf(id: string, value: string): SourceSpec {
  const url = value.trim();
  if (url.length === 0) throw new SegstreamError('E_CONFIG', `source for camera '${id}' is empty`, { expected: 'a path or URL' });
  const kind = classify(url);
  // ffmpeg's protocol names are lower case: `RTSP://h/s` is `rtsp://h/s`.
  const normal = kind === 'webcam' ? url.replace(/^v4l2:\/\//i, '') : url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, (s) => s.toLowerCase());
  return { id, url: normal, kind };
}

/**
 * What may reach ffmpeg, and how each is recognised. Everything else is refused with
 * E_SOURCE_REFUSED naming the rule: ffmpeg also reads `concat:`, `subfile:`, `file:`, `pipe:`,
 * `data:`, `tcp:`, `udp:`, lavfi graphs and options, and a source string must never open those.
 */
const NETWORK_SCHEMES: ReadonlyMap<string, SourceKind> = new Map([
  ['rtsp', 'rtsp'],
  ['rtsps', 'rtsp'],
  ['rtmp', 'rtmp'],
  ['rtmps', 'rtmp'],
  ['http', 'http'],
  ['https', 'http'],
]);

function classify(url: string): SourceKind {
  const refuse = (rule: string): never => {
    throw new SegstreamError('E_SOURCE_REFUSED', `source '${redactUrl(url)}' refused: ${rule}`, {
      expected: 'rtsp(s)://, rtmp(s)://, http(s)://, a local video file or /dev/videoN',
      actual: redactUrl(url),
    });
  };
  if (url.startsWith('-')) return refuse('a source may not begin with "-" (ffmpeg would read it as an option)');
  if (/[\u0000-\u001f\u007f]/.test(url)) return refuse('control characters are not allowed');
  const lower = url.toLowerCase();
  // A webcam is a /dev/videoN device, nothing else: the v4l2 demuxer opens any path it is given.
  if (/^(?:v4l2:\/\/)?\/dev\/video\d+$/i.test(url)) return 'webcam';
  if (lower.startsWith('v4l2:')) return refuse('a v4l2 source must be /dev/videoN');
  // A scheme: letters then ':' (a Windows drive letter is one letter, and this is Linux).
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(lower)?.[1];
  if (scheme !== undefined) {
    const kind = NETWORK_SCHEMES.get(scheme);
    if (kind !== undefined && lower.startsWith(`${scheme}://`)) return kind;
    if (kind !== undefined) return refuse(`${scheme}: needs ${scheme}://host/...`);
    return refuse(`the ${scheme}: protocol is not allowed (only rtsp, rtsps, rtmp, rtmps, http, https; local files as plain paths)`);
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
