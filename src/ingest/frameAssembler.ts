/**
 * Cuts ffmpeg's rawvideo byte stream into whole frames. Each frame gets its own
 * ArrayBuffer, so it can be transferred to an inference worker without a copy.
 */
export class FrameAssembler {
  private current: Uint8Array;
  private filled = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new TypeError(`frameBytes must be a positive integer, got ${frameBytes}`);
    this.current = new Uint8Array(frameBytes);
  }

  /** Feeds a chunk; returns the frames it completed (usually 0 or 1). */
  push(chunk: Uint8Array): Uint8Array[] {
    const done: Uint8Array[] = [];
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.frameBytes - this.filled, chunk.length - off);
      this.current.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === this.frameBytes) {
        done.push(this.current);
        this.current = new Uint8Array(this.frameBytes);
        this.filled = 0;
      }
    }
    return done;
  }

  /** Bytes of an incomplete frame held back (dropped when the stream ends). */
  get pendingBytes(): number {
    return this.filled;
  }

  reset(): void {
    this.filled = 0;
  }
}
