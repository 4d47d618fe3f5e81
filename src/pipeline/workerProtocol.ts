import type { ChannelReply, InferenceDeviceInfo, InferenceDevice, WorkerHello } from '../core/index.js';
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
  /** Largest batch one session.run may take (1 for a static batch-1 model). */
  maxBatch: number;
  layout: OutputLayout;
  decode: DecodeOptions;
  /** onnxruntime intra-op threads for this worker's session. */
  threads: number;
  /** Devices to try in order (providers.ts); the first that works runs. */
  devices: InferenceDevice[];
}

/** What a worker's 'ready' says: the device its session runs on and the ones that failed before it. */
export type WorkerReadyInfo = Omit<InferenceDeviceInfo, 'requested'>;

export type WorkerRequest =
  | { type: 'run'; id: number; images: Uint8Array[] }
  /** Finish the current run, release the session and exit. */
  | { type: 'close' };

export interface ImageResult {
  raw: RawDetections;
  /** This image's prototypes, [numMasks, protoHeight, protoWidth]. */
  protos: Float32Array;
}

export interface BatchTimings {
  /** ms spent converting bytes to the float tensor. */
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
