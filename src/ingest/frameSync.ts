import type { FrameInfo } from './ffmpegReport.js';

/** A frame's pixels together with what showinfo said about it. */
export interface SyncedFrame {
  data: Uint8Array;
  info: FrameInfo;
}

/**
 * Pairs the n-th frame on ffmpeg's stdout with the n-th showinfo line on its stderr. The two
 * pipes are read independently, so either may run a little ahead; with `-fps_mode
 * passthrough` every decoded frame is written once, so counting pairs them exactly.
 * Bounded: more than `maxUnpaired` frames or lines waiting means the streams no longer
 * correspond, and the caller restarts ffmpeg.
 */
export class FrameSync {
  private readonly frames: Uint8Array[] = [];
  private readonly infos: FrameInfo[] = [];

  constructor(private readonly maxUnpaired = 64) {}

  pushData(data: Uint8Array): SyncedFrame[] {
    this.frames.push(data);
    return this.pair();
  }

  pushInfo(info: FrameInfo): SyncedFrame[] {
    this.infos.push(info);
    return this.pair();
  }

  /** False once either side is more than maxUnpaired ahead. */
  get inStep(): boolean {
    return this.frames.length <= this.maxUnpaired && this.infos.length <= this.maxUnpaired;
  }

  private pair(): SyncedFrame[] {
    const out: SyncedFrame[] = [];
    while (this.frames.length > 0 && this.infos.length > 0) out.push({ data: this.frames.shift()!, info: this.infos.shift()! });
    return out;
  }
}
