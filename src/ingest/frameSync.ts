import type { FrameInfo } from './ffmpegReport.js';

/** A frame's pixels together with what showinfo said about it (and its display picture, when asked for). */
export interface SyncedFrame {
  data: Uint8Array;
  info: FrameInfo;
  /** The same decoded picture at display size, I420. */
  display?: Uint8Array;
}

/**
 * Pairs the n-th frame on ffmpeg's stdout with the n-th showinfo line on its stderr (and,
 * with `withDisplay`, the n-th frame of its display output). The pipes are read
 * independently, so any may run a little ahead; with `-fps_mode passthrough` every decoded
 * frame is written once to every output, so counting pairs them exactly. Bounded: more than
 * `maxUnpaired` frames or lines waiting means the streams no longer correspond, and the
 * caller restarts ffmpeg.
 */
export class FrameSync {
  private readonly frames: Uint8Array[] = [];
  private readonly infos: FrameInfo[] = [];
  private readonly displays: Uint8Array[] = [];

  constructor(
    private readonly maxUnpaired = 64,
    private readonly withDisplay = false,
  ) {}

  pushData(data: Uint8Array): SyncedFrame[] {
    this.frames.push(data);
    return this.pair();
  }

  pushInfo(info: FrameInfo): SyncedFrame[] {
    this.infos.push(info);
    return this.pair();
  }

  pushDisplay(display: Uint8Array): SyncedFrame[] {
    this.displays.push(display);
    return this.pair();
  }

  /** False once any side is more than maxUnpaired ahead. */
  get inStep(): boolean {
    return this.frames.length <= this.maxUnpaired && this.infos.length <= this.maxUnpaired && this.displays.length <= this.maxUnpaired;
  }

  private pair(): SyncedFrame[] {
    const out: SyncedFrame[] = [];
    while (this.frames.length > 0 && this.infos.length > 0 && (!this.withDisplay || this.displays.length > 0)) {
      const data = this.frames.shift()!;
      const info = this.infos.shift()!;
      out.push(this.withDisplay ? { data, info, display: this.displays.shift()! } : { data, info });
    }
    return out;
  }
}
