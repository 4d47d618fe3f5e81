import type { Worker } from 'node:worker_threads';
import { ERROR_CODES, SegstreamError, siblingModule, spawnModuleWorker, type Detections, type ErrorCode } from '../core/index.js';
import type { ClipFiles, ClipOptions } from './clip.js';
import type { ClipReply, WireError } from './clipProtocol.js';
import type { RgbImage } from './image.js';
import type { TextSelector } from './select.js';

/** Text prompts waiting for the CLIP worker at most; more are refused, not queued. */
const MAX_PENDING = 4;

function toError(e: WireError): SegstreamError {
  const code: ErrorCode = (ERROR_CODES as readonly string[]).includes(e.code) ? (e.code as ErrorCode) : 'E_INFERENCE';
  return new SegstreamError(code, e.message, { expected: e.expected, actual: e.actual });
}

/**
 * ClipTextSelector in a worker thread: same loading, errors and results, but the encoders
 * run off the main thread. One request at a time is queued in the worker.
 */
export class ClipThreadSelector implements TextSelector {
  private readonly pending = new Map<number, { resolve: (r: { index: number; probabilities: Float32Array }) => void; reject: (e: SegstreamError) => void }>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: ClipReply) => {
      if (msg.type !== 'result' && msg.type !== 'error') return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      if (msg.type === 'result') p.resolve({ index: msg.index, probabilities: msg.probabilities });
      else p.reject(toError(msg.error));
    });
    worker.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new SegstreamError('E_INFERENCE', `CLIP worker exited (code ${code})`));
      this.pending.clear();
      this.closed = true;
    });
  }

  /** Loads the encoders in a new worker; rejects with the loader's error (E_MODEL_*). */
  static load(files: ClipFiles, options: ClipOptions = {}): Promise<ClipThreadSelector> {
    const worker = spawnModuleWorker(siblingModule(import.meta.url, 'clipWorker'), { workerData: { files: { ...files }, options: { ...options } } });
    return new Promise((resolve, reject) => {
      const onMessage = (msg: ClipReply): void => {
        if (msg.type === 'ready') {
          worker.off('message', onMessage);
          resolve(new ClipThreadSelector(worker));
        } else if (msg.type === 'init-error') {
          worker.off('message', onMessage);
          void worker.terminate();
          reject(toError(msg.error));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', (err) => reject(new SegstreamError('E_INFERENCE', `CLIP worker failed to start: ${err.message}`, { cause: err })));
    });
  }

  selectByText(text: string, det: Detections, image: RgbImage): Promise<{ index: number; probabilities: Float32Array }> {
    if (this.closed) return Promise.reject(new SegstreamError('E_INFERENCE', 'CLIP selector is closed'));
    if (this.pending.size >= MAX_PENDING) {
      return Promise.reject(new SegstreamError('E_INFERENCE', 'CLIP is busy with earlier text prompts; try again', { expected: `< ${MAX_PENDING} waiting`, actual: this.pending.size }));
    }
    const id = this.nextId++;
    const detections = { boxes: det.boxes, scores: det.scores, classIds: det.classIds, masks: det.masks, trackIds: det.trackIds, predicted: det.predicted };
    const img: RgbImage = { width: image.width, height: image.height, data: image.data, ...(image.letterbox ? { letterbox: image.letterbox } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'select', id, text, detections, image: img });
    });
  }

  /** Lets the current request finish, then releases the sessions. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'close' });
    });
  }
}
