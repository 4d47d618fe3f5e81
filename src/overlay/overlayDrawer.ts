import { SegstreamError, siblingModule, startModuleWorker, WorkerChannel, type DisplayFrame, type Logger } from '../core/index.js';
import type { DrawResult } from './overlayWorker.js';
import type { OverlayScene } from './scene.js';

/**
 * Draws overlays on one worker thread shared by every camera, off the main thread. A worker
 * that dies is started again on the next frame (at most once per `restartDelayMs`; frames in
 * between are refused with E_INTERNAL).
 */
export class OverlayDrawer {
  private channel: WorkerChannel<DrawResult> | undefined;
  private starting: Promise<WorkerChannel<DrawResult>> | undefined;
  private lastStart = 0;
  private closed = false;

  constructor(
    private readonly log?: Logger,
    private readonly restartDelayMs = 5000,
  ) {}

  /** Draws `scene` into `frame`'s picture (its buffer is handed to the worker: do not use it after). */
  async draw(frame: DisplayFrame, scene: OverlayScene): Promise<{ frame: DisplayFrame; drawMs: number }> {
    const channel = await this.ready();
    const { data, drawMs } = await channel.request((id) => ({ type: 'draw', id, width: frame.width, height: frame.height, data: frame.data, scene }), [frame.data.buffer as ArrayBuffer]);
    return { frame: { ...frame, data }, drawMs };
  }

  /**
   * `frame`'s picture with `scene` drawn in (null: clean) as packed RGB, 3 bytes a pixel, for
   * a JPEG encoder; drawing and conversion run on the worker (the buffer is handed to it: do
   * not use it after).
   */
  async toRgb(frame: DisplayFrame, scene: OverlayScene | null): Promise<{ rgb: Uint8Array; width: number; height: number; drawMs: number }> {
    const channel = await this.ready();
    const { data, drawMs } = await channel.request((id) => ({ type: 'rgb', id, width: frame.width, height: frame.height, data: frame.data, scene }), [frame.data.buffer as ArrayBuffer]);
    return { rgb: data, width: frame.width, height: frame.height, drawMs };
  }

  /** Frames being drawn now. */
  get inFlight(): number {
    return this.channel?.inFlight ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ch = await this.starting?.catch(() => undefined);
    await ch?.close();
  }

  private ready(): Promise<WorkerChannel<DrawResult>> {
    if (this.closed) return Promise.reject(new SegstreamError('E_INTERNAL', 'the overlay drawer is closed'));
    if (this.channel?.alive) return Promise.resolve(this.channel);
    if (this.starting && !this.channel) return this.starting;
    const now = Date.now();
    if (this.channel && now - this.lastStart < this.restartDelayMs) return Promise.reject(new SegstreamError('E_INTERNAL', 'the overlay worker exited; restarting shortly'));
    if (this.channel) this.log?.error('overlay worker exited; starting it again');
    this.lastStart = now;
    this.channel = undefined;
    this.starting = startModuleWorker(siblingModule(import.meta.url, 'overlayWorker'), {}, 'E_INTERNAL', 'overlay worker').then((w) => {
      const ch = new WorkerChannel<DrawResult>(w, 'E_INTERNAL', 'overlay worker');
      this.channel = ch;
      if (this.closed) void ch.close();
      return ch;
    });
    this.starting.catch((err: unknown) => {
      this.log?.error({ err }, 'overlay worker failed to start');
      this.starting = undefined;
    });
    return this.starting;
  }
}
