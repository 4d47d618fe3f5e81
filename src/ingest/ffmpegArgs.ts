import type { SourceSpec } from './sourceSpec.js';

/**
 * ffmpeg protocols each kind of source needs (and nothing else): RTSP interleaved over TCP,
 * TLS for the secure variants, `crypto` for AES-128 HLS segments.
 */
export const PROTOCOLS: Readonly<Record<SourceSpec['kind'], string>> = {
  file: 'file',
  // Interleaved over TCP (-rtsp_transport tcp): a server cannot steer ffmpeg to UDP.
  rtsp: 'rtsp,rtsps,tcp,tls',
  rtmp: 'rtmp,rtmps,rtmpt,rtmpts,tcp,tls',
  http: 'http,https,tcp,tls,crypto',
  webcam: 'file',
};

/** Demuxers a local file may be read with (ffmpeg names; the mp4 family is one demuxer). */
export const FORMATS: Readonly<{ file: string }> = {
  file: 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mpeg,flv,asf,ogg,h264,hevc,mjpeg,m4v,ivf,nut,yuv4mpegpipe',
};

/** Local files read as one still image. */
const STILL_IMAGE = /\.(jpe?g|png|bmp|webp|tiff?)$/i;

export interface DecodeArgsOptions {
  /** Restart a local file from the beginning when it ends (in ffmpeg, gapless). */
  loop: boolean;
  /** Socket / read timeout for network sources, s. */
  networkTimeoutS: number;
  /** https, rtmps: verify the server's certificate (default on). */
  tlsVerify?: boolean;
  /** PEM CA file to verify against instead of the system store. */
  caFile?: string;
}

/**
 * ffmpeg input options per source kind. `seekS` resumes a finite source at that position
 * (after its ffmpeg died or stalled) instead of going back to the start. Pacing files at
 * their own frame rate is done by CameraSource from each frame's timestamp, not by `-re`,
 * so http(s) files are paced the same way as local ones.
 */
export function inputOptions(spec: SourceSpec, opts: DecodeArgsOptions, seekS = 0): string[] {
  const us = String(Math.round(opts.networkTimeoutS * 1e6));
  // TLS: ffmpeg does not verify certificates unless told; a camera URL over TLS is verified
  // against the system store (or caFile) unless verification was turned off explicitly.
  // (rtsps: ffmpeg 5.1's RTSP client rejects these options; resolveSource refuses rtsps unless
  // verification is off.)
  const secure = /^(https|rtmps):\/\//i.test(spec.url);
  const tls = secure ? ['-tls_verify', opts.tlsVerify === false ? '0' : '1', ...(opts.caFile ? ['-ca_file', opts.caFile] : [])] : [];
  // -nostats: no progress lines; stderr carries the stream report and one line per frame.
  // -protocol_whitelist: what ffmpeg itself may open for this input, nested opens included, so
  // an HLS playlist, an RTSP SDP or an HTTP redirect cannot lead it to a local file or a pipe.
  const common = ['-hide_banner', '-nostdin', '-nostats', '-fflags', '+discardcorrupt', '-protocol_whitelist', PROTOCOLS[spec.kind], ...tls];
  const seek = seekS > 0 ? ['-ss', seekS.toFixed(3)] : [];
  switch (spec.kind) {
    case 'file': {
      // Container demuxers only: a local "video" that is an HLS or DASH playlist or a concat
      // script would open other files. A still image is read as exactly that one file (image2
      // without its %d sequence patterns).
      const still = STILL_IMAGE.test(spec.url) ? ['-f', 'image2', '-pattern_type', 'none'] : ['-format_whitelist', FORMATS.file];
      return [...common, ...still, ...(opts.loop ? ['-stream_loop', '-1'] : []), ...seek];
    }
    case 'rtsp':
      return [...common, '-rtsp_transport', 'tcp', '-timeout', us];
    case 'rtmp':
      return [...common, '-rw_timeout', us];
    case 'http':
      return [...common, '-rw_timeout', us, ...seek];
    case 'webcam':
      return [...common, '-f', 'v4l2'];
  }
}

/** Pictures for the model are at most this wide unless told otherwise, px. */
export const DEFAULT_INFERENCE_MAX_WIDTH = 1280;

/**
 * The size of the picture ffmpeg delivers for the model from a `srcWidth` x `srcHeight`
 * source: its own size, or scaled down (aspect kept) to `maxWidth` when it is wider.
 * inferenceFilter makes ffmpeg compute exactly this (same IEEE operations, round half up).
 */
export function inferenceSize(srcWidth: number, srcHeight: number, maxWidth: number): { width: number; height: number } {
  if (srcWidth <= maxWidth) return { width: srcWidth, height: srcHeight };
  return { width: maxWidth, height: Math.max(1, Math.round((srcHeight * maxWidth) / srcWidth)) };
}

/**
 * The model's picture: `showinfo` first (it reports every decoded frame's size and timestamp
 * on stderr, see ffmpegReport.ts; checksums off, they cost a pass over every pixel), then the
 * decoded size kept, or scaled down to `maxWidth` (area averaging), as packed rgb24. The
 * letterbox itself is done by the inference worker (OpenCV's INTER_LINEAR, exactly), so the
 * model sees what Ultralytics' LetterBox makes of this picture. Computed from `iw`/`ih`, so a
 * stream that changes resolution is followed at once by the same process.
 */
export function inferenceFilter(maxWidth: number): string {
  const w = `if(gt(iw,${maxWidth}),${maxWidth},iw)`;
  const h = `if(gt(iw,${maxWidth}),max(1,round(ih*${maxWidth}/iw)),ih)`;
  return ['showinfo=checksum=0', `scale=w='${w}':h='${h}':flags=area`, 'format=rgb24'].join(',');
}

/** The first video stream only, every decoded frame once (no rate conversion), raw rgb24 on stdout. */
export function outputOptions(maxWidth: number): string[] {
  // -autoscale 0: a resolution change keeps its own size (see displayOutputOptions).
  return ['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', inferenceFilter(maxWidth), '-autoscale', '0', '-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo'];
}

/** Display frames are at most this wide unless told otherwise, px. */
export const DEFAULT_DISPLAY_MAX_WIDTH = 1280;

/**
 * The display size of a `srcWidth` x `srcHeight` picture: its own size, scaled down (aspect
 * kept) to at most `maxWidth`, both sides even (I420 halves them for chroma), at least 2 px.
 * displayFilter makes ffmpeg compute exactly this (same IEEE operations in the same order).
 */
export function displaySize(srcWidth: number, srcHeight: number, maxWidth: number): { width: number; height: number } {
  const width = Math.max(2, 2 * Math.trunc(Math.min(srcWidth, maxWidth) / 2));
  const height = Math.max(2, 2 * Math.trunc((srcHeight * width) / srcWidth / 2 + 0.5));
  return { width, height };
}

/** Bytes of one I420 (yuv420p) picture of even size. */
export function i420ByteLength(width: number, height: number): number {
  return width * height + 2 * ((width / 2) * (height / 2));
}

/**
 * The display picture: scaled from the decoded size (`iw`, `ih`, so a resolution change is
 * followed at once) to displaySize's size, as yuv420p, which WebRTC encoders take as is.
 */
export function displayFilter(maxWidth: number): string {
  const w = `max(2,2*trunc(min(iw,${maxWidth})/2))`;
  const h = `max(2,2*trunc(ih*${w}/iw/2+0.5))`;
  return [`scale=w='${w}':h='${h}':flags=bilinear`, 'format=yuv420p'].join(',');
}

/**
 * The second output of the same ffmpeg process: the same decoded frames (every one once) at
 * display size as raw yuv420p, written to file descriptor `fd` (the process's own pipe).
 */
export function displayOutputOptions(maxWidth: number, fd = 3): string[] {
  // -autoscale 0: ffmpeg would otherwise scale every frame after a resolution change back to
  // the first frame's size (the encoder's), stretching it.
  return ['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', displayFilter(maxWidth), '-autoscale', '0', '-fps_mode', 'passthrough', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', `pipe:${fd}`];
}
