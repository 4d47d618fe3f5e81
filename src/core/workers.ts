import { Worker, type Transferable, type WorkerOptions } from 'node:worker_threads';
import { ERROR_CODES, SegstreamError, toSegstreamError, type ErrorCode } from './errors.js';

/**
 * Starts a worker from a module URL next to the caller. Built code (`.js`) loads directly;
 * when running from TypeScript sources (tests, `tsx`) the worker registers tsx's loader
 * first, because Node 20 workers do not inherit the parent's module hooks.
 */
export function spawnModuleWorker(url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

/** The sibling module `name` of `base`, with the same extension (.ts in sources, .js built). */
export function siblingModule(base: string, name: string): URL {
  const ext = base.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, base);
}

/** An error as it crosses a thread boundary (SegstreamError.toJSON()). */
export interface WireError {
  code: string;
  message: string;
  expected?: unknown;
  actual?: unknown;
}

/** Anything thrown in a worker, as a WireError (`fallback` code for non-segstream errors). */
export function toWireError(err: unknown, fallback: ErrorCode): WireError {
  return toSegstreamError(err, fallback).toJSON();
}

/** A WireError back as a SegstreamError; an unknown code becomes `fallback`. */
export function fromWireError(e: WireError, fallback: ErrorCode): SegstreamError {
  const code = (ERROR_CODES as readonly string[]).includes(e.code) ? (e.code as ErrorCode) : fallback;
  return new SegstreamError(code, e.message, { expected: e.expected, actual: e.actual });
}

/** The start-up handshake every segstream worker sends: 'ready' (with what it found out, `info`), or 'init-error'. */
export type WorkerHello<I = undefined> = { type: 'ready'; info?: I } | { type: 'init-error'; error: WireError };

/**
 * Spawns a module worker and waits for its handshake. Rejects with the worker's own error
 * (e.g. E_MODEL_CORRUPT) or, when it cannot start at all, `failCode`.
 */
export function startModuleWorker(url: URL, workerData: unknown, failCode: ErrorCode, what: string): Promise<Worker> {
  return startModuleWorkerWithInfo(url, workerData, failCode, what).then((started) => started.worker);
}

/** startModuleWorker, also resolving with the `info` of the worker's 'ready'. */
export function startModuleWorkerWithInfo<I>(url: URL, workerData: unknown, failCode: ErrorCode, what: string): Promise<{ worker: Worker; info: I | undefined }> {
  const worker = spawnModuleWorker(url, { workerData });
  return new Promise((resolve, reject) => {
    const onMessage = (msg: WorkerHello<I>): void => {
      if (msg.type === 'ready') {
        done();
        resolve({ worker, info: msg.info });
      } else if (msg.type === 'init-error') {
        done();
        void worker.terminate();
        reject(fromWireError(msg.error, failCode));
      }
    };
    const onError = (err: Error): void => {
      done();
      reject(new SegstreamError(failCode, `${what} failed to start: ${err.message}`, { cause: err }));
    };
    // A worker that exits before its handshake (process.exit in its setup, a native crash)
    // would otherwise leave start-up waiting for ever.
    const onExit = (code: number): void => {
      done();
      reject(new SegstreamError(failCode, `${what} exited with code ${code} before it was ready`, { expected: 'ready', actual: code }));
    };
    const done = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** Replies a WorkerChannel routes: a result or a WireError for request `id`. */
export type ChannelReply<T> = { type: 'result'; id: number; value: T } | { type: 'error'; id: number; error: WireError };

/**
 * Request/reply over one worker: numbers requests, keeps their promises, settles them from
 * the worker's `result` / `error` replies, and rejects all of them if the worker exits.
 */
export class WorkerChannel<T> {
  private readonly pending = new Map<number, { resolve: (v: T) => void; reject: (e: SegstreamError) => void }>();
  private nextId = 1;
  private exited = false;

  constructor(
    readonly worker: Worker,
    private readonly errorCode: ErrorCode,
    what: string,
  ) {
    worker.on('message', (msg: ChannelReply<T> | WorkerHello) => {
      if (msg.type !== 'result' && msg.type !== 'error') return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      if (msg.type === 'result') p.resolve(msg.value);
      else p.reject(fromWireError(msg.error, errorCode));
    });
    // An uncaught error in the worker ends it (its 'exit' follows and fails what was pending);
    // without a listener it would be thrown in the main thread and take the process down.
    let crash: string | undefined;
    worker.on('error', (err: Error) => void (crash = err.message));
    worker.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new SegstreamError(errorCode, `${what} exited (code ${code})${crash ? `: ${crash}` : ''}`));
      this.pending.clear();
    });
  }

  /** Requests waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Posts `message` (given its id) and resolves with the worker's reply. */
  request(message: (id: number) => unknown, transfer: readonly Transferable[] = []): Promise<T> {
    if (this.exited) return Promise.reject(new SegstreamError(this.errorCode, 'worker has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage(message(id), transfer as Transferable[]);
      } catch (err) {
        // Not sent (e.g. a buffer that cannot be transferred): the worker stays free.
        this.pending.delete(id);
        reject(toSegstreamError(err, this.errorCode));
      }
    });
  }

  /** Sends `close`; resolves when the worker has exited (it finishes its current request first). */
  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'close' });
    });
  }
}
