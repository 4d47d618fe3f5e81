import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { INFERENCE_DEVICES, SegstreamError, type DeviceFailure, type InferenceDevice } from '../core/index.js';

/**
 * Inference devices as the user names them, and what each one is for onnxruntime. Pure and
 * without onnxruntime's native binding (a type import only), so the CLI and the configuration
 * check a device list without loading it; providers.ts creates the sessions, in the worker.
 */

const VALID = INFERENCE_DEVICES.join(', ');

/**
 * `cuda,cpu` (or `['cuda', 'cpu']`) -> the devices in order of preference. Names are trimmed
 * and case-insensitive; unknown, empty or repeated names, and `cpu` anywhere but last (nothing
 * after it would ever be tried), throw E_CONFIG naming the valid devices.
 */
export function parseDeviceList(list: string | readonly string[]): InferenceDevice[] {
  const names = typeof list === 'string' ? list.split(',') : list;
  const out: InferenceDevice[] = [];
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    if (name === '') throw new SegstreamError('E_CONFIG', `empty inference device name in '${String(list)}': valid devices are ${VALID}, comma-separated in order of preference`, { expected: VALID, actual: String(list) });
    if (!(INFERENCE_DEVICES as readonly string[]).includes(name)) {
      throw new SegstreamError('E_CONFIG', `unknown inference device '${raw.trim()}': valid devices are ${VALID}`, { expected: VALID, actual: raw.trim() });
    }
    const device = name as InferenceDevice;
    if (out.includes(device)) throw new SegstreamError('E_CONFIG', `inference device '${device}' is listed twice`, { expected: 'each device once', actual: String(list) });
    if (out.at(-1) === 'cpu') throw new SegstreamError('E_CONFIG', `cpu must be the last inference device: it always loads, so '${device}' after it would never be tried`, { expected: 'cpu last', actual: String(list) });
    out.push(device);
  }
  if (out.length === 0) throw new SegstreamError('E_CONFIG', `no inference device given: valid devices are ${VALID}`, { expected: VALID, actual: '' });
  return out;
}

/**
 * onnxruntime's `executionProviders` for a device. onnxruntime places each graph node on the
 * first provider listed that supports it and the rest on the CPU provider, which is always
 * there: TensorRT takes what it can compile, CUDA the rest, the CPU what neither supports.
 */
export function executionProvidersFor(device: InferenceDevice): InferenceSession.ExecutionProviderConfig[] {
  switch (device) {
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      return ['cuda'];
    case 'tensorrt':
      return ['tensorrt', 'cuda'];
    case 'webgpu':
      return ['webgpu'];
  }
}

/** The onnxruntime execution providers (as its profiles name them) that count as running on the device. */
export function providerNamesOf(device: InferenceDevice): string[] {
  switch (device) {
    case 'cpu':
      return ['CPUExecutionProvider'];
    case 'cuda':
      return ['CUDAExecutionProvider'];
    case 'tensorrt':
      return ['TensorrtExecutionProvider', 'CUDAExecutionProvider'];
    case 'webgpu':
      return ['WebGpuExecutionProvider'];
  }
}

/** The command that adds onnxruntime-node's CUDA/TensorRT providers where it is installed. */
export const CUDA_INSTALL_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js';

/** The provider libraries onnxruntime-node 1.30 loads for a device on Linux (not in its npm package: an install option). */
const PROVIDER_LIBRARIES: Partial<Record<InferenceDevice, string[]>> = {
  cuda: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  tensorrt: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so'],
};

/** onnxruntime-node's native folder (where its postinstall puts the CUDA providers), or undefined. */
function onnxruntimeBinFolder(): string | undefined {
  try {
    const index = createRequire(import.meta.url).resolve('onnxruntime-node');
    return join(dirname(dirname(index)), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** The device's provider libraries missing from onnxruntime-node's folder; [] when all are there or the device needs none; undefined off Linux. */
export function missingProviderLibraries(device: InferenceDevice): string[] | undefined {
  const libs = PROVIDER_LIBRARIES[device];
  if (!libs) return [];
  const bin = onnxruntimeBinFolder();
  if (bin === undefined || process.platform !== 'linux') return undefined;
  return libs.filter((l) => !existsSync(join(bin, l)));
}

/** What a device needs and how to get it: the second half of every "cannot use <device>" message. */
export function deviceAdvice(device: InferenceDevice): string {
  if (device === 'cpu') return 'the CPU provider is part of onnxruntime-node';
  if (device === 'webgpu') return "onnxruntime-node's Linux build carries the WebGPU provider, but it needs a GPU adapter (on Linux a GPU with a Vulkan driver)";
  const gpu = device === 'tensorrt' ? 'an NVIDIA GPU with CUDA 12, cuDNN 9 and TensorRT' : 'an NVIDIA GPU with CUDA 12 and cuDNN 9';
  const missing = missingProviderLibraries(device);
  if (missing === undefined) return `it needs onnxruntime-node's CUDA build (install option --onnxruntime-node-install=cuda12) and ${gpu}`;
  if (missing.length > 0) {
    return `onnxruntime-node's ${device === 'tensorrt' ? 'TensorRT and CUDA providers are' : 'CUDA provider is'} not installed here (${missing.join(', ')} missing): it is an install option, \`${CUDA_INSTALL_COMMAND}\` (its postinstall, which \`npm install onnxruntime-node --onnxruntime-node-install=cuda12\` runs where npm runs install scripts), and needs ${gpu}`;
  }
  return `onnxruntime-node's provider libraries are installed, but it needs ${gpu} (their libraries on the library path)`;
}

/**
 * onnxruntime's error message as a one-line reason: its source-location prefix
 * (`/onnxruntime_src/...cc:136 <function> <check> was false.`) dropped, white space collapsed,
 * at most 300 characters.
 */
export function failureReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const short = message.replace(/^\/onnxruntime_src\/\S+:\d+ [\s\S]*? was false\.\s*/, '').replace(/\s+/g, ' ').trim();
  return short.length > 300 ? `${short.slice(0, 299)}…` : short || 'unknown error';
}

/** The start-up error when no requested device could be used (none of them was the CPU). */
export function deviceUnavailableError(requested: readonly InferenceDevice[], failures: readonly DeviceFailure[]): SegstreamError {
  const each = failures.map((f) => `${failures.length > 1 ? `${f.device}: ` : ''}${f.reason}; ${deviceAdvice(f.device)}`).join(' | ');
  const hint = `add cpu to fall back to it, e.g. --device ${requested.join(',')},cpu (inference.device: ${requested.join(',')},cpu)`;
  return new SegstreamError('E_DEVICE_UNAVAILABLE', `cannot run inference on ${requested.join(' or ')}: ${each}; or ${hint}`, {
    expected: `one of ${requested.join(', ')} usable`,
    actual: failures.map((f) => `${f.device}: ${f.reason}`),
  });
}
