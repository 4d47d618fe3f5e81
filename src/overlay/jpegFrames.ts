import sharp from 'sharp';
import { RateGate, type DisplayFrame, type Logger } from '../core/index.js';
import type { JpegHeader } from '../protocol/index.js';
import type { OverlayDrawer } from './overlayDrawer.js';
import type { OverlayScene } from './scene.js';

/** The highest JPEG rate the clients ask for, per variant, frames per second (0: nobody). */
export interface JpegDemand {
  readonly clean: number;
  readonly overlay: number;
}

export const NO_JPEG_DEMAND: JpegDemand = { clean: 0, overlay: 0 };

export interface JpegFrameEvents {
  /** A JPEG frame is ready for the clients that asked for it. */
  encoded(header: JpegHeader, jpeg: Buffer): void;
  /** A waiting frame was replaced by a newer one before its encode began. */
  replaced?(overlay: boolean): void;
  /** Drawing, conversion or encoding failed (logged here). */
  failed?(overlay: boolean): void;
}

interface Job {
  frame: DisplayFrame;
  scene: OverlayScene | null;
}

/** One variant (clean, or with the overlay) of one camera: at most one encode in flight, the newest frame waiting. */
class Variant {
  readonly gate = new RateGate();
  busy = false;
  waiting: Job | undefined;
  constructor(readonly overlay: boolean) {}
}

/** JPEG quality, 1..100 (mozjpeg in sharp). */
export const JPEG_QUALITY = 75;

/**
 * One camera's JPEG frames. Each variant is encoded at most at the highest rate a client
 * asks for (by capture time), once per frame whatever the number of clients: the overlay
 * worker draws (for `overlay`) and converts I420 -> RGB off the main thread, sharp encodes on
 * libuv's thread pool. At most one encode per variant is in flight; a frame that comes while
 * one is, waits, and a newer one replaces it (counted).
 */
export class CameraJpeg {
  private readonly variants = { clean: new Variant(false), overlay: new Variant(true) };
  private closed = false;

  constructor(
    readonly camera: string,
    private readonly drawer: OverlayDrawer,
    private readonly events: JpegFrameEvents,
    private readonly log?: Logger,
  ) {}

  /** The variants `frame` is to be encoded in now (their rate gates let it through; the slots are taken). */
  wanted(frame: DisplayFrame, demand: JpegDemand): ('clean' | 'overlay')[] {
    if (this.closed) return [];
    const out: ('clean' | 'overlay')[] = [];
    for (const k of ['clean', 'overlay'] as const) {
      const fps = demand[k];
      if (fps <= 0) {
        this.variants[k].gate.reset();
        continue;
      }
      if (this.variants[k].gate.admit(frame.timestamp, 1000 / fps)) out.push(k);
    }
    return out;
  }

  /** Encodes `frame` (its buffer is handed over: do not use it after) in one variant; for the clean one, scene null or privacyOnly. */
  offer(variant: 'clean' | 'overlay', frame: DisplayFrame, scene: OverlayScene | null): void {
    if (this.closed) return;
    const v = this.variants[variant];
    // The clean variant draws nothing but what privacy hides (a privacyOnly scene).
    const job = { frame, scene: v.overlay || scene?.privacyOnly ? scene : null };
    if (v.busy) {
      if (v.waiting) this.events.replaced?.(v.overlay);
      v.waiting = job;
      return;
    }
    void this.run(v, job);
  }

  /** Encodes in flight: 0..2. */
  get inFlight(): number {
    return Number(this.variants.clean.busy) + Number(this.variants.overlay.busy);
  }

  close(): void {
    this.closed = true;
    this.variants.clean.waiting = undefined;
    this.variants.overlay.waiting = undefined;
  }

  private async run(v: Variant, job: Job): Promise<void> {
    v.busy = true;
    const { frame } = job;
    try {
      const { rgb, width, height } = await this.drawer.toRgb(frame, job.scene);
      const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: JPEG_QUALITY }).toBuffer();
      if (!this.closed) {
        this.events.encoded({ type: 'jpeg', camera: this.camera, seq: frame.seq, pts: Math.round(frame.pts), timestamp: frame.timestamp, width, height, overlay: v.overlay }, jpeg);
      }
    } catch (err) {
      this.log?.warn({ err, camera: this.camera, seq: frame.seq, overlay: v.overlay }, 'JPEG frame failed; not sent');
      this.events.failed?.(v.overlay);
    } finally {
      v.busy = false;
    }
    const next = v.waiting;
    v.waiting = undefined;
    if (next && !this.closed) void this.run(v, next);
  }
}
