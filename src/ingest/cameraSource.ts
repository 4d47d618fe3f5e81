import type { Readable } from 'node:stream';
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import { computeLetterbox, frameByteLength, redactText, SegstreamError, summariseString, toSegstreamError, urlSecrets, type DisplayFrame, type Frame, type Letterbox, type Logger } from '../core/index.js';
import { DEFAULT_INFERENCE_MAX_WIDTH, displayOutputOptions, displaySize, i420ByteLength, inferenceSize, inputOptions, outputOptions } from './ffmpegArgs.js';
import { FfmpegProcess } from './ffmpegProcess.js';
import { FfmpegReport, isFrameLine, type FrameInfo, type StreamInfo } from './ffmpegReport.js';
import { FrameAssembler } from './frameAssembler.js';
import { FrameSync, type SyncedFrame } from './frameSync.js';
import { Pacer } from './pacer.js';
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
  /** Model input size frames are letterboxed to (by the inference worker), px. */
  modelWidth: number;
  modelHeight: number;
  /**
   * Frames carry the decoded picture at its own size, or scaled down (aspect kept) to at most
   * this wide; the letterbox maps model px back to the source's own px either way, px.
   */
  inferenceMaxWidth?: number;
  /** Finite sources (files, http(s) files): play at their own frame rate (true, as a camera) or as fast as possible. */
  realtime: boolean;
  /** Finite sources: start over at the end. */
  loop: boolean;
  /** Socket/read timeout for network sources, s. */
  networkTimeoutS: number;
  /** A source that delivers no bytes for this long (connecting included) is restarted, s. */
  stallTimeoutS: number;
  /** Wait before reconnecting; kept while the source has been down for less than fastRetryWindowMs, ms. */
  reconnectMinMs: number;
  /** Longest wait between reconnects once the wait doubles, ms. */
  reconnectMaxMs: number;
  /** A source down for less than this is retried every reconnectMinMs; after it, waits double, ms. */
  fastRetryWindowMs: number;
  /** A file that fails this many times in a row without delivering a frame ends in `failed`. */
  fileRetryLimit: number;
  /** https, rtmps: verify the server's certificate (system CA store, or caFile). */
  tlsVerify: boolean;
  /** CA certificates (PEM) to verify TLS servers against instead of the system store. */
  caFile?: string;
  /**
   * Checks the source again before each ffmpeg start and gives what ffmpeg opens (a local
   * file's path resolved anew, so a link changed while the camera runs cannot lead outside
   * its media root). Throwing E_SOURCE_REFUSED ends the camera in `failed`.
   */
  recheck?: () => SourceSpec;
  /**
   * > 0: the same ffmpeg also writes every decoded picture at display size (at most this
   * wide, aspect kept, even sides) as I420 on its fd 3, delivered on `display$` just before
   * the model frame of the same picture (same `seq`); 0 or absent: no display output, px.
   */
  displayMaxWidth?: number;
}

export const DEFAULT_SOURCE_OPTIONS: Omit<CameraSourceOptions, 'modelWidth' | 'modelHeight'> = {
  realtime: true,
  loop: false,
  networkTimeoutS: 10,
  stallTimeoutS: 15,
  reconnectMinMs: 1000,
  reconnectMaxMs: 30_000,
  fastRetryWindowMs: 30_000,
  fileRetryLimit: 5,
  tlsVerify: true,
};

/** How one ffmpeg process ended. */
interface RunOutcome {
  /** Undefined: ffmpeg reached the end of the input and exited 0. */
  error?: SegstreamError;
  frames: number;
}

/**
 * One camera: one ffmpeg process per connection decodes, letterboxes and reports (stream
 * size and rate, each frame's size and time), so a camera that serves one client at a time
 * is opened once. Whatever ends ffmpeg (an error, a stall, a kill) restarts it with backoff:
 * live sources reconnect, finite ones resume where they were. A local file that cannot be
 * read at all ends in `failed`. Errors never escape: they become status updates, with
 * credentials redacted.
 */
export class CameraSource {
  readonly camera: string;
  private readonly framesSubject = new Subject<Frame>();
  private readonly displaySubject = new Subject<DisplayFrame>();
  private readonly statusSubject: BehaviorSubject<SourceStatus>;
  private readonly secrets: string[];
  private command: FfmpegProcess | undefined;
  private output: Readable | undefined;
  private stopped = false;
  /** Backpressure from the pipeline (files read as fast as possible). */
  private paused = false;
  /** The pacer holds a frame until its media time. */
  private holding = false;
  private seq = 0;
  private restarts = 0;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** From the newest stream report: null = no duration (a live stream). */
  private durationS: number | null = null;
  /** Where a restart of a finite source resumes: just after the newest frame, s. */
  private positionS = 0;
  /** Media time of the newest frame, ms; continues across restarts. */
  private lastMediaMs: number | undefined;
  /** performance.now() at construction: live sources' media time counts from here. */
  private readonly clockOriginMs = performance.now();
  private letterbox: Letterbox | undefined;

  constructor(
    readonly spec: SourceSpec,
    private readonly options: CameraSourceOptions,
    private readonly log?: Logger,
  ) {
    this.camera = spec.id;
    this.secrets = urlSecrets(spec.url);
    this.statusSubject = new BehaviorSubject<SourceStatus>({ camera: spec.id, state: 'connecting', restarts: 0 });
  }

  private get inferenceMaxWidth(): number {
    return this.options.inferenceMaxWidth ?? DEFAULT_INFERENCE_MAX_WIDTH;
  }

  get frames$(): Observable<Frame> {
    return this.framesSubject.asObservable();
  }

  /**
   * With `displayMaxWidth`: each decoded picture at display size, emitted just before the
   * model frame of the same picture (same seq); completes with frames$.
   */
  get display$(): Observable<DisplayFrame> {
    return this.displaySubject.asObservable();
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

  /** The running ffmpeg's process id, if one runs (for monitoring and fault tests). */
  get ffmpegPid(): number | undefined {
    return this.command?.pid;
  }

  /** The source's URL as it may be shown: credentials replaced by `***`. */
  get displayUrl(): string {
    return this.redact(this.spec.url);
  }

  start(): void {
    if (this.loopDone) return;
    this.loopDone = this.loop()
      .catch((err: unknown) => this.setStatus('failed', this.redactError(toSegstreamError(err, 'E_SOURCE_FAILED'))))
      // No more frames will come: a file ended or failed, or the source was stopped.
      .finally(() => {
        this.displaySubject.complete();
        this.framesSubject.complete();
      });
  }

  /** Stop reading from ffmpeg (backpressure for files read as fast as possible). */
  pause(): void {
    this.paused = true;
    this.applyFlow();
  }

  resume(): void {
    this.paused = false;
    this.applyFlow();
  }

  /** Kills ffmpeg and completes the streams. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) {
      await this.loopDone;
      return;
    }
    this.stopped = true;
    this.wake?.();
    this.command?.kill('SIGKILL');
    await this.loopDone;
    this.setStatus('stopped');
    this.statusSubject.complete();
  }

  /**
   * Files, and http(s) sources whose report gives a duration (progressive files, HLS VOD),
   * are finite: paced, resumed at their position, ended (or looped) at their end. RTSP and
   * RTMP are cameras even when a server plays a file with a known length.
   */
  private get finite(): boolean {
    return !isLive(this.spec.kind) || (this.spec.kind === 'http' && this.durationS !== null);
  }

  private redact(text: string): string {
    return redactText(text, this.secrets);
  }

  private redactError(err: SegstreamError): SegstreamError {
    const message = this.redact(err.message);
    return message === err.message ? err : new SegstreamError(err.code, message, { expected: err.expected, actual: err.actual });
  }

  private applyFlow(): void {
    if (this.paused || this.holding) this.output?.pause();
    else this.output?.resume();
  }

  private setStatus(state: SourceState, error?: SegstreamError, stream?: StreamInfo): void {
    if (this.statusSubject.closed) return;
    const prev = this.statusSubject.value;
    const next: SourceStatus = { camera: this.camera, state, restarts: this.restarts, ...(error ? { error } : {}), ...((stream ?? prev.stream) ? { stream: stream ?? prev.stream } : {}) };
    this.statusSubject.next(next);
    // The logger is the camera's child: it carries `camera` already.
    if (error) this.log?.warn({ state, code: error.code, err: error.message }, 'camera source problem');
    else this.log?.info({ state, ...(stream ? { width: stream.width, height: stream.height, fps: stream.fps } : {}) }, 'camera source state');
  }

  private async loop(): Promise<void> {
    const { reconnectMinMs, reconnectMaxMs, fastRetryWindowMs, fileRetryLimit } = this.options;
    let delay = reconnectMinMs;
    let downSince: number | undefined;
    let fruitless = 0;
    let seekS = 0;
    while (!this.stopped) {
      let target = this.spec;
      try {
        target = this.options.recheck?.() ?? this.spec;
      } catch (err) {
        this.setStatus('failed', this.redactError(toSegstreamError(err, 'E_SOURCE_REFUSED')));
        return;
      }
      const outcome = await this.run(target, seekS);
      if (this.stopped) break;
      let error = outcome.error;
      if (!error && outcome.frames === 0 && this.finite && this.options.loop) {
        if (seekS > 0) {
          // Resumed at the very end of a looped file: start over from its beginning.
          seekS = this.positionS = 0;
          continue;
        }
        // Looping a file that yields nothing would spin: count it as a failed attempt.
        error = new SegstreamError('E_SOURCE_FAILED', `camera ${this.camera}: ended without a frame`);
      }
      if (!error) {
        if (this.finite && this.options.loop) {
          // The end of a looped file: an http(s) file, or a local one whose ffmpeg could not
          // seek back to its start (-stream_loop fails on some files). Start over, no fault.
          seekS = this.positionS = 0;
          continue;
        }
        if (this.finite) {
          this.setStatus('ended');
          return;
        }
        error = new SegstreamError('E_SOURCE_FAILED', `camera ${this.camera}: stream ended`);
      }
      if (outcome.frames > 0) {
        downSince = undefined;
        fruitless = 0;
        delay = reconnectMinMs;
      } else fruitless++;
      if (this.spec.kind === 'file' && outcome.frames === 0 && (error.code === 'E_SOURCE_UNREADABLE' || fruitless >= fileRetryLimit)) {
        this.setStatus('failed', error);
        return;
      }
      seekS = this.finite ? this.positionS : 0;
      const now = Date.now();
      downSince ??= now;
      this.restarts++;
      this.setStatus('reconnecting', error);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      // Retry at the first pace while the source has been down briefly; then back off.
      if (Date.now() - downSince >= fastRetryWindowMs) delay = Math.min(delay * 2, reconnectMaxMs);
    }
  }

  /** Runs one ffmpeg process until it exits; never rejects. */
  private run(target: SourceSpec, seekS: number): Promise<RunOutcome> {
    const displayMaxWidth = this.options.displayMaxWidth ?? 0;
    const inferenceMaxWidth = this.inferenceMaxWidth;
    // Bytes ahead of their report line: a frame or two (ffmpeg writes the outputs of one
    // picture just after its showinfo line); 64 MiB of them means out of step.
    const assembler = new FrameAssembler(64 << 20);
    const displayAssembler = displayMaxWidth > 0 ? new FrameAssembler(32 << 20) : undefined;
    const report = new FfmpegReport();
    const sync = new FrameSync(64, displayAssembler !== undefined);
    const pacer = new Pacer();
    const outbox: SyncedFrame[] = [];
    /** The last lines ffmpeg said about itself (not per-frame lines), redacted, for errors. */
    const tail: string[] = [];
    let stream: StreamInfo | undefined;
    let frames = 0;
    let firstPtsS: number | undefined;
    let baseMs = 0;
    let settled = false;
    /** ffmpeg exited 0 / its stdout was read to the end: together with an empty outbox, the run is over. */
    let exitedOk = false;
    let outputEnded = false;
    /** The display pipe was read to its end (true when there is none). */
    let displayEnded = displayAssembler === undefined;
    let stallTimer: NodeJS.Timeout | undefined;
    let holdTimer: NodeJS.Timeout | undefined;
    let output: Readable | undefined;
    let displayOut: Readable | undefined;

    return new Promise<RunOutcome>((resolve) => {
      const finish = (error?: SegstreamError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(stallTimer);
        clearTimeout(holdTimer);
        this.holding = false;
        this.command = undefined;
        this.output = undefined;
        // Read what is left to its end (and drop it): a pipe left paused is never closed.
        output?.resume();
        displayOut?.resume();
        resolve({ ...(error ? { error: this.redactError(error) } : {}), frames });
      };
      const fail = (code: 'E_SOURCE_FAILED' | 'E_SOURCE_STALLED', message: string): void => {
        finish(new SegstreamError(code, `camera ${this.camera}: ${message}`));
        command.kill('SIGKILL');
      };
      const armStall = (): void => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => {
          if (this.paused || this.holding) return armStall();
          fail('E_SOURCE_STALLED', `no data for ${this.options.stallTimeoutS} s`);
        }, this.options.stallTimeoutS * 1000);
      };
      const mediaMs = (info: FrameInfo): number => {
        const fps = frameRate(stream);
        if (!this.finite) {
          // Live: the monotonic arrival time since the camera started. A stream's own clock
          // restarts or jumps on every reconnect; this one also counts the outage, so the
          // tracker ages tracks by the time that really passed.
          const t = performance.now() - this.clockOriginMs;
          const last = this.lastMediaMs;
          return last === undefined || t > last ? t : last + 1e-3;
        }
        if (firstPtsS === undefined) {
          firstPtsS = info.ptsS ?? 0;
          // A restart continues the camera's media clock one frame after the last one.
          baseMs = this.lastMediaMs === undefined ? 0 : this.lastMediaMs + 1000 / fps;
        }
        const ptsS = info.ptsS ?? firstPtsS + frames / fps;
        const t = baseMs + (ptsS - firstPtsS) * 1000;
        const last = this.lastMediaMs;
        if (last === undefined || t > last) return t;
        // The stream's clock went back (an RTP resync, a discontinuity): go on from the last frame.
        baseMs += last + 1000 / fps - t;
        return last + 1000 / fps;
      };
      const drain = (): void => {
        holdTimer = undefined;
        while (outbox.length > 0 && !settled) {
          const next = outbox[0]!;
          const t = mediaMs(next.info);
          if (this.options.realtime && this.finite) {
            const wait = pacer.delay(t, Date.now());
            if (wait > 0) {
              this.holding = true;
              this.applyFlow();
              holdTimer = setTimeout(drain, wait);
              return;
            }
          }
          outbox.shift();
          this.emit(next, t, stream, seekS);
          frames++;
        }
        if (this.holding) {
          this.holding = false;
          this.applyFlow();
        }
        if (exitedOk && outputEnded && displayEnded && outbox.length === 0) finish();
      };
      const accept = (pairs: SyncedFrame[]): void => {
        if (settled) return;
        if (!assembler.inStep) return fail('E_SOURCE_FAILED', 'ffmpeg frames and frame reports no longer correspond');
        if (displayAssembler && !displayAssembler.inStep) return fail('E_SOURCE_FAILED', 'ffmpeg display frames and frame reports no longer correspond');
        if (!sync.inStep || assembler.expectedFrames > 64) return fail('E_SOURCE_FAILED', 'ffmpeg frame reports and frames no longer correspond');
        // Each frame is as large as its own report says (a frame cut at another's size would
        // mean the outputs slipped apart).
        for (const p of pairs) {
          const model = inferenceSize(p.info.width, p.info.height, inferenceMaxWidth);
          if (p.data.length !== frameByteLength(model.width, model.height, 'rgb24')) return fail('E_SOURCE_FAILED', 'ffmpeg frames and frame reports no longer correspond');
        }
        if (pairs.length === 0) return;
        outbox.push(...pairs);
        if (holdTimer === undefined) drain();
      };

      const args = [
        ...inputOptions(target, this.options, seekS),
        '-i',
        target.url,
        ...outputOptions(inferenceMaxWidth),
        'pipe:1',
        ...(displayAssembler ? displayOutputOptions(displayMaxWidth, 3) : []),
      ];
      const command = new FfmpegProcess(args, displayAssembler ? 1 : 0);
      this.log?.debug({ ffmpeg: this.redact(['ffmpeg', ...args].join(' ')) }, 'ffmpeg started');
      command
        .on('stderr', (line: string) => {
          if (settled) return;
          const fact = report.push(line);
          if (fact?.kind === 'frame') {
            if (fact.frame.width <= 0 || fact.frame.height <= 0) return fail('E_SOURCE_FAILED', `ffmpeg reported a ${fact.frame.width}x${fact.frame.height} frame`);
            const pairs = sync.pushInfo(fact.frame);
            const model = inferenceSize(fact.frame.width, fact.frame.height, inferenceMaxWidth);
            for (const d of assembler.expect(frameByteLength(model.width, model.height, 'rgb24'))) pairs.push(...sync.pushData(d));
            if (displayAssembler) {
              const size = displaySize(fact.frame.width, fact.frame.height, displayMaxWidth);
              for (const d of displayAssembler.expect(i420ByteLength(size.width, size.height))) pairs.push(...sync.pushDisplay(d));
            }
            return accept(pairs);
          }
          if (fact?.kind === 'duration') this.durationS = fact.durationS;
          else if (fact?.kind === 'stream') stream = fact.stream;
          if (!isFrameLine(line) && line.trim() !== '') {
            // Some lines are kilobytes (hex dumps of side data): an error quotes 200 characters at most.
            tail.push(summariseString(this.redact(line.trim()), 200));
            if (tail.length > 4) tail.shift();
          }
        })
        .on('error', (err: Error) => {
          if (this.stopped) return finish();
          const exit = /^ffmpeg (?:exited with code -?\d+|was killed with signal \w+)/.exec(err.message)?.[0] ?? err.message.split('\n')[0] ?? '';
          const detail = [this.redact(exit), ...tail.slice(-2)].join(': ');
          // Unreadable: ffmpeg gave up on its own before saying what the input holds, and this
          // camera never delivered a frame (a kill, or a file briefly missing on a restart, is not).
          if (stream === undefined && this.seq === 0 && !/killed with signal/.test(err.message)) {
            finish(new SegstreamError('E_SOURCE_UNREADABLE', `camera ${this.camera}: cannot read ${this.displayUrl}: ${detail}`, { expected: 'a readable video stream' }));
          } else finish(new SegstreamError('E_SOURCE_FAILED', `camera ${this.camera}: ffmpeg failed: ${detail}`));
        })
        .on('end', () => {
          // The end of the input: the frames still in the pipe and the outbox go out first.
          exitedOk = true;
          if (!settled && holdTimer === undefined) drain();
        });
      this.command = command;
      const out = command.stdout;
      output = out;
      const disp = command.extra[0];
      if (displayAssembler && disp) {
        displayOut = disp;
        disp.on('data', (chunk: Buffer) => {
          if (settled) return;
          armStall();
          const pairs: SyncedFrame[] = [];
          for (const d of displayAssembler.push(chunk)) pairs.push(...sync.pushDisplay(d));
          accept(pairs);
        });
        disp.on('end', () => {
          displayEnded = true;
          if (!settled && holdTimer === undefined) drain();
        });
        disp.on('error', () => undefined);
      }
      this.output = out;
      this.applyFlow();
      armStall();
      // A finished run's streams may still deliver: they must not touch the next run's state.
      out.on('data', (chunk: Buffer) => {
        if (settled) return;
        armStall();
        const pairs: SyncedFrame[] = [];
        for (const data of assembler.push(chunk)) pairs.push(...sync.pushData(data));
        accept(pairs);
      });
      out.on('end', () => {
        outputEnded = true;
        if (!settled && holdTimer === undefined) drain();
      });
      out.on('error', () => undefined);
    });
  }

  /** Publishes one frame; a change of source size re-letterboxes and is reported in the status. */
  private emit({ data, info, display }: SyncedFrame, mediaMs: number, stream: StreamInfo | undefined, seekS: number): void {
    let lb = this.letterbox;
    const resized = lb !== undefined && (lb.srcWidth !== info.width || lb.srcHeight !== info.height);
    if (lb === undefined || resized) {
      const model = inferenceSize(info.width, info.height, this.inferenceMaxWidth);
      lb = computeLetterbox(info.width, info.height, this.options.modelWidth, this.options.modelHeight, model.width, model.height);
      this.letterbox = lb;
    }
    if (resized) this.log?.info({ from: `${this.status.stream?.width}x${this.status.stream?.height}`, to: `${info.width}x${info.height}` }, 'source resolution changed');
    if (resized || this.status.state !== 'streaming') {
      this.setStatus('streaming', undefined, { width: info.width, height: info.height, fps: stream?.fps ?? 0, codec: stream?.codec ?? 'unknown' });
    }
    this.lastMediaMs = mediaMs;
    if (info.ptsS !== null) {
      // Resume half a frame after this one: ffmpeg's accurate seek then starts at the next frame.
      const pos = seekS + info.ptsS + 0.5 / frameRate(stream);
      this.positionS = this.durationS ? pos % this.durationS : pos;
    }
    const seq = this.seq++;
    const timestamp = Date.now();
    if (display) {
      const size = displaySize(info.width, info.height, this.options.displayMaxWidth ?? 0);
      this.displaySubject.next({ camera: this.camera, seq, timestamp, pts: mediaMs, width: size.width, height: size.height, format: 'i420', data: display, srcWidth: info.width, srcHeight: info.height });
    }
    this.framesSubject.next({
      camera: this.camera,
      seq,
      timestamp,
      pts: mediaMs,
      width: lb.frameWidth,
      height: lb.frameHeight,
      format: 'rgb24',
      data,
      letterbox: lb,
    });
  }
}

/** The stream's declared rate, else 25 fps (for sources that say none), frames per second. */
function frameRate(stream: StreamInfo | undefined): number {
  return stream?.fps || 25;
}
