import type { DisplayFrame } from '../core/index.js';

/**
 * A camera's display frames waiting for their segmentation result, at most `capacity`, in
 * seq order. Frames the scheduler drops are discarded at once, so what stays is the frames
 * waiting for or in inference (a few); `capacity` is the hard bound. `take(seq)` hands out that frame; the older ones still held will never get a
 * result (results never go back in seq: the scheduler dropped them), so they go too. A frame
 * pushed into a full ring pushes the oldest out. Every frame that leaves without being taken
 * is counted in `dropped`.
 */
export class DisplayRing {
  private readonly frames: DisplayFrame[] = [];
  private droppedCount = 0;

  constructor(readonly capacity = 8) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** Holds `frame`; returns how many frames this dropped (0 or 1). */
  push(frame: DisplayFrame): number {
    const last = this.frames[this.frames.length - 1];
    // A restarted camera counts seq from 0 again: what is held belongs to the old run.
    if (last !== undefined && frame.seq <= last.seq) return this.dropWhere(() => true) + this.pushNow(frame);
    return this.pushNow(frame);
  }

  /** The frame of `seq` (undefined if it is not held), dropping the older ones. */
  take(seq: number): DisplayFrame | undefined {
    this.dropWhere((f) => f.seq < seq);
    if (this.frames[0]?.seq !== seq) return undefined;
    return this.frames.shift();
  }

  /** The frame of `seq` will get no result (the scheduler dropped it): let it go now, counted. */
  discard(seq: number): void {
    const i = this.frames.findIndex((f) => f.seq === seq);
    if (i < 0) return;
    this.frames.splice(i, 1);
    this.droppedCount++;
  }

  get size(): number {
    return this.frames.length;
  }

  /** Frames that left without being taken, since construction. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Lets go of every frame held (not counted: the camera is closing). */
  clear(): void {
    this.frames.length = 0;
  }

  private pushNow(frame: DisplayFrame): number {
    this.frames.push(frame);
    if (this.frames.length <= this.capacity) return 0;
    this.frames.shift();
    this.droppedCount++;
    return 1;
  }

  private dropWhere(pred: (f: DisplayFrame) => boolean): number {
    let n = 0;
    while (this.frames.length > 0 && pred(this.frames[0]!)) {
      this.frames.shift();
      n++;
    }
    this.droppedCount += n;
    return n;
  }
}
