import type { Frame } from '../core/index.js';

/**
 * The only frame queue between ingest and inference: one slot per camera.
 * A newer frame replaces a waiting one (latest frame wins) and the replaced frame is
 * counted as dropped, so memory is bounded by (cameras + frames in flight) frames
 * however slow inference gets. `take()` serves the cameras that waited longest first.
 */
export class LatestFrameScheduler {
  private readonly slots = new Map<string, Frame>();
  private readonly droppedByCamera = new Map<string, number>();

  /** Queues `frame`; returns the frame it displaced, if any. */
  offer(frame: Frame): Frame | undefined {
    const previous = this.slots.get(frame.camera);
    // Map order = insertion order: re-inserting keeps a displaced camera at its old
    // position only if we do not delete first, so the waiting order stays fair.
    this.slots.set(frame.camera, frame);
    if (previous) this.droppedByCamera.set(frame.camera, this.dropped(frame.camera) + 1);
    return previous;
  }

  /** Removes and returns up to `max` waiting frames, longest-waiting camera first. */
  take(max: number): Frame[] {
    const out: Frame[] = [];
    for (const [camera, frame] of this.slots) {
      if (out.length >= max) break;
      out.push(frame);
      this.slots.delete(camera);
    }
    return out;
  }

  has(camera: string): boolean {
    return this.slots.has(camera);
  }

  /** Frames waiting now (at most one per camera). */
  get size(): number {
    return this.slots.size;
  }

  dropped(camera: string): number {
    return this.droppedByCamera.get(camera) ?? 0;
  }

  /** Forgets a camera's waiting frame (camera removed). */
  discard(camera: string): void {
    this.slots.delete(camera);
  }
}
