import { SegstreamError, siblingModule, startModuleWorker, WorkerChannel, type Detections } from '../core/index.js';
import type { ClipFiles, ClipOptions } from './clip.js';
import type { ClipRequest } from './clipProtocol.js';
import type { RgbImage } from './image.js';
import type { TextSelector } from './select.js';

/** Text prompts waiting for the CLIP worker at most; more are refused, not queued. */
const MAX_PENDING = 4;

type ClipResult = { index: number; probabilities: Float32Array };

/**
 * ClipTextSelector in a worker thread: same loading, errors and results, but the encoders
 * run off the main thread. Requests run one at a time in the worker.
 */
export class ClipThreadSelector implements TextSelector {
  private closed = false;

  private constructor(private readonly channel: WorkerChannel<ClipResult>) {}

  /** Loads the encoders in a new worker; rejects with the loader's error (E_MODEL_*). */
  static async load(files: ClipFiles, options: ClipOptions = {}): Promise<ClipThreadSelector> {
    const worker = await startModuleWorker(siblingModule(import.meta.url, 'clipWorker'), { files: { ...files }, options: { ...options } }, 'E_INFERENCE', 'CLIP worker');
    return new ClipThreadSelector(new WorkerChannel<ClipResult>(worker, 'E_INFERENCE', 'CLIP worker'));
  }

  selectByText(text: string, det: Detections, image: RgbImage): Promise<ClipResult> {
    if (this.closed || !this.channel.alive) return Promise.reject(new SegstreamError('E_INFERENCE', 'CLIP selector is closed'));
    if (this.channel.inFlight >= MAX_PENDING) {
      return Promise.reject(new SegstreamError('E_INFERENCE', 'CLIP is busy with earlier text prompts; try again', { expected: `< ${MAX_PENDING} waiting`, actual: this.channel.inFlight }));
    }
    const detections = { boxes: det.boxes, scores: det.scores, classIds: det.classIds, masks: det.masks, trackIds: det.trackIds, predicted: det.predicted };
    const img: RgbImage = { width: image.width, height: image.height, data: image.data, ...(image.letterbox ? { letterbox: image.letterbox } : {}) };
    return this.channel.request((id) => ({ type: 'select', id, text, detections, image: img }) satisfies ClipRequest);
  }

  /** Lets the current request finish, then releases the sessions. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.channel.close();
  }
}
