import type { ChannelReply, InferenceDeviceInfo, InferenceDevice, Letterbox, WorkerHello } from '../core/index.js';
import type { DecodeOptions, OutputLayout, RawDetections } from './candidates.js';

/** Messages between the main thread and an inference worker (structured clone + transfer). */
export interface WorkerInit {
  modelBytes: Uint8Array;
  modelPath: string;
  inputName: string;
  detName: string;
  protoName: string;
  inputWidth: number;
  inputHeight: number;
  /** Prototype output size, px. */
  protoWidth: number;
  protoHeight: number;
  /** Largest batch one session.run may take (1 for a static batch-1 model). */
  maxBatch: number;
  layout: OutputLayout;
  decode: DecodeOptions;
  /** onnxruntime intra-op threads for this worker's session. */
  threads: number;
  /** Devices to try in order (providers.ts); the first that works runs. */
  devices: InferenceDevice[];
}

/** One picture to letterbox and run: packed RGB of `letterbox.frameWidth` x `letterbox.frameHeight`. */
export interface WorkerImage {
  data: Uint8Array;
  letterbox: Letterbox;
}
/** What a worker's 'ready' says: the device its session runs on and the ones that failed before it. */
export type WorkerReadyInfo = Omit<InferenceDeviceInfo, 'requested'>;

export type WorkerRequest =
  /**
   * `recycled`: prototype buffers of earlier batches the main thread is done with (transferred
   * back, so the worker's outputs are not allocated anew for every batch).
   */
  | { type: 'run'; id: number; images: WorkerImage[]; recycled: ArrayBuffer[] }
  /** Finish the current run, release the session and exit. */
  | { type: 'close' };

export interface ImageResult {
  raw: RawDetections;
  /**
   * This image's prototypes, [numMasks, protoHeight, protoWidth]: a view into its batch's
   * output buffer (shared by the batch's images; hand it back with InferenceEngine.recycle).
   */
  protos: Float32Array;
}

export interface BatchTimings {
  /** ms spent letterboxing the pictures into the float tensor. */
  preprocessMs: number;
  /** ms inside session.run. */
  inferenceMs: number;
  /** ms for confidence filtering + NMS. */
  postprocessMs: number;
}

/** One batch's outcome, as the worker sends it back. */
export interface BatchOutput {
  images: ImageResult[];
  timings: BatchTimings;
  /** The input buffers, handed back by the worker. */
  inputs: Uint8Array[];
}

export type WorkerReply = WorkerHello<WorkerReadyInfo> | ChannelReply<BatchOutput>;
