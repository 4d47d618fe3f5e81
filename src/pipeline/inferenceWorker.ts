/**
 * Worker thread owning one onnxruntime session. session.run() blocks its thread for the
 * whole inference, so it lives here and the main thread keeps serving sockets and ingest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { isSegstreamError, toWireError, type Letterbox } from '../core/index.js';
import { selectDetections } from './candidates.js';
import { letterboxInto, planLetterbox, type LetterboxPlan } from './preprocess.js';
import { createDeviceSession } from './providers.js';
import type { ImageResult, WorkerInit, WorkerReadyInfo, WorkerReply, WorkerRequest } from './workerProtocol.js';

const port = parentPort;
if (!port) throw new Error('inferenceWorker must run in a worker thread');
const init = workerData as WorkerInit;

function post(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  let ready: WorkerReadyInfo;
  try {
    const options = {
      intraOpNumThreads: init.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // No spin-waiting between operators: spinning intra-op threads keep every core busy
      // (measured: 2 threads, 73 ms of CPU for a 37 ms run) and starve ffmpeg and the main thread.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    } as const;
    const { session: created, ...info } = await createDeviceSession(init.devices, init.modelBytes, options);
    session = created;
    ready = info;
  } catch (err) {
    const error = isSegstreamError(err) ? err.toJSON() : { code: 'E_MODEL_CORRUPT', message: `onnxruntime cannot load ${init.modelPath}: ${(err as Error).message}`, expected: 'a model onnxruntime can load' };
    post({ type: 'init-error', error });
    return;
  }
  const plane = init.inputWidth * init.inputHeight * 3;
  const protoLen = init.layout.numMasks * init.protoHeight * init.protoWidth;
  const detLen = (4 + init.layout.numClasses + init.layout.numMasks) * init.layout.numAnchors;
  // Per batch size: one input tensor and one det output, reused for every run (the det output
  // stays here: candidates are read from it in this thread). Prototype outputs go to the main
  // thread and come back through `recycled`, a few per size.
  const inputs = new Map<number, ort.Tensor>();
  const dets = new Map<number, ort.Tensor>();
  const protoPool = new Map<number, ArrayBuffer[]>();
  const PROTO_POOL = 4;
  const tensorFor = (cache: Map<number, ort.Tensor>, n: number, per: number, dims: number[]): ort.Tensor => {
    let t = cache.get(n);
    if (!t) {
      t = new ort.Tensor('float32', new Float32Array(n * per), [n, ...dims]);
      cache.set(n, t);
    }
    return t;
  };
  const protoBuffer = (n: number): ArrayBuffer => protoPool.get(n * protoLen * 4)?.pop() ?? new ArrayBuffer(n * protoLen * 4);
  const recycle = (buffers: ArrayBuffer[]): void => {
    for (const b of buffers) {
      const pool = protoPool.get(b.byteLength) ?? [];
      if (pool.length < PROTO_POOL) pool.push(b);
      protoPool.set(b.byteLength, pool);
    }
  };
  // Letterbox plans by frame size (a camera's size rarely changes; a handful of sizes at most).
  const plans = new Map<string, LetterboxPlan>();
  const planFor = (lb: Letterbox): LetterboxPlan => {
    const key = `${lb.frameWidth}x${lb.frameHeight}`;
    let plan = plans.get(key);
    if (!plan || plan.lb.innerWidth !== lb.innerWidth || plan.lb.padX !== lb.padX || plan.lb.innerHeight !== lb.innerHeight || plan.lb.padY !== lb.padY) {
      if (plans.size >= 32) plans.clear();
      plan = planLetterbox(lb);
      plans.set(key, plan);
    }
    return plan;
  };

  // Runs are serialised through this chain so 'close' waits for the one in progress:
  // tearing a worker down inside session.run() aborts the whole process.
  let queue: Promise<void> = Promise.resolve();
  port!.on('message', (req: WorkerRequest) => {
    if (req.type === 'close') {
      queue = queue.then(async () => {
        await session.release();
        port!.close();
      });
      return;
    }
    queue = queue.then(() => handle(req));
  });

  async function handle(req: Exclude<WorkerRequest, { type: 'close' }>): Promise<void> {
    recycle(req.recycled);
    const back = req.images.map((img) => img.data);
    const transfer: ArrayBuffer[] = back.map((b) => b.buffer as ArrayBuffer);
    try {
      const results: ImageResult[] = [];
      const timings = { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 };
      for (let start = 0; start < req.images.length; start += init.maxBatch) {
        const chunk = req.images.slice(start, start + init.maxBatch);
        const n = chunk.length;
        let t = performance.now();
        const input = tensorFor(inputs, n, plane, [3, init.inputHeight, init.inputWidth]);
        const inputData = input.data as Float32Array;
        chunk.forEach((img, i) => letterboxInto(img.data, planFor(img.letterbox), inputData, i * plane));
        timings.preprocessMs += performance.now() - t;
        t = performance.now();
        const det = tensorFor(dets, n, detLen, [4 + init.layout.numClasses + init.layout.numMasks, init.layout.numAnchors]);
        const protoBuf = protoBuffer(n);
        const proto = new ort.Tensor('float32', new Float32Array(protoBuf), [n, init.layout.numMasks, init.protoHeight, init.protoWidth]);
        // Pre-allocated outputs: onnxruntime writes into these (onnxruntime-node 1.30 still
        // returns copies of them, which are left unread).
        await session.run({ [init.inputName]: input }, { [init.detName]: det, [init.protoName]: proto });
        timings.inferenceMs += performance.now() - t;
        t = performance.now();
        const detData = det.data as Float32Array;
        for (let i = 0; i < n; i++) {
          const raw = selectDetections(detData, i, init.layout, init.decode);
          results.push({ raw, protos: new Float32Array(protoBuf, i * protoLen * 4, protoLen) });
          transfer.push(raw.boxes.buffer as ArrayBuffer, raw.scores.buffer as ArrayBuffer, raw.classIds.buffer as ArrayBuffer, raw.coefficients.buffer as ArrayBuffer);
        }
        transfer.push(protoBuf);
        timings.postprocessMs += performance.now() - t;
      }
      post({ type: 'result', id: req.id, value: { images: results, timings, inputs: back } }, transfer);
    } catch (err) {
      post({ type: 'error', id: req.id, error: toWireError(err, 'E_INFERENCE') });
    }
  }

  post({ type: 'ready', info: ready });
}

void main();
