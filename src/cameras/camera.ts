import { Subject, type Observable, type Subscription } from 'rxjs';
import { redactUrl, type Frame, type Logger, type SegstreamError } from '../core/index.js';
import { CameraSource, type SourceState, type SourceStatus } from '../ingest/index.js';
import type { Metrics } from '../core/index.js';
import type { CameraState as WireCameraState, CameraView, StatusMessage } from '../protocol/index.js';
import { decodeFrame, type InferredFrame, type ModelInfo } from '../pipeline/index.js';
import type { CameraConfig } from '../config/index.js';
import type { TextSelector } from '../prompts/index.js';
import type { TrackerOptionsInput } from '../tracking/index.js';
import { CameraTargets, type EndedTarget, type TargetedFrame } from '../cameraTargets.js';
import { CameraJpeg, DisplayRing, NO_JPEG_DEMAND, sceneOf, type JpegDemand, type OverlayDrawer, type OverlayScene } from '../overlay/index.js';
import type { JpegHeader } from '../protocol/index.js';
import { CameraVideo, type Wrtc } from '../webrtc/index.js';
import { FrameGate, type GateStep } from './frameGate.js';
import { CameraEvents, type CameraEventsDeps } from './cameraEvents.js';

/** What cameras need for their WHEP video (absent: no video). */
export interface CameraVideoDeps {
  readonly drawer: OverlayDrawer;
  readonly wrtc: () => Wrtc;
  /** Display frames held per camera until their result comes. */
  readonly ringFrames: number;
  /** A video frame went out: drawing time and capture -> send, ms. */
  readonly onSent?: (camera: string, seq: number, drawMs: number, latencyMs: number) => void;
  /** JPEG frames for WebSocket clients: what they ask for now, and where encoded frames go. */
  readonly jpeg?: {
    demand(camera: string): JpegDemand;
    encoded(header: JpegHeader, jpeg: Buffer): void;
  };
}

/** A camera's state: its source's, or `disabled` (configured, not opened), or `removed`. */
export type CameraState = SourceState | 'disabled' | 'removed';

/** What every camera shares: the model, the tracker settings, where frames go. */
export interface CameraDeps {
  readonly model: ModelInfo;
  /** null: tracking off. */
  readonly trackerOptions: TrackerOptionsInput | null;
  readonly textSelector?: TextSelector;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Every frame of the camera's source that goes to inference (the manager's merged stream). */
  readonly sink: (frame: Frame) => void;
  /** Frames motion gating kept from inference, with the last result's objects: to publish as they are. */
  readonly gated?: (out: TargetedFrame) => void;
  readonly video?: CameraVideoDeps;
  /** Road events (zones, rules, health); absent: none. */
  readonly events?: CameraEventsDeps;
}

/** A camera's status change, as WebSocket clients get it. */
export interface CameraStatus {
  readonly camera: string;
  readonly state: CameraState;
  readonly restarts: number;
  readonly error?: SegstreamError;
  readonly stream?: SourceStatus['stream'];
}

/**
 * One camera: its source (one ffmpeg at a time), its tracker and targets, its counters. It is
 * everything that belongs to the camera and nothing else, so removing it (`close()`, safe to
 * call twice) ends exactly its ffmpeg, its subscriptions and its metric series.
 */
export class Camera {
  readonly id: string;
  readonly source: CameraSource | null;
  readonly targets: CameraTargets;
  /** The WHEP video (with the display output on), else null. */
  readonly video: CameraVideo | null;
  /** Display frames waiting for their result. */
  private readonly ring: DisplayRing | null;
  /** JPEG frames of the display picture (with the display output and JPEG deps), else null. */
  private readonly jpeg: CameraJpeg | null;
  private readonly statusSubject = new Subject<CameraStatus>();
  private readonly subs: Subscription[] = [];
  /** Motion gating: which frames go to inference and which carry the last result forward. */
  private readonly gate: FrameGate<TargetedFrame>;
  private slotTaken = false;
  private releaseQueued = false;
  private processed = 0;
  private dropped = 0;
  /** Wall-clock capture time of the newest published frame, ms epoch. */
  private newestAt: number | undefined;
  private closing: Promise<EndedTarget[]> | undefined;
  private started = false;
  /** Its zones' rules and health checks (with events deps), else null. */
  readonly events: CameraEvents | null;
  private healthTimer: NodeJS.Timeout | undefined;

  constructor(
    private current: CameraConfig,
    private readonly deps: CameraDeps,
  ) {
    const config = current;
    this.id = config.id;
    const log = deps.log.child({ camera: config.id });
    const { model } = deps;
    this.source = config.enabled
      ? // The check before each ffmpeg start follows the camera's newest configuration (a reload may narrow the media roots).
        new CameraSource(config.spec, { ...config.source, modelWidth: model.inputWidth, modelHeight: model.inputHeight, recheck: () => this.current.recheck() }, log)
      : null;
    this.targets = new CameraTargets([config.id], deps.trackerOptions, model.classNames, deps.textSelector);
    this.gate = new FrameGate(config.motionGate);
    this.events = deps.events && this.source ? new CameraEvents(config.id, config.zones, { ...deps.events, log }) : null;
    const v = deps.video;
    if (this.source && v && (config.source.displayMaxWidth ?? 0) > 0) {
      this.ring = new DisplayRing(v.ringFrames);
      this.video = new CameraVideo(
        config.id,
        v.wrtc,
        v.drawer,
        {
          sent: (f, drawMs, latencyMs) => {
            deps.metrics.videoLatency.observe({ camera: this.id }, latencyMs / 1000);
            v.onSent?.(this.id, f.seq, drawMs, latencyMs);
          },
          skipped: () => deps.metrics.videoSkipped.inc({ camera: this.id }),
        },
        log,
      );
      const j = v.jpeg;
      this.jpeg = j
        ? new CameraJpeg(
            config.id,
            v.drawer,
            {
              encoded: (header, jpeg) => {
                deps.metrics.jpegEncoded.inc({ camera: this.id, overlay: String(header.overlay) });
                j.encoded(header, jpeg);
              },
              replaced: (overlay) => deps.metrics.jpegReplaced.inc({ camera: this.id, overlay: String(overlay) }),
            },
            log,
          )
        : null;
    } else {
      this.ring = null;
      this.video = null;
      this.jpeg = null;
    }
  }

  get config(): CameraConfig {
    return this.current;
  }

  /** True when `next` differs from this camera only in what changes in place (its score threshold). */
  sameSource(next: CameraConfig): boolean {
    const key = (c: CameraConfig): string => JSON.stringify([c.spec, c.enabled, c.source]);
    return key(next) === key(this.current);
  }

  /** Takes a configuration that differs only in what changes in place (see sameSource). */
  reconfigure(next: CameraConfig): void {
    if (!this.sameSource(next)) throw new Error(`camera ${this.id}: reconfigure() needs the same source; replace the camera instead`);
    this.current = next;
    this.gate.configure(next.motionGate);
    this.events?.setZones(next.zones);
  }

  /** Status changes (the source's, then `removed`); completes when the camera is closed. */
  get status$(): Observable<CameraStatus> {
    return this.statusSubject.asObservable();
  }

  get status(): CameraStatus {
    if (this.closing) return { camera: this.id, state: 'removed', restarts: this.source?.status.restarts ?? 0 };
    if (!this.source) return { camera: this.id, state: 'disabled', restarts: 0 };
    return this.source.status;
  }

  /** Opens the source; a disabled camera only announces itself as `disabled`. */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    if (!this.source) return void this.statusSubject.next(this.status);
    const { metrics, sink } = this.deps;
    const source = this.source;
    this.subs.push(
      source.status$.subscribe((st) => {
        if (st.state === 'reconnecting') metrics.sourceRestarts.inc({ camera: this.id });
        // `stopped` is the end of a camera being closed: clients are told `removed` instead.
        if (st.state !== 'stopped') this.statusSubject.next(st);
        // A file played to its end: no frame will end its open events, so they end now.
        if (st.state === 'ended') this.events?.endOpen();
      }),
      source.frames$.subscribe((f) => {
        metrics.framesIn.inc({ camera: this.id });
        this.events?.noteArrival();
        if (this.gate.isEnabled || this.gate.holding) this.route(this.gate.offer(f));
        else sink(f);
      }),
    );
    const ring = this.ring;
    if (ring) {
      this.subs.push(
        source.display$.subscribe((d) => {
          const n = ring.push(d);
          if (n > 0) metrics.displayDropped.inc({ camera: this.id }, n);
        }),
      );
    }
    source.start();
    if (this.events) {
      const events = this.events;
      // video_lost: a camera that delivers nothing (a file that played to its end is not lost).
      this.healthTimer = setInterval(() => {
        if (source.status.state !== 'ended') events.tick();
      }, 1000);
      this.healthTimer.unref();
    }
  }

  /**
   * Files read as fast as possible wait for inference instead of dropping frames: while the
   * camera's scheduler slot is taken, and while motion gating holds a frame for a result.
   */
  backpressure(occupied: boolean): void {
    this.slotTaken = occupied;
    this.applyFlow();
  }

  private applyFlow(): void {
    if (!this.source || this.config.source.realtime || this.config.spec.kind !== 'file') return;
    if (this.slotTaken || this.gate.holding) this.source.pause();
    else this.source.resume();
  }

  /** Motion gating's decisions carried out: to the scheduler, published as gated, or dropped. */
  private route(steps: readonly GateStep<TargetedFrame>[]): void {
    for (const step of steps) {
      if (step.kind === 'infer') this.deps.sink(step.frame);
      else if (step.kind === 'drop') this.noteDropped(step.frame.seq);
      else if (!this.closing) {
        const { frame, from } = step;
        this.deps.metrics.framesGated.inc({ camera: this.id });
        this.deps.gated?.({
          seg: { ...from.seg, frame, gated: true, timings: GATED_TIMINGS },
          targets: this.targets.targetsOf(this.id, from.seg.detections),
          reattached: [],
          ended: [],
        });
      }
    }
    this.applyFlow();
  }

  /**
   * A frame held for its reference's result goes once that result is published (the publish
   * follows process() synchronously, so a microtask runs after it) or the reference is lost.
   */
  private releaseLater(): void {
    if (this.releaseQueued || !this.gate.holding) return;
    this.releaseQueued = true;
    queueMicrotask(() => {
      this.releaseQueued = false;
      if (!this.closing) this.route(this.gate.release());
    });
  }

  /** Inference failed for a frame of this camera (it gets no result). */
  noteFailed(seq: number): void {
    this.gate.lost(seq);
    this.releaseLater();
  }

  /** A waiting frame of this camera was replaced by a newer one (latest wins); its display frame goes too. */
  noteDropped(seq?: number): void {
    if (seq !== undefined) {
      this.gate.lost(seq);
      this.releaseLater();
    }
    this.dropped++;
    this.deps.metrics.framesDropped.inc({ camera: this.id });
    if (seq !== undefined && this.ring) {
      const before = this.ring.dropped;
      this.ring.discard(seq);
      if (this.ring.dropped > before) this.deps.metrics.displayDropped.inc({ camera: this.id });
    }
  }

  /** Masks, this camera's score threshold, tracking and targets for one inferred frame (main thread). */
  process(item: InferredFrame): TargetedFrame {
    try {
      const out = this.targets.process(decodeFrame(item, this.deps.model, this.current.confidence));
      this.gate.resolved(item.frame, out);
      return out;
    } catch (err) {
      this.gate.lost(item.frame.seq);
      throw err;
    } finally {
      this.releaseLater();
    }
  }

  /** Counts one published frame. */
  notePublished(captureMs: number, latencyMs: number): void {
    this.processed++;
    this.newestAt = captureMs;
    const { metrics } = this.deps;
    metrics.framesProcessed.inc({ camera: this.id });
    metrics.newestPublished.set(this.id, captureMs);
    metrics.latency.observe({ camera: this.id }, latencyMs / 1000);
  }

  /**
   * A published frame's WHEP video and JPEG frames: its display frame out of the ring (the
   * older ones there will get no result: dropped, counted) with the overlay of its own result,
   * drawn and sent when someone watches, and encoded as JPEG in the variants clients ask for
   * at the rate they ask for. Each consumer but the last gets its own copy of the picture
   * (each hands its buffer to the overlay thread).
   */
  sendVideo({ seg, targets }: TargetedFrame): void {
    const ring = this.ring;
    if (!ring || !this.video) return;
    const before = ring.dropped;
    const display = ring.take(seg.frame.seq);
    if (ring.dropped > before) this.deps.metrics.displayDropped.inc({ camera: this.id }, ring.dropped - before);
    if (!display) return;
    const video = this.video.viewerCount > 0;
    const jpegs = this.jpeg ? this.jpeg.wanted(display, this.deps.video?.jpeg?.demand(this.id) ?? NO_JPEG_DEMAND) : [];
    if (!video && jpegs.length === 0) return;
    // Privacy holds on the clean picture too: its hidden objects pixelated, nothing drawn.
    const hidden = this.events?.hiddenClasses ?? null;
    const cleanPrivacy = hidden !== null && jpegs.includes('clean');
    const scene = video || jpegs.includes('overlay') || cleanPrivacy ? sceneOf(seg.detections, seg.classNames, targets, display.srcWidth, display.srcHeight, this.events ? { zones: this.events.outlines(), hidden } : {}) : null;
    const cleanScene = cleanPrivacy && scene ? privacyOnly(scene) : null;
    let uses = Number(video) + jpegs.length;
    const picture = (): typeof display => (--uses === 0 ? display : { ...display, data: new Uint8Array(display.data) });
    for (const k of jpegs) this.jpeg!.offer(k, picture(), k === 'overlay' ? scene : cleanScene);
    if (video) this.video.offer(picture(), scene!);
  }

  /** Display frames dropped: their result never came (or came after the ring let them go). */
  get displayFramesDropped(): number {
    return this.ring?.dropped ?? 0;
  }

  /** Display frames held now, waiting for their result. */
  get displayFramesHeld(): number {
    return this.ring?.size ?? 0;
  }

  get framesDropped(): number {
    return this.dropped;
  }

  get framesProcessed(): number {
    return this.processed;
  }

  /** Of framesProcessed, those motion gating published without inference. */
  get framesGated(): number {
    return this.gate.gated;
  }

  /** Seconds since the capture of the newest published frame; null before the first. */
  frameAgeS(now = Date.now()): number | null {
    return this.newestAt === undefined ? null : Math.max(0, now - this.newestAt) / 1000;
  }

  /**
   * What `/api/cameras`, `hello` and `/healthz` show: never the URL's credentials.
   */
  view(): CameraView {
    const st = this.status;
    return {
      id: this.id,
      kind: this.config.spec.kind,
      url: this.displayUrl,
      enabled: this.config.enabled,
      state: wireState(st.state),
      ...(st.stream ? { width: st.stream.width, height: st.stream.height, fps: st.stream.fps } : {}),
      ...(st.error ? { error: st.error.toJSON() } : {}),
      restarts: st.restarts,
      framesRead: this.source?.framesRead ?? 0,
      framesProcessed: this.processed,
      framesDropped: this.dropped,
      framesGated: this.gate.gated,
      frameAgeS: this.frameAgeS(),
      origin: this.config.origin,
    };
  }

  get displayUrl(): string {
    return this.source?.displayUrl ?? redactUrl(this.config.url);
  }

  /**
   * Ends the camera: its ffmpeg is killed and waited for, its targets end (`reason`), its
   * subscriptions end, its metric series go, and clients are told `removed` (not when it
   * restarts under a new configuration: its new self announces `connecting`). Safe to call
   * twice (the second waits for the first). Resolves with the targets that ended.
   */
  close(reason: 'removed' | 'restarted' = 'removed'): Promise<EndedTarget[]> {
    return (this.closing ??= (async () => {
      clearInterval(this.healthTimer);
      await this.source?.stop();
      // Its open events end with it (at their last time).
      this.events?.close();
      // Its viewers' sessions end with it (peers closed).
      this.video?.close();
      this.jpeg?.close();
      this.ring?.clear();
      const ended = this.targets.endAll(reason).flatMap((e) => e.ended);
      for (const s of this.subs) s.unsubscribe();
      const { metrics } = this.deps;
      for (const m of [metrics.framesIn, metrics.framesDropped, metrics.framesProcessed, metrics.framesGated, metrics.inferenceErrors, metrics.framesFailed, metrics.sourceRestarts, metrics.displayDropped, metrics.videoSkipped]) {
        m.remove({ camera: this.id });
      }
      for (const overlay of ['true', 'false']) {
        metrics.jpegEncoded.remove({ camera: this.id, overlay });
        metrics.jpegReplaced.remove({ camera: this.id, overlay });
      }
      metrics.latency.remove({ camera: this.id });
      metrics.videoLatency.remove({ camera: this.id });
      metrics.newestPublished.delete(this.id);
      if (reason === 'removed') this.statusSubject.next({ camera: this.id, state: 'removed', restarts: this.source?.status.restarts ?? 0 });
      this.statusSubject.complete();
      return ended;
    })());
  }
}

/** The scene's hidden objects alone, to pixelate on a clean picture (null when there are none). */
function privacyOnly(scene: OverlayScene): OverlayScene | null {
  const objects = scene.objects.filter((o) => o.hidden);
  return objects.length === 0 ? null : { srcWidth: scene.srcWidth, srcHeight: scene.srcHeight, objects, privacyOnly: true };
}

/** A gated frame's stage times: it ran through none of them. */
const GATED_TIMINGS = { queueMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, masksMs: 0, batchSize: 0 } as const;

/** A camera state as clients see it: a stopped source is a camera being removed. */
export function wireState(state: CameraState): WireCameraState {
  return state === 'stopped' ? 'removed' : state;
}

/** The `status` message of a camera status change. */
export function statusMessage(st: CameraStatus): StatusMessage {
  return {
    type: 'status',
    camera: st.camera,
    state: wireState(st.state),
    restarts: st.restarts,
    ...(st.stream ? { width: st.stream.width, height: st.stream.height, fps: st.stream.fps } : {}),
    ...(st.error ? { error: st.error.toJSON() } : {}),
  };
}
