/**
 * Cuts one of ffmpeg's rawvideo outputs (the model's rgb24 picture, the display's yuv420p;
 * their frame size follows the source, so it may change between frames) into whole frames,
 * each its own ArrayBuffer (transferable to a worker without a copy). The size of each frame
 * is told in order by `expect()` (from showinfo's line for the same decoded picture); bytes
 * that arrive before their frame's size is known wait, at most `maxWaitingBytes` of them.
 */
export class FrameAssembler {
  private readonly sizes: number[] = [];
  private readonly waiting: Uint8Array[] = [];
  private waitingBytes = 0;
  private current: Uint8Array | undefined;
  private filled = 0;
  private overflow = false;

  constructor(private readonly maxWaitingBytes: number) {}

  /** The next frame (after those already expected) is `bytes` long; returns the frames that completes. */
  expect(bytes: number): Uint8Array[] {
    if (!Number.isInteger(bytes) || bytes <= 0) throw new TypeError(`frame bytes must be a positive integer, got ${bytes}`);
    this.sizes.push(bytes);
    const chunks = this.waiting.splice(0);
    this.waitingBytes = 0;
    return chunks.flatMap((c) => this.push(c));
  }

  /** Feeds a chunk of the pipe; returns the frames it completed. */
  push(chunk: Uint8Array): Uint8Array[] {
    const done: Uint8Array[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.current === undefined) {
        const size = this.sizes.shift();
        if (size === undefined) {
          // No size known yet for these bytes: they wait for the report line.
          // A copy: the chunk's memory is not ours to keep.
          const rest = new Uint8Array(chunk.subarray(off));
          this.waiting.push(rest);
          this.waitingBytes += rest.length;
          if (this.waitingBytes > this.maxWaitingBytes) this.overflow = true;
          break;
        }
        this.current = new Uint8Array(size);
        this.filled = 0;
      }
      const n = Math.min(this.current.length - this.filled, chunk.length - off);
      this.current.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === this.current.length) {
        done.push(this.current);
        this.current = undefined;
      }
    }
    return done;
  }

  /** False once more than maxWaitingBytes arrived ahead of their sizes: the outputs no longer correspond. */
  get inStep(): boolean {
    return !this.overflow;
  }

  /** Sizes told whose frames have not begun. */
  get expectedFrames(): number {
    return this.sizes.length;
  }
}
