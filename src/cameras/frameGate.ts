import type { Frame } from '../core/index.js';
import { MotionGate, type MotionGateOptions } from '../pipeline/index.js';

/** What to do with a frame: send it to inference, publish it now with a result's objects, or let it go. */
export type GateStep<R> =
  | { readonly kind: 'infer'; readonly frame: Frame }
  | { readonly kind: 'gated'; readonly frame: Frame; readonly from: R }
  | { readonly kind: 'drop'; readonly frame: Frame };

/**
 * One camera's motion gating around the pure MotionGate: which frames go to inference, and
 * which are published with the objects of the last result, in `seq` order. Synchronous, no I/O.
 *
 * - A changed frame goes to inference and becomes the reference; an unchanged one carries the
 *   reference's result forward. While the reference is still in inference its result is not
 *   known yet: the newest unchanged frame is held (one; an older held one is dropped) and goes
 *   out once the result came (`release`), after it. A newer changed frame drops the held one.
 * - A reference that leaves without a result (`lost`: inference failed, or replaced) cannot be
 *   carried forward: the held frame, or else the next frame, goes to inference instead.
 * - A frame whose source size differs from the reference's goes to inference (tracks and
 *   masks are in source px).
 *
 * The tracker is not stepped for a carried frame (no stale detections counted as new matches,
 * hits or label votes); the next inferred frame steps it by its own media time, so the gated
 * stretch is a gap it predicts through like frames the scheduler dropped (README, "Motion
 * gating", says why and what leaving that time out measured).
 */
export class FrameGate<R> {
  private readonly gate: MotionGate;
  private enabled: boolean;
  private referenceSeq = -1;
  private referenceGeometry = '';
  /** The reference is in inference (its result or its loss still to come). */
  private referencePending = false;
  private last: { seq: number; result: R } | null = null;
  private held: Frame | null = null;
  private gatedCount = 0;

  constructor(options: (MotionGateOptions & { enabled: boolean }) | null) {
    this.enabled = options?.enabled ?? false;
    this.gate = new MotionGate(options ?? {});
  }

  /** New options from the next frame on (in place: the reference and any held frame stay). */
  configure(options: MotionGateOptions & { enabled: boolean }): void {
    this.enabled = options.enabled;
    this.gate.configure(options);
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  /** A frame is held for a result still in inference (a file read as fast as possible pauses then). */
  get holding(): boolean {
    return this.held !== null;
  }

  /** Frames published with a previous result's objects so far. */
  get gated(): number {
    return this.gatedCount;
  }

  /** A frame from the camera's source. */
  offer(frame: Frame): GateStep<R>[] {
    const out: GateStep<R>[] = [];
    if (!this.enabled) {
      // Off: no reference either, so the first frame after switching on goes to inference.
      this.dropHeld(out);
      this.referenceSeq = -1;
      this.referencePending = false;
      out.push({ kind: 'infer', frame });
      return out;
    }
    const refPending = this.referencePending;
    const refResult = this.last !== null && this.last.seq === this.referenceSeq;
    // Nothing to carry forward (no result yet and none coming), or other geometry: inference.
    const force = (!refPending && !refResult) || geometryOf(frame) !== this.referenceGeometry;
    if (this.gate.update(frame, force) === 'changed') {
      this.dropHeld(out);
      out.push(this.infer(frame));
    } else if (refPending) {
      this.dropHeld(out);
      this.held = frame;
    } else {
      out.push(this.carry(frame));
    }
    return out;
  }

  /** A frame that went to inference came back with its result (about to be published). */
  resolved(frame: Frame, result: R): void {
    if (frame.seq === this.referenceSeq) this.referencePending = false;
    if (this.last === null || frame.seq > this.last.seq) this.last = { seq: frame.seq, result };
  }

  /** A frame that went to inference left without a result (dropped, or its inference or tracking failed). */
  lost(seq: number): void {
    if (seq === this.referenceSeq) this.referencePending = false;
  }

  /**
   * After a result was published, or a frame lost: the held frame, when it can go now (gated
   * with the reference's result, or to inference when the reference was lost).
   */
  release(): GateStep<R>[] {
    const held = this.held;
    if (!held || this.referencePending) return [];
    this.held = null;
    if (this.last !== null && this.last.seq === this.referenceSeq && held.seq > this.last.seq) return [this.carry(held)];
    this.gate.update(held, true);
    return [this.infer(held)];
  }

  private infer(frame: Frame): GateStep<R> {
    this.referenceSeq = frame.seq;
    this.referenceGeometry = geometryOf(frame);
    this.referencePending = true;
    return { kind: 'infer', frame };
  }

  private carry(frame: Frame): GateStep<R> {
    this.gatedCount++;
    return { kind: 'gated', frame, from: this.last!.result };
  }

  private dropHeld(out: GateStep<R>[]): void {
    if (this.held) out.push({ kind: 'drop', frame: this.held });
    this.held = null;
  }
}

/** What a carried result's boxes and masks depend on besides the picture: the source size. */
function geometryOf(frame: Frame): string {
  return `${frame.letterbox.srcWidth}x${frame.letterbox.srcHeight}`;
}
