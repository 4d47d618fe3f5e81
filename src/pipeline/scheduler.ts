import type { Frame } from '../core/index.js';

/**
 * The only frame queue between ingest and inference: one slot per camera.
 * A newer frame replaces a waiting one (latest frame wins) and the replaced frame is
 * counted as dropped, so memory is bounded by (cameras + frames in flight) frames
 * however slow inference gets. `take()` serves the cameras that waited longest first.
 */
export class LatestFrameScheduler {
  private readonly slots = new Map<string, Frame>();

  /** Queues `frame`; returns the frame it displaced (the caller counts it as dropped), if any. */
  offer(frame: Frame): Frame | undefined {
    const previous = this.slots.get(frame.camera);
    // Map.set on an existing key keeps its insertion position: a camera whose frame is
    // replaced keeps its place in the waiting order.
    this.slots.set(frame.camera, frame);
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

  /** Removes a camera's waiting frame (the camera was removed); returns it, if any. */
  remove(camera: string): Frame | undefined {
    const frame = this.slots.get(camera);
    this.slots.delete(camera);
    return frame;
  }

  /** Frames waiting now (at most one per camera). */
  get size(): number {
    return this.slots.size;
  }
}
