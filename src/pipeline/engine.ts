import { availableParallelism } from 'node:os';
import { SegstreamError, type InferenceDevice, type InferenceDeviceInfo, type Logger } from '../core/index.js';
import type { DecodeOptions } from './candidates.js';
import type { ModelInfo } from './modelInfo.js';

export type { BatchOutput } from './workerProtocol.js';
import type { BatchOutput, WorkerInit, WorkerReadyInfo, WorkerRequest } from './workerProtocol.js';
import { siblingModule, startModuleWorkerWithInfo, WorkerChannel } from '../core/workers.js';

export interface EngineOptions {
  /** Inference worker threads, each with its own onnxruntime session. */
  workers: number;
  /** onnxruntime intra-op threads per worker. */
  threadsPerWorker: number;
  /** Largest batch one session.run takes; clipped to the model's static batch. */
  maxBatch: number;
  /** Inference devices in order of preference (parseDeviceList); the first that works runs. */
  devices: InferenceDevice[];
  decode: DecodeOptions;
}

export function defaultEngineOptions(): EngineOptions {
  return {
    workers: 1,
    threadsPerWorker: Math.max(1, availableParallelism()),
    maxBatch: 8,
    devices: ['cpu'],
    decode: { confidence: 0.25, iouThreshold: 0.7, agnostic: false, maxDetections: 100 },
  };
}

/**
 * A pool of inference worker threads. `run()` hands a batch to an idle worker; callers
 * check `idle` first, so at most `workers` batches are ever in flight (the bound on
 * inference memory). A worker that dies fails its batch with E_INFERENCE and is replaced.
 */
export class InferenceEngine {
  readonly info: ModelInfo;
  readonly maxBatch: number;
  private readonly slots: WorkerChannel<BatchOutput>[] = [];
  private readonly init: WorkerInit;
  private nextId = 1;
  private closed = false;
  private resolved: InferenceDeviceInfo | undefined;

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
      devices: [...options.devices],
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

  private async startWorker(): Promise<WorkerChannel<BatchOutput>> {
    const { worker, info } = await startModuleWorkerWithInfo<WorkerReadyInfo>(siblingModule(import.meta.url, 'inferenceWorker'), this.init, 'E_INFERENCE', 'inference worker');
    // The first worker decides the device; every later one (restarts too) starts on it alone.
    if (info && !this.resolved) {
      this.resolved = { device: info.device, requested: [...this.init.devices], unavailable: info.unavailable, ...(info.nodes ? { nodes: info.nodes } : {}) };
      this.init.devices = [info.device];
    }
    const slot = new WorkerChannel<BatchOutput>(worker, 'E_INFERENCE', 'inference worker');
    worker.on('error', (err) => this.log?.error({ err }, 'inference worker crashed'));
    worker.on('exit', (code) => {
      const idx = this.slots.indexOf(slot);
      if (idx < 0 || this.closed) return;
      this.log?.warn({ code }, 'inference worker exited; starting a new one');
      this.slots.splice(idx, 1);
      this.startWorker().then(
        (s) => (this.closed ? void s.close() : this.slots.push(s)),
        (err: unknown) => this.log?.error({ err }, 'cannot restart inference worker'),
      );
    });
    return slot;
  }

  /** The device every worker runs on, the devices asked for and why those before it could not be used. */
  get device(): InferenceDeviceInfo {
    return this.resolved ?? { device: this.init.devices[0]!, requested: [...this.init.devices], unavailable: [] };
  }

  /** Live workers (idle or busy). */
  get workerCount(): number {
    return this.slots.length;
  }

  /** Workers free to take a batch now. */
  get idle(): number {
    return this.slots.filter((s) => s.inFlight === 0).length;
  }

  /** Runs one batch (1..maxBatch images) on an idle worker, with decoding (NMS) in the worker. */
  run(images: Uint8Array[]): Promise<BatchOutput> {
    if (this.closed) return Promise.reject(new SegstreamError('E_INFERENCE', 'inference engine is closed'));
    const slot = this.slots.find((s) => s.inFlight === 0);
    if (!slot) return Promise.reject(new SegstreamError('E_INFERENCE', 'no idle inference worker'));
    return slot.request(
      (id) => ({ type: 'run', id, images }) satisfies WorkerRequest,
      images.map((i) => i.buffer as ArrayBuffer),
    );
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
      slots.map((s) => {
        const timer = setTimeout(() => void s.worker.terminate(), graceMs);
        return s.close().finally(() => clearTimeout(timer));
      }),
    );
  }
}
