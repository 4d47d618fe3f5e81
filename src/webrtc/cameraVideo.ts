import type { DisplayFrame, Logger } from '../core/index.js';
import type { OverlayDrawer, OverlayScene } from '../overlay/index.js';
import type { MediaTrack, VideoSource, Wrtc } from './wrtc.js';

/** A viewer of a camera's video (a WHEP session): closed when the camera goes. */
export interface Viewer {
  readonly id: string;
  close(): void;
}

/** What happened to each frame offered to the video, for metrics and benchmarks. */
export interface VideoEvents {
  /** A frame went to the WebRTC source: drawing time and capture -> send, ms. */
  sent?(frame: DisplayFrame, drawMs: number, latencyMs: number): void;
  /** A frame was not sent: a newer one replaced it while the previous was drawn, or drawing failed. */
  skipped?(frame: DisplayFrame, reason: 'busy' | 'failed'): void;
}

/**
 * One camera's WebRTC video: one RTCVideoSource and track shared by every viewer (each
 * peer connection encodes it itself), created with the first viewer and stopped with the
 * last. Frames are drawn on the overlay thread one at a time per camera; while one is drawn,
 * the newest frame waits (one at most; the one it replaces is skipped).
 */
export class CameraVideo {
  private readonly viewers = new Map<string, Viewer>();
  private source: VideoSource | undefined;
  private track: MediaTrack | undefined;
  private drawing = false;
  private waiting: { frame: DisplayFrame; scene: OverlayScene } | undefined;
  private closed = false;

  constructor(
    readonly camera: string,
    private readonly wrtc: () => Wrtc,
    private readonly drawer: OverlayDrawer,
    private readonly events: VideoEvents = {},
    private readonly log?: Logger,
  ) {}

  get viewerCount(): number {
    return this.viewers.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The track every viewer's peer connection sends (created with the first viewer). */
  trackFor(viewer: Viewer): MediaTrack {
    if (this.closed) throw new Error(`camera ${this.camera}: video closed`);
    if (!this.track) {
      const { RTCVideoSource } = this.wrtc().nonstandard;
      this.source = new RTCVideoSource();
      this.track = this.source.createTrack();
    }
    this.viewers.set(viewer.id, viewer);
    return this.track;
  }

  /** A viewer left (its peer connection is closed by its owner). */
  remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer.id) || this.viewers.size > 0) return;
    this.track?.stop();
    this.track = undefined;
    this.source = undefined;
    this.waiting = undefined;
  }

  /**
   * A published frame: its display picture with the scene computed on it. Drawn and sent
   * when someone watches; otherwise let go at once (nothing drawn).
   */
  offer(frame: DisplayFrame, scene: OverlayScene): void {
    if (this.closed || this.viewers.size === 0) return;
    if (this.drawing) {
      if (this.waiting) this.events.skipped?.(this.waiting.frame, 'busy');
      this.waiting = { frame, scene };
      return;
    }
    void this.drawAndSend(frame, scene);
  }

  /** Ends every viewer's session and the track. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const v of [...this.viewers.values()]) v.close();
    this.viewers.clear();
    this.track?.stop();
    this.track = undefined;
    this.source = undefined;
    this.waiting = undefined;
  }

  private async drawAndSend(frame: DisplayFrame, scene: OverlayScene): Promise<void> {
    this.drawing = true;
    try {
      const { frame: drawn, drawMs } = await this.drawer.draw(frame, scene);
      const source = this.source;
      if (source && !this.closed) {
        source.onFrame({ width: drawn.width, height: drawn.height, data: new Uint8ClampedArray(drawn.data.buffer, drawn.data.byteOffset, drawn.data.length) });
        this.events.sent?.(drawn, drawMs, Date.now() - drawn.timestamp);
      }
    } catch (err) {
      this.log?.warn({ err, camera: this.camera, seq: frame.seq }, 'overlay drawing failed; frame not sent');
      this.events.skipped?.(frame, 'failed');
    } finally {
      this.drawing = false;
    }
    const next = this.waiting;
    this.waiting = undefined;
    if (next && !this.closed && this.viewers.size > 0) void this.drawAndSend(next.frame, next.scene);
  }
}
