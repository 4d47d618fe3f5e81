/**
 * Inference devices: the names users give (`--device`, `inference.device`) and what the engine
 * reports it runs on. Plain data, no imports: the protocol (and the browser build) use it too.
 */
export const INFERENCE_DEVICES = ['cpu', 'cuda', 'tensorrt', 'webgpu'] as const;
export type InferenceDevice = (typeof INFERENCE_DEVICES)[number];

/** A requested device that could not be used, with onnxruntime's reason. */
export interface DeviceFailure {
  device: InferenceDevice;
  reason: string;
}

/** The device inference runs on after start-up, and how it was chosen. */
export interface InferenceDeviceInfo {
  /** The device every inference worker runs on. */
  device: InferenceDevice;
  /** The devices asked for, in order of preference. */
  requested: InferenceDevice[];
  /** The requested devices tried before `device`, each with why it could not be used (empty: the first one runs). */
  unavailable: DeviceFailure[];
  /**
   * Graph nodes per onnxruntime execution provider in the start-up probe run (GPU devices
   * only; onnxruntime puts nodes a provider does not support on the CPU without saying so).
   */
  nodes?: Record<string, number>;
}
