import ffmpeg from 'fluent-ffmpeg';
import type { Readable } from 'node:stream';
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import { computeLetterbox, frameByteLength, SegstreamError, toSegstreamError, type Frame, type Letterbox, type Logger } from '../core/index.js';
import { inputOptions, outputOptions } from './ffmpegArgs.js';
import { FrameAssembler } from './frameAssembler.js';
import { probeSource, type StreamInfo } from './probe.js';
import { isLive, type SourceSpec } from './sourceSpec.js';

export const SOURCE_STATES = ['connecting', 'streaming', 'reconnecting', 'ended', 'failed', 'stopped'] as const;
export type SourceState = (typeof SOURCE_STATES)[number];

export interface SourceStatus {
  readonly camera: string;
  readonly state: SourceState;
  readonly error?: SegstreamError;
  readonly stream?: StreamInfo;
  /** Times ffmpeg was (re)started after a failure. */
  readonly restarts: number;
}

export interface CameraSourceOptions {
  /** Model input size frames are letterboxed to, px. */
  modelWidth: number;
  modelHeight: number;
  /** Files: play at their own frame rate (true, as a camera) or as fast as possible. */
  realtime: boolean;
  /** Files: start over at the end. */
  loop: boolean;
  /** Socket/read timeout for network sources and ffprobe, s. */
  networkTimeoutS: number;
  /** A streaming source that delivers no bytes for this long is restarted, s. */
  stallTimeoutS: number;
  /** First and largest wait before reconnecting a live source, ms (doubles each failure). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export const DEFAULT_SOURCE_OPTIONS: Omit<CameraSourceOptions, 'modelWidth' | 'modelHeight'> = {
  realtime: true,
  loop: false,
  networkTimeoutS: 10,
  stallTimeoutS: 15,
  reconnectMinMs: 1000,
  reconnectMaxMs: 30_000,
};

/**
 * One camera: ffprobe, then ffmpeg decoding + letterboxing into raw RGB frames on a pipe.
 * Live sources are restarted with exponential backoff when they fail or stall; a file
 * that cannot be read ends in `failed`. Errors never escape: they become status updates.
 */
export class CameraSource {
  readonly camera: string;
  private readonly framesSubject = new Subject<Frame>();
  private readonly statusSubject: BehaviorSubject<SourceStatus>;
  private command: ffmpeg.FfmpegCommand | undefined;
  private output: Readable | undefined;
  private stopped = false;
  private paused = false;
  private seq = 0;
  private restarts = 0;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Cancels the ffprobe of the current attempt on stop(). */
  private readonly abort = new AbortController();

  constructor(
    readonly spec: SourceSpec,
    private readonly options: CameraSourceOptions,
    private readonly log?: Logger,
  ) {
    this.camera = spec.id;
    this.statusSubject = new BehaviorSubject<SourceStatus>({ camera: spec.id, state: 'connecting', restarts: 0 });
  }

  get frames$(): Observable<Frame> {
    return this.framesSubject.asObservable();
  }

  get status$(): Observable<SourceStatus> {
    return this.statusSubject.asObservable();
  }

  get status(): SourceStatus {
    return this.statusSubject.value;
  }

  /** Frames delivered by ffmpeg so far (the next frame's seq). */
  get framesRead(): number {
    return this.seq;
  }

  start(): void {
    if (this.loopDone) return;
    this.loopDone = this.loop()
      .catch((err: unknown) => this.setStatus('failed', toSegstreamError(err, 'E_SOURCE_FAILED')))
      // No more frames will come: a file ended or failed, or the source was stopped.
      .finally(() => this.framesSubject.complete());
  }

  /** Stop reading from ffmpeg (backpressure for files read as fast as possible). */
  pause(): void {
    this.paused = true;
    this.output?.pause();
  }

  resume(): void {
    this.paused = false;
    this.output?.resume();
  }

  /** Kills ffmpeg and completes the streams. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) {
      await this.loopDone;
      return;
    }
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    this.command?.kill('SIGKILL');
    await this.loopDone;
    this.setStatus('stopped');
    this.statusSubject.complete();
  }

  private setStatus(state: SourceState, error?: SegstreamError, stream?: StreamInfo): void {
    if (this.statusSubject.closed) return;
    const prev = this.statusSubject.value;
    const next: SourceStatus = { camera: this.camera, state, restarts: this.restarts, ...(error ? { error } : {}), ...((stream ?? prev.stream) ? { stream: stream ?? prev.stream } : {}) };
    this.statusSubject.next(next);
    if (error) this.log?.warn({ camera: this.camera, state, code: error.code, err: error.message }, 'camera source problem');
    else this.log?.info({ camera: this.camera, state }, 'camera source state');
  }

  private async loop(): Promise<void> {
    const live = isLive(this.spec.kind);
    let delay = this.options.reconnectMinMs;
    while (!this.stopped) {
      const before = this.seq;
      let error: SegstreamError | undefined;
      try {
        const info = await probeSource(this.spec, this.options.networkTimeoutS, this.abort.signal);
        if (this.stopped) break;
        const lb = computeLetterbox(info.width, info.height, this.options.modelWidth, this.options.modelHeight);
        this.setStatus('streaming', undefined, info);
        await this.decode(info, lb);
        if (this.stopped) break;
        if (!live) {
          this.setStatus('ended');
          return;
        }
        error = new SegstreamError('E_SOURCE_FAILED', `camera ${this.camera}: stream ended`);
      } catch (err) {
        if (this.stopped) break;
        error = toSegstreamError(err, 'E_SOURCE_FAILED');
      }
      if (!live) {
        this.setStatus('failed', error);
        return;
      }
      if (this.seq > before) delay = this.options.reconnectMinMs;
      this.restarts++;
      this.setStatus('reconnecting', error);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      delay = Math.min(delay * 2, this.options.reconnectMaxMs);
    }
  }

  /** Runs ffmpeg until the stream ends (resolve) or fails (reject). */
  private decode(info: StreamInfo, lb: Letterbox): Promise<void> {
    const frameBytes = frameByteLength(lb.dstWidth, lb.dstHeight, 'rgb24');
    const assembler = new FrameAssembler(frameBytes);
    const fps = info.fps > 0 ? info.fps : 25;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let stallTimer: NodeJS.Timeout | undefined;
      const finish = (err?: SegstreamError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(stallTimer);
        this.command = undefined;
        this.output = undefined;
        if (err) reject(err);
        else resolve();
      };
      const armStall = (): void => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => {
          if (this.paused) return armStall();
          finish(new SegstreamError('E_SOURCE_STALLED', `camera ${this.camera}: no data for ${this.options.stallTimeoutS} s`));
          command.kill('SIGKILL');
        }, this.options.stallTimeoutS * 1000);
      };
      const command = ffmpeg(this.spec.url)
        .inputOptions(inputOptions(this.spec, this.options))
        .outputOptions(outputOptions(lb))
        .on('start', (line: string) => {
          // fluent-ffmpeg spawns asynchronously: a stop() before this point could not kill it.
          if (this.stopped) command.kill('SIGKILL');
          else this.log?.debug({ camera: this.camera, ffmpeg: line }, 'ffmpeg started');
        })
        .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
          if (this.stopped) return finish();
          const detail = (stderr || err.message).trim().split('\n').slice(-2).join(' ');
          finish(new SegstreamError('E_SOURCE_FAILED', `camera ${this.camera}: ffmpeg failed: ${detail}`, { cause: err }));
        })
        .on('end', () => finish());
      this.command = command;
      const out = command.pipe() as Readable;
      this.output = out;
      if (this.paused) out.pause();
      armStall();
      out.on('data', (chunk: Buffer) => {
        armStall();
        for (const data of assembler.push(chunk)) {
          const seq = this.seq++;
          this.framesSubject.next({
            camera: this.camera,
            seq,
            timestamp: Date.now(),
            pts: (seq * 1000) / fps,
            width: lb.dstWidth,
            height: lb.dstHeight,
            format: 'rgb24',
            data,
            letterbox: lb,
          });
        }
      });
      out.on('error', () => undefined);
    });
  }
}
