/**
 * Worker thread owning one onnxruntime session. session.run() blocks its thread for the
 * whole inference, so it lives here and the main thread keeps serving sockets and ingest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { isSegstreamError, toWireError } from '../core/index.js';
import { selectDetections } from './candidates.js';
import { createDeviceSession } from './providers.js';
import { rgbToChwFloat } from './preprocess.js';
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
    const options = { intraOpNumThreads: init.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' } as const;
    const { session: created, ...info } = await createDeviceSession(init.devices, init.modelBytes, options);
    session = created;
    ready = info;
  } catch (err) {
    const error = isSegstreamError(err) ? err.toJSON() : { code: 'E_MODEL_CORRUPT', message: `onnxruntime cannot load ${init.modelPath}: ${(err as Error).message}`, expected: 'a model onnxruntime can load' };
    post({ type: 'init-error', error });
    return;
  }
  const plane = init.inputWidth * init.inputHeight * 3;
  // One reusable input buffer per batch size seen: no per-frame 1.2 MB allocation.
  const inputs = new Map<number, Float32Array>();
  const inputFor = (n: number): Float32Array => {
    let buf = inputs.get(n);
    if (!buf) {
      buf = new Float32Array(n * plane);
      inputs.set(n, buf);
    }
    return buf;
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
    const back = req.images;
    const transferBack = back.map((b) => b.buffer as ArrayBuffer);
    try {
      const results: ImageResult[] = [];
      const timings = { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 };
      for (let start = 0; start < req.images.length; start += init.maxBatch) {
        const chunk = req.images.slice(start, start + init.maxBatch);
        let t = performance.now();
        const input = inputFor(chunk.length);
        chunk.forEach((img, i) => rgbToChwFloat(img, init.inputWidth, init.inputHeight, input, i * plane));
        const tensor = new ort.Tensor('float32', input, [chunk.length, 3, init.inputHeight, init.inputWidth]);
        timings.preprocessMs += performance.now() - t;
        t = performance.now();
        const out = await session.run({ [init.inputName]: tensor });
        timings.inferenceMs += performance.now() - t;
        t = performance.now();
        const det = out[init.detName]!.data as Float32Array;
        const proto = out[init.protoName]!.data as Float32Array;
        const protoLen = proto.length / chunk.length;
        for (let i = 0; i < chunk.length; i++) {
          const raw = selectDetections(det, i, init.layout, init.decode);
          // Batch 1: hand over the whole output buffer; else copy this image's slice.
          const protos = chunk.length === 1 ? proto : proto.slice(i * protoLen, (i + 1) * protoLen);
          results.push({ raw, protos });
        }
        timings.postprocessMs += performance.now() - t;
      }
      const transfer: ArrayBuffer[] = [...transferBack];
      for (const r of results) {
        transfer.push(r.raw.boxes.buffer as ArrayBuffer, r.raw.scores.buffer as ArrayBuffer, r.raw.classIds.buffer as ArrayBuffer, r.raw.coefficients.buffer as ArrayBuffer);
        if (!transfer.includes(r.protos.buffer as ArrayBuffer)) transfer.push(r.protos.buffer as ArrayBuffer);
      }
      post({ type: 'result', id: req.id, value: { images: results, timings, inputs: back } }, transfer);
    } catch (err) {
      post({ type: 'error', id: req.id, error: toWireError(err, 'E_INFERENCE') });
    }
  }

  post({ type: 'ready', info: ready });
}

void main();
