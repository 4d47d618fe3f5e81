import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DeviceFailure, InferenceDevice } from '../core/index.js';
import { deviceUnavailableError, executionProvidersFor, failureReason, providerNamesOf } from './devices.js';

/**
 * One onnxruntime session on the first requested device that works. It loads onnxruntime's
 * native binding, so only the inference worker imports it (the pipeline's index does not).
 *
 * A device "works" when its session is created and, for a GPU device, one run on zero inputs
 * (each of the model's inputs, of its own type and shape, symbolic dimensions 1) succeeds with
 * at least one graph node on the device's provider: onnxruntime reports a missing provider
 * library or GPU adapter at creation, but other faults only at the first run, and it places
 * the nodes a provider does not support on the CPU without a word, so that run is profiled
 * and its nodes counted per provider.
 */

export interface DeviceSession {
  session: ort.InferenceSession;
  device: InferenceDevice;
  /** The devices tried before `device`, with onnxruntime's reason for each. */
  unavailable: DeviceFailure[];
  /** Graph nodes per execution provider in the probe run (GPU devices only). */
  nodes?: Record<string, number>;
}

export type SessionOptionsBase = Omit<ort.InferenceSession.SessionOptions, 'executionProviders' | 'enableProfiling' | 'profileFilePrefix'>;

/**
 * Tries `devices` in order. Throws E_DEVICE_UNAVAILABLE (reasons and how to get each device)
 * when none of them works and none was the CPU; when the CPU itself fails, onnxruntime's own
 * error (the model cannot be loaded at all: the caller's E_MODEL_CORRUPT).
 */
export async function createDeviceSession(devices: readonly InferenceDevice[], model: Uint8Array, options: SessionOptionsBase): Promise<DeviceSession> {
  const unavailable: DeviceFailure[] = [];
  for (const device of devices) {
    if (device === 'cpu') {
      const session = await ort.InferenceSession.create(model, { ...options, executionProviders: executionProvidersFor('cpu') });
      return { session, device, unavailable };
    }
    const profileDir = mkdtempSync(join(tmpdir(), 'segstream-probe-'));
    let session: ort.InferenceSession | undefined;
    try {
      session = await ort.InferenceSession.create(model, { ...options, executionProviders: executionProvidersFor(device), enableProfiling: true, profileFilePrefix: join(profileDir, 'probe') });
      const nodes = await probeRun(session, profileDir);
      const on = providerNamesOf(device).reduce((n, p) => n + (nodes[p] ?? 0), 0);
      if (on === 0) throw new Error(`onnxruntime ran every node of the probe run elsewhere (${describeNodes(nodes)}), none on ${providerNamesOf(device).join(' or ')}`);
      return { session, device, unavailable, nodes };
    } catch (err) {
      await session?.release().catch(() => undefined);
      unavailable.push({ device, reason: failureReason(err) });
    } finally {
      rmSync(profileDir, { recursive: true, force: true });
    }
  }
  throw deviceUnavailableError(devices, unavailable);
}

/** One run on zero inputs of a session created with profiling on; profiling ends with it. Nodes counted per provider. */
export async function probeRun(session: ort.InferenceSession, profileDir: string): Promise<Record<string, number>> {
  await session.run(zeroFeeds(session));
  session.endProfiling();
  const file = readdirSync(profileDir).find((f) => f.endsWith('.json'));
  if (file === undefined) throw new Error('onnxruntime wrote no profile for the probe run');
  return nodesPerProvider(JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as unknown);
}

/** A zero tensor for every input of the session: its own type and shape, symbolic dimensions 1. */
export function zeroFeeds(session: ort.InferenceSession): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of session.inputMetadata) {
    if (!input.isTensor) throw new Error(`probe run: input ${input.name} is not a tensor`);
    const dims = input.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
    const size = dims.reduce((a, b) => a * b, 1);
    feeds[input.name] = new ort.Tensor(input.type, zeros(input.type, size), dims);
  }
  return feeds;
}

function zeros(type: ort.Tensor.Type, size: number): ort.Tensor.DataType {
  switch (type) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'float16':
    case 'uint16':
      return new Uint16Array(size);
    case 'int16':
      return new Int16Array(size);
    case 'uint8':
    case 'bool':
      return new Uint8Array(size);
    case 'int8':
      return new Int8Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'uint32':
      return new Uint32Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'uint64':
      return new BigUint64Array(size);
    default:
      throw new Error(`probe run: no zero input of type ${type}`);
  }
}

/** onnxruntime profile events -> kernel runs per execution provider (`args.provider` of each `Node` event that timed a kernel). */
export function nodesPerProvider(events: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!Array.isArray(events)) return out;
  for (const e of events as { cat?: unknown; name?: unknown; args?: { provider?: unknown } }[]) {
    if (e.cat !== 'Node' || typeof e.name !== 'string' || !e.name.endsWith('_kernel_time')) continue;
    const provider = e.args?.provider;
    if (typeof provider === 'string') out[provider] = (out[provider] ?? 0) + 1;
  }
  return out;
}

export function describeNodes(nodes: Record<string, number>): string {
  const entries = Object.entries(nodes);
  return entries.length === 0 ? 'no node events' : entries.map(([p, n]) => `${n} on ${p}`).join(', ');
}
