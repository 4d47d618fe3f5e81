import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { SegstreamError, type Logger } from '../core/index.js';
import type { DecodeOptions } from './candidates.js';
import type { ModelInfo } from './modelInfo.js';
import type { BatchTimings, ImageResult, WorkerInit, WorkerReply, WorkerRequest } from './workerProtocol.js';
import { siblingModule, spawnModuleWorker } from '../core/workers.js';

export interface EngineOptions {
  /** Inference worker threads, each with its own onnxruntime session. */
  workers: number;
  /** onnxruntime intra-op threads per worker. */
  threadsPerWorker: number;
  /** Largest batch one session.run takes; clipped to the model's static batch. */
  maxBatch: number;
  executionProviders: string[];
  decode: DecodeOptions;
}

export function defaultEngineOptions(): EngineOptions {
  return {
    workers: 1,
    threadsPerWorker: Math.max(1, availableParallelism()),
    maxBatch: 8,
    executionProviders: ['cpu'],
    decode: { confidence: 0.25, iouThreshold: 0.7, agnostic: false, maxDetections: 100 },
  };
}

export interface BatchOutput {
  images: ImageResult[];
  timings: BatchTimings;
  /** The input buffers, handed back by the worker. */
  inputs: Uint8Array[];
}

interface Pending {
  resolve: (out: BatchOutput) => void;
  reject: (err: SegstreamError) => void;
}

class WorkerSlot {
  busy = false;
  readonly pending = new Map<number, Pending>();
  constructor(readonly worker: Worker) {}
}

/**
 * A pool of inference worker threads. `run()` hands a batch to an idle worker; callers
 * check `idle` first, so at most `workers` batches are ever in flight (the bound on
 * inference memory). A worker that dies fails its batch with E_INFERENCE and is replaced.
 */
export class InferenceEngine {
  readonly info: ModelInfo;
  readonly maxBatch: number;
  private readonly slots: WorkerSlot[] = [];
  private readonly init: WorkerInit;
  private nextId = 1;
  private closed = false;

  private constructor(info: ModelInfo, init: WorkerInit, private readonly log: Logger | undefined) {
    this.info = info;
    this.init = init;
    this.maxBatch = init.maxBatch;
  }

  static async create(info: ModelInfo, modelBytes: Uint8Array, options: EngineOptions, log?: Logger): Promise<InferenceEngine> {
    const maxBatch = Math.max(1, info.batch === null ? options.maxBatch : Math.min(options.maxBatch, info.batch));
    const init: WorkerInit = {
      modelBytes,
      modelPath: info.path,
      inputName: info.inputName,
      detName: info.detName,
      protoName: info.protoName,
      inputWidth: info.inputWidth,
      inputHeight: info.inputHeight,
      maxBatch,
      layout: { numClasses: info.numClasses, numMasks: info.numMasks, numAnchors: info.numAnchors },
      decode: options.decode,
      threads: options.threadsPerWorker,
      executionProviders: options.executionProviders,
    };
    const engine = new InferenceEngine(info, init, log);
    try {
      for (let i = 0; i < Math.max(1, options.workers); i++) engine.slots.push(await engine.startWorker());
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  private startWorker(): Promise<WorkerSlot> {
    const worker = spawnModuleWorker(siblingModule(import.meta.url, 'inferenceWorker'), { workerData: this.init });
    const slot = new WorkerSlot(worker);
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (msg: WorkerReply) => {
        switch (msg.type) {
          case 'ready':
            ready = true;
            resolve(slot);
            return;
          case 'init-error':
            reject(new SegstreamError('E_MODEL_CORRUPT', msg.message, { expected: 'a model onnxruntime can load' }));
            void worker.terminate();
            return;
          case 'result':
          case 'error': {
            const p = slot.pending.get(msg.id);
            slot.pending.delete(msg.id);
            slot.busy = false;
            if (!p) return;
            if (msg.type === 'result') p.resolve({ images: msg.images, timings: msg.timings, inputs: msg.images_back });
            else p.reject(new SegstreamError('E_INFERENCE', `inference failed: ${msg.message}`));
          }
        }
      });
      worker.on('error', (err) => {
        if (!ready) reject(new SegstreamError('E_INFERENCE', `inference worker failed to start: ${err.message}`, { cause: err }));
        this.log?.error({ err }, 'inference worker crashed');
      });
      worker.on('exit', (code) => {
        for (const p of slot.pending.values()) p.reject(new SegstreamError('E_INFERENCE', `inference worker exited (code ${code})`));
        slot.pending.clear();
        const idx = this.slots.indexOf(slot);
        if (idx < 0 || this.closed) return;
        this.log?.warn({ code }, 'inference worker exited; starting a new one');
        this.slots.splice(idx, 1);
        this.startWorker().then(
          (s) => (this.closed ? void s.worker.terminate() : this.slots.push(s)),
          (err: unknown) => this.log?.error({ err }, 'cannot restart inference worker'),
        );
      });
    });
  }

  /** Live workers (idle or busy). */
  get workerCount(): number {
    return this.slots.length;
  }

  /** Workers free to take a batch now. */
  get idle(): number {
    return this.slots.filter((s) => !s.busy).length;
  }

  /** Runs one batch (1..maxBatch images) on an idle worker, with decoding (NMS) in the worker. */
  run(images: Uint8Array[]): Promise<BatchOutput> {
    if (this.closed) return Promise.reject(new SegstreamError('E_INFERENCE', 'inference engine is closed'));
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) return Promise.reject(new SegstreamError('E_INFERENCE', 'no idle inference worker'));
    slot.busy = true;
    const id = this.nextId++;
    return new Promise<BatchOutput>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ type: 'run', id, images } satisfies WorkerRequest, images.map((i) => i.buffer as ArrayBuffer));
    });
  }

  /**
   * Lets each worker finish its current run, release its session and exit. terminate()
   * is only the fallback after `graceMs`: killing a worker inside session.run() aborts
   * the process in onnxruntime's native code.
   */
  async close(graceMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void s.worker.terminate(), graceMs);
            s.worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            s.worker.postMessage({ type: 'close' });
          }),
      ),
    );
  }
}
