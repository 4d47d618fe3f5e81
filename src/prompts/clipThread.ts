import type { Worker } from 'node:worker_threads';
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
  /** Replacement worker being started after the previous one died. */
  private restarting: Promise<WorkerChannel<ClipResult>> | undefined;

  private constructor(
    private channel: WorkerChannel<ClipResult>,
    private readonly files: ClipFiles,
    private readonly options: ClipOptions,
  ) {}

  /** Loads the encoders in a new worker; rejects with the loader's error (E_MODEL_*). */
  static async load(files: ClipFiles, options: ClipOptions = {}): Promise<ClipThreadSelector> {
    return new ClipThreadSelector(await ClipThreadSelector.start(files, options), files, options);
  }

  private static async start(files: ClipFiles, options: ClipOptions): Promise<WorkerChannel<ClipResult>> {
    const worker = await startModuleWorker(siblingModule(import.meta.url, 'clipWorker'), { files: { ...files }, options: { ...options } }, 'E_INFERENCE', 'CLIP worker');
    return new WorkerChannel<ClipResult>(worker, 'E_INFERENCE', 'CLIP worker');
  }

  /** The live worker's channel; a worker that died is replaced on the next prompt. */
  private async live(): Promise<WorkerChannel<ClipResult>> {
    if (this.channel.alive) return this.channel;
    this.restarting ??= ClipThreadSelector.start(this.files, this.options).finally(() => (this.restarting = undefined));
    this.channel = await this.restarting;
    return this.channel;
  }

  async selectByText(text: string, det: Detections, image: RgbImage): Promise<ClipResult> {
    if (this.closed) throw new SegstreamError('E_INFERENCE', 'CLIP selector is closed');
    const channel = await this.live();
    if (channel.inFlight >= MAX_PENDING) {
      throw new SegstreamError('E_INFERENCE', 'CLIP is busy with earlier text prompts; try again', { expected: `< ${MAX_PENDING} waiting`, actual: channel.inFlight });
    }
    const detections = { boxes: det.boxes, scores: det.scores, classIds: det.classIds, masks: det.masks, trackIds: det.trackIds, predicted: det.predicted };
    const img: RgbImage = { width: image.width, height: image.height, data: image.data, ...(image.letterbox ? { letterbox: image.letterbox } : {}) };
    return channel.request((id) => ({ type: 'select', id, text, detections, image: img }) satisfies ClipRequest);
  }

  /** Lets the current request finish, then releases the sessions. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = this.restarting;
    await this.channel.close();
    if (pending) await (await pending.catch(() => undefined))?.close();
  }

  /** The worker thread, for tests that need to crash it. */
  get worker(): Worker {
    return this.channel.worker;
  }
}
