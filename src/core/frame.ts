import type { Letterbox } from './geometry.js';

/** Pixel layouts a Frame can carry. Only packed RGB is produced today. */
export const PIXEL_FORMATS = ['rgb24'] as const;
export type PixelFormat = (typeof PIXEL_FORMATS)[number];

/**
 * One decoded picture as packed RGB: the source picture at its own size, or scaled down by
 * ffmpeg when it is wider than `ingest.inferenceMaxWidth`. The inference worker letterboxes
 * it to the model's input size; `letterbox` says how, and maps model-input pixels back to
 * source-frame pixels.
 */
export interface Frame {
  /** Camera id, unique within one segstream process. */
  readonly camera: string;
  /** 0-based, increments by one for every frame the source delivered (dropped ones included). */
  readonly seq: number;
  /** Wall-clock time the frame was fully read from ffmpeg, ms since the epoch. */
  readonly timestamp: number;
  /**
   * Media time of the frame, ms; never decreases, and the tracker's clock. Files and other
   * finite sources: the stream's own timestamps from its start, continued across loops, resumes
   * and clock jumps. Live sources: the monotonic arrival time since the camera was created, so
   * an outage counts as the time it lasted.
   */
  readonly pts: number;
  /** Size of `data` in pixels (letterbox.frameWidth x letterbox.frameHeight). */
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  /** Packed pixels, row-major, width * height * 3 bytes for rgb24. */
  readonly data: Uint8Array;
  /** How `data` is placed into the model input, and how model px map to source px. */
  readonly letterbox: Letterbox;
}

export function frameByteLength(width: number, height: number, format: PixelFormat): number {
  switch (format) {
    case 'rgb24':
      return width * height * 3;
  }
}

/**
 * The same decoded picture as a Frame (same camera and seq), at display size for people to
 * watch: I420 (yuv420p, planes Y, U, V one after the other, chroma at half width and height),
 * even sides.
 */
export interface DisplayFrame {
  readonly camera: string;
  readonly seq: number;
  /** As the Frame of the same seq, ms since the epoch. */
  readonly timestamp: number;
  /** As the Frame of the same seq, ms media time. */
  readonly pts: number;
  /** Size of `data`, px. */
  readonly width: number;
  readonly height: number;
  readonly format: 'i420';
  /** width * height * 3 / 2 bytes. */
  readonly data: Uint8Array;
  /** The source picture's own size, px (detections are in these pixels). */
  readonly srcWidth: number;
  readonly srcHeight: number;
}
