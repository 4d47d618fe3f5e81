import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';

export interface FfmpegProcessEvents {
  /** One stderr line, without its line end. */
  stderr: [line: string];
  /** ffmpeg exited non-zero, was killed, or could not start. */
  error: [err: Error];
  /** ffmpeg exited 0 (stderr read to its end). */
  end: [];
}

/**
 * One ffmpeg child process: stdout and, with `extraOutputs`, further pipes on fds 3, 4, ...
 * (ffmpeg writes them as `pipe:3`), stderr cut into lines. Once the process has exited and
 * stderr is read to its end it says how: `end` (exit 0) or `error` ("ffmpeg exited with code
 * N" / "ffmpeg was killed with signal S", fluent-ffmpeg's words). Output pipes are the
 * caller's to read (a pipe left paused blocks ffmpeg).
 */
export class FfmpegProcess extends EventEmitter<FfmpegProcessEvents> {
  readonly stdout: Readable;
  /** The pipes on fds 3, 4, ... in that order. */
  readonly extra: Readable[];
  private readonly proc: ChildProcess;
  private ended = false;

  constructor(
    readonly args: readonly string[],
    extraOutputs = 0,
    command = process.env.FFMPEG_PATH || 'ffmpeg',
  ) {
    super();
    this.proc = spawn(command, [...args], {
      stdio: ['ignore', 'pipe', 'pipe', ...Array.from({ length: extraOutputs }, () => 'pipe' as const)],
      windowsHide: true,
    });
    // A spawn that fails outright (EMFILE, ENFILE) leaves no pipes: ended stand-ins, and the
    // failure comes as 'error' (asynchronously, as Node emits it) instead of a throw here.
    const pipe = (s: Readable | null | undefined): Readable => s ?? new PassThrough().end();
    this.stdout = pipe(this.proc.stdout);
    this.extra = Array.from({ length: extraOutputs }, (_, i) => pipe(this.proc.stdio?.[3 + i] as Readable | null | undefined));
    let exit: Error | null | undefined;
    let stderrClosed = false;
    const settle = (): void => {
      if (this.ended || exit === undefined || !stderrClosed) return;
      this.ended = true;
      if (exit) this.emit('error', exit);
      else this.emit('end');
    };
    this.proc.on('error', (err) => {
      // Could not start (e.g. no ffmpeg): no exit event follows.
      if (this.ended) return;
      this.ended = true;
      this.emit('error', err);
    });
    this.proc.on('exit', (code, signal) => {
      exit = signal ? new Error(`ffmpeg was killed with signal ${signal}`) : code ? new Error(`ffmpeg exited with code ${code}`) : null;
      settle();
    });
    let partial = '';
    const stderr = pipe(this.proc.stderr);
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => {
      const lines = (partial + text).split(/\r\n|\r|\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.emit('stderr', line);
    });
    stderr.on('close', () => {
      if (partial !== '') this.emit('stderr', partial);
      partial = '';
      stderrClosed = true;
      settle();
    });
    stderr.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}
