import type { Letterbox } from '../core/index.js';
import type { SourceSpec } from './sourceSpec.js';

export interface DecodeArgsOptions {
  /** Read files at their own frame rate (as a camera delivers) instead of as fast as possible. */
  realtime: boolean;
  /** Restart a file from the beginning when it ends. */
  loop: boolean;
  /** Socket / read timeout for network sources, s. */
  networkTimeoutS: number;
}

/** ffmpeg input options per source kind. */
export function inputOptions(spec: SourceSpec, opts: DecodeArgsOptions): string[] {
  const us = String(Math.round(opts.networkTimeoutS * 1e6));
  const common = ['-hide_banner', '-nostdin', '-fflags', '+discardcorrupt'];
  switch (spec.kind) {
    case 'file':
      return [...common, ...(opts.loop ? ['-stream_loop', '-1'] : []), ...(opts.realtime ? ['-re'] : [])];
    case 'rtsp':
      return [...common, '-rtsp_transport', 'tcp', '-timeout', us];
    case 'rtmp':
    case 'http':
      return [...common, '-rw_timeout', us];
    case 'webcam':
      return [...common, '-f', 'v4l2'];
  }
}

/**
 * The letterbox happens in ffmpeg's filter graph: scale to the inner size, pad with
 * Ultralytics' grey (114) to the model size, convert to packed RGB. No per-pixel
 * resizing in JavaScript.
 */
export function letterboxFilter(lb: Letterbox): string {
  return [
    `scale=${lb.innerWidth}:${lb.innerHeight}:flags=bilinear`,
    `pad=${lb.dstWidth}:${lb.dstHeight}:${lb.padX}:${lb.padY}:color=0x727272`,
    'format=rgb24',
  ].join(',');
}

export function outputOptions(lb: Letterbox): string[] {
  return ['-an', '-sn', '-dn', '-vf', letterboxFilter(lb), '-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo'];
}
