import { availableParallelism } from 'node:os';
import { SegstreamError, type InferenceDevice, type InferenceDeviceInfo, type Logger } from '../core/index.js';
import type { DecodeOptions } from './candidates.js';
import type { ModelInfo } from './modelInfo.js';

export type { BatchOutput } from './workerProtocol.js';
import type { BatchOutput, WorkerImage, WorkerInit, WorkerReadyInfo, WorkerRequest } from './workerProtocol.js';
export type { WorkerImage } from './workerProtocol.js';
import { siblingModule, startModuleWorkerWithInfo, WorkerChannel } from '../core/workers.js';

export interface EngineOptions {
  /** Inference worker threads, each with its own onnxruntime session. */
  workers: number;
  /** onnxruntime intra-op threads per worker. */
  threadsPerWorker: number;
  /** Largest batch one session.run takes; clipped to the model's static batch. */
  maxBatch: number;
  /** A free worker waits up to this long for other cameras' frames (see inferLatest), ms. */
  batchWaitMs: number;
  /** Inference devices in order of preference (parseDeviceList); the first that works runs. */
  devices: InferenceDevice[];
  decode: DecodeOptions;
}

export function defaultEngineOptions(): EngineOptions {
  return {
    workers: 1,
    threadsPerWorker: Math.max(1, availableParallelism()),
    maxBatch: 8,
    batchWaitMs: 0,
    devices: ['cpu'],
    decode: { confidence: 0.25, iouThreshold: 0.7, agnostic: false, maxDetections: 300 },
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
  readonly batchWaitMs: number;
  private readonly slots: WorkerChannel<BatchOutput>[] = [];
  private readonly init: WorkerInit;
  private closed = false;
  /** Prototype buffers waiting to go back to a worker (a few). */
  private readonly recycled: ArrayBuffer[] = [];
  /** Images of a prototype buffer's batch not yet handed back. */
  private readonly protoUsers = new WeakMap<ArrayBuffer, number>();
  private resolved: InferenceDeviceInfo | undefined;

  private constructor(info: ModelInfo, init: WorkerInit, batchWaitMs: number, private readonly log: Logger | undefined) {
    this.info = info;
    this.init = init;
    this.maxBatch = init.maxBatch;
    this.batchWaitMs = batchWaitMs;
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
      protoWidth: info.protoWidth,
      protoHeight: info.protoHeight,
      maxBatch,
      layout: { numClasses: info.numClasses, numMasks: info.numMasks, numAnchors: info.numAnchors },
      decode: options.decode,
      threads: options.threadsPerWorker,
      devices: [...options.devices],
    };
    const engine = new InferenceEngine(info, init, options.batchWaitMs, log);
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

  /**
   * Runs one batch (1..maxBatch pictures) on an idle worker: letterbox, session.run, decoding
   * (confidence filter, NMS) in the worker. The pictures' buffers are transferred there and
   * come back in `inputs`.
   */
  run(images: WorkerImage[]): Promise<BatchOutput> {
    if (this.closed) return Promise.reject(new SegstreamError('E_INFERENCE', 'inference engine is closed'));
    const slot = this.slots.find((s) => s.inFlight === 0);
    if (!slot) return Promise.reject(new SegstreamError('E_INFERENCE', 'no idle inference worker'));
    const recycled = this.recycled.splice(0);
    return slot
      .request(
        (id) => ({ type: 'run', id, images, recycled }) satisfies WorkerRequest,
        [...images.map((i) => i.data.buffer as ArrayBuffer), ...recycled],
      )
      .then((out) => {
        const buffers = new Set(out.images.map((r) => r.protos.buffer as ArrayBuffer));
        for (const b of buffers) this.protoUsers.set(b, out.images.filter((r) => r.protos.buffer === b).length);
        return out;
      });
  }

  /**
   * Hands back one image's prototypes once its masks are assembled: when every image of its
   * batch has, the buffer goes back to a worker with the next batch instead of being allocated
   * again there. Prototypes never handed back are simply collected.
   */
  recycle(protos: Float32Array): void {
    const buffer = protos.buffer as ArrayBuffer;
    const users = this.protoUsers.get(buffer);
    if (users === undefined) return;
    if (users > 1) {
      this.protoUsers.set(buffer, users - 1);
      return;
    }
    this.protoUsers.delete(buffer);
    if (this.recycled.length < 2 * Math.max(1, this.slots.length) && buffer.byteLength > 0) this.recycled.push(buffer);
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
