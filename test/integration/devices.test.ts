import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { computeLetterbox, SegstreamError } from '../../src/core/index.js';
import { defaultEngineOptions, InferenceEngine, missingProviderLibraries, readModelFile, type EngineOptions } from '../../src/pipeline/index.js';
import { createDeviceSession, nodesPerProvider, probeRun, zeroFeeds } from '../../src/pipeline/providers.js';
import { TestClient } from '../helpers/wsClient.js';

// Real onnxruntime-node 1.30 on this machine: no GPU, and its CUDA build not installed
// (.npmrc: onnxruntime-node-install=skip). What each device does here is what these tests pin.

const ROOT = join(import.meta.dirname, '../..');
const SHARED = join(ROOT, '../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');
const DIR = mkdtempSync(join(tmpdir(), 'segstream-devices-'));
const OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' } as const;
const CUDA_INSTALLED = missingProviderLibraries('cuda')?.length === 0;
const engines: InferenceEngine[] = [];
const modelBytes = (): Uint8Array => new Uint8Array(readFileSync(MODEL));
/** What a WebGPU session does on this machine: tried once, here. */
const WEBGPU: unknown = await createDeviceSession(['webgpu'], modelBytes(), OPTIONS).then(
  async (got) => {
    await got.session.release();
    return got;
  },
  (err: unknown) => err,
);
const WEBGPU_WORKS = !(WEBGPU instanceof Error);

afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  rmSync(DIR, { recursive: true, force: true });
});


async function rejection(p: Promise<unknown>): Promise<SegstreamError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SegstreamError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

/** One real inference on a zero frame: the session computes (output0 is [1,116,2100]). */
async function runsOnce(session: ort.InferenceSession): Promise<void> {
  const out = await session.run({ images: new ort.Tensor('float32', new Float32Array(3 * 320 * 320), [1, 3, 320, 320]) });
  expect(out['output0']!.dims).toEqual([1, 116, 2100]);
}

describe('createDeviceSession (real onnxruntime)', () => {
  it.skipIf(CUDA_INSTALLED)('cuda: onnxruntime cannot load its provider; E_DEVICE_UNAVAILABLE says which files are missing and how to install them', async () => {
    const err = await rejection(createDeviceSession(['cuda'], modelBytes(), OPTIONS));
    expect(err.code).toBe('E_DEVICE_UNAVAILABLE');
    expect(err.message).toMatch(/^cannot run inference on cuda: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library; /);
    expect(err.message).toContain("onnxruntime-node's CUDA provider is not installed here (libonnxruntime_providers_shared.so, libonnxruntime_providers_cuda.so missing)");
    expect(err.message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js');
    expect(err.message).toContain('npm install onnxruntime-node --onnxruntime-node-install=cuda12');
    expect(err.message).toContain('--device cuda,cpu');
    expect(err.actual).toEqual(['cuda: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library']);
  });

  it.skipIf(CUDA_INSTALLED)('tensorrt: the same, naming the TensorRT provider', async () => {
    const err = await rejection(createDeviceSession(['tensorrt'], modelBytes(), OPTIONS));
    expect(err.code).toBe('E_DEVICE_UNAVAILABLE');
    expect(err.message).toMatch(/^cannot run inference on tensorrt: OrtSessionOptionsAppendExecutionProvider_TensorRT: Failed to load shared library; .*libonnxruntime_providers_tensorrt\.so/);
  });

  it.skipIf(WEBGPU_WORKS)('webgpu: without a GPU adapter the session is not created (an error, not a silent CPU run)', () => {
    expect(WEBGPU).toBeInstanceOf(SegstreamError);
    const e = WEBGPU as SegstreamError;
    expect(e.code).toBe('E_DEVICE_UNAVAILABLE');
    expect(e.message).toMatch(/^cannot run inference on webgpu: Failed to get a WebGPU adapter: No supported adapters; onnxruntime-node's Linux build carries the WebGPU provider, but it needs a GPU adapter \(on Linux a GPU with a Vulkan driver\)/);
  });

  it.runIf(WEBGPU_WORKS)('webgpu with an adapter: the probe counted nodes on the WebGPU provider', () => {
    expect(WEBGPU).toMatchObject({ device: 'webgpu', unavailable: [] });
    expect((WEBGPU as { nodes: Record<string, number> }).nodes['WebGpuExecutionProvider']).toBeGreaterThan(0);
  });

  it.skipIf(WEBGPU_WORKS || CUDA_INSTALLED)('a list falls back in order: webgpu, cuda, then the CPU, whose session computes; each failure is kept with its reason', async () => {
    const got = await createDeviceSession(['webgpu', 'cuda', 'cpu'], modelBytes(), OPTIONS);
    try {
      expect(got.device).toBe('cpu');
      expect(got.unavailable).toEqual([
        { device: 'webgpu', reason: 'Failed to get a WebGPU adapter: No supported adapters' },
        { device: 'cuda', reason: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library' },
      ]);
      expect(got.nodes).toBeUndefined();
      await runsOnce(got.session);
    } finally {
      await got.session.release();
    }
  });

  it("the CPU's own failure is onnxruntime's error, not E_DEVICE_UNAVAILABLE (the caller reports the model)", async () => {
    const broken = new TextEncoder().encode('not an onnx model at all'.repeat(20));
    await expect(createDeviceSession(['cuda', 'cpu'], broken, OPTIONS)).rejects.not.toBeInstanceOf(SegstreamError);
  });

  it("the probe runs on zero inputs shaped as the model's, and its profile counts the nodes per execution provider (here on the CPU provider: all of them)", async () => {
    const dir = mkdtempSync(join(DIR, 'profile-'));
    const session = await ort.InferenceSession.create(modelBytes(), { ...OPTIONS, executionProviders: ['cpu'], enableProfiling: true, profileFilePrefix: join(dir, 'probe') });
    try {
      // The probe's input: the model's own, its symbolic batch dimension 1.
      const feeds = zeroFeeds(session);
      expect(Object.keys(feeds)).toEqual(['images']);
      expect([feeds['images']!.type, feeds['images']!.dims]).toEqual(['float32', [1, 3, 320, 320]]);
      const nodes = await probeRun(session, dir);
      expect(Object.keys(nodes)).toEqual(['CPUExecutionProvider']);
      expect(nodes['CPUExecutionProvider']).toBeGreaterThan(100);
      // Profiling ended with the probe: later runs add nothing to the profile.
      const profile = (): number => (JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')) as unknown[]).length;
      const events = profile();
      await runsOnce(session);
      await session.release();
      expect([readdirSync(dir).length, profile()]).toEqual([1, events]);
    } finally {
      await session.release().catch(() => undefined);
    }
    expect(nodesPerProvider('not events')).toEqual({});
    expect(nodesPerProvider([{ cat: 'Session', name: 'model_run' }, { cat: 'Node', name: 'Conv_kernel_time', args: { provider: 'X' } }, { cat: 'Node', name: 'Conv_fence_before', args: { provider: 'X' } }])).toEqual({ X: 1 });
  });
});

describe('InferenceEngine on a device list (worker threads)', () => {
  const options = (devices: EngineOptions['devices'], workers = 1): EngineOptions => ({ ...defaultEngineOptions(), threadsPerWorker: 1, workers, devices });

  it.skipIf(CUDA_INSTALLED)('cuda,cpu: the first worker falls back to the CPU, the second starts there directly; engine.device says so, and inference runs', async () => {
    const { bytes, info } = await readModelFile(MODEL);
    const engine = await InferenceEngine.create(info, bytes, options(['cuda', 'cpu'], 2));
    engines.push(engine);
    expect(engine.workerCount).toBe(2);
    expect(engine.device).toEqual({
      device: 'cpu',
      requested: ['cuda', 'cpu'],
      unavailable: [{ device: 'cuda', reason: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library' }],
    });
    const out = await engine.run([{ data: new Uint8Array(640 * 480 * 3).fill(114), letterbox: computeLetterbox(640, 480, 320, 320) }]);
    expect(out.images).toHaveLength(1);
  });

  it('the default, cpu: no fallback', async () => {
    const { bytes, info } = await readModelFile(MODEL);
    const engine = await InferenceEngine.create(info, bytes, options(['cpu']));
    engines.push(engine);
    expect(engine.device).toEqual({ device: 'cpu', requested: ['cpu'], unavailable: [] });
  });

  it.skipIf(CUDA_INSTALLED)('cuda alone: start-up fails with E_DEVICE_UNAVAILABLE from the worker', async () => {
    const { bytes, info } = await readModelFile(MODEL);
    const err = await rejection(InferenceEngine.create(info, bytes, options(['cuda'])));
    expect(err.code).toBe('E_DEVICE_UNAVAILABLE');
    expect(err.message).toContain('--onnxruntime-node-install=cuda12');
  });
});

// ---- the CLI: real processes, sockets and HTTP ----

const CLI = ['--import', 'tsx', join(ROOT, 'src/cli.ts')];

interface Started {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function segstream(args: string[]): Started {
  const child = spawn(process.execPath, [...CLI, 'run', '--model', MODEL, '--port', '0', '--host', '127.0.0.1', '--threads', '1', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

/** The port of the "listening" log line. */
async function listening(s: Started): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = s.stderr().match(/"port":(\d+)[^\n]*listening/);
    if (m) return Number(m[1]);
    if (s.child.exitCode !== null || Date.now() > deadline) throw new Error(`not listening (exit ${s.child.exitCode}): ${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The JSON log lines (pino, stderr); onnxruntime's and Dawn's own stderr lines are not JSON. */
function logLines(stderr: string): Record<string, unknown>[] {
  return stderr.split('\n').flatMap((l) => {
    if (!l.startsWith('{')) return [];
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** A start-up that must fail: exit code and the `segstream: E_...` line. */
async function failedStart(args: string[]): Promise<{ code: number | null; line: string | undefined; stderr: string }> {
  const s = segstream(['--source', CLIP, ...args]);
  const code = await s.exited;
  return { code, line: s.stderr().split('\n').find((l) => l.startsWith('segstream: ')), stderr: s.stderr() };
}

/** hello, /metrics, /healthz and a few frames of a running service. */
async function observe(port: number): Promise<{ hello: Record<string, unknown>; metrics: string; health: Record<string, unknown>; frames: number }> {
  const c = await TestClient.connect(port);
  try {
    const hello = await c.next((m) => m.type === 'hello');
    const frames = (await c.frames(3)).length;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<string, unknown>;
    return { hello, metrics, health, frames };
  } finally {
    c.close();
  }
}

describe('segstream run --device', () => {
  it.skipIf(CUDA_INSTALLED)('--device cuda: start-up fails with exit 2 and E_DEVICE_UNAVAILABLE naming how to install the CUDA build', async () => {
    const r = await failedStart(['--device', 'cuda']);
    expect(r.code).toBe(2);
    expect(r.line).toMatch(/^segstream: E_DEVICE_UNAVAILABLE: cannot run inference on cuda: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library; /);
    expect(r.line).toContain('npm install onnxruntime-node --onnxruntime-node-install=cuda12');
    expect(r.line).toContain('NVIDIA GPU with CUDA 12 and cuDNN 9');
    expect(r.stderr).not.toContain('listening');
  });

  it.skipIf(WEBGPU_WORKS)('--device webgpu: without a GPU adapter, start-up fails with exit 2 saying it needs one', async () => {
    const r = await failedStart(['--device', 'webgpu']);
    expect(r.code).toBe(2);
    expect(r.line).toMatch(/^segstream: E_DEVICE_UNAVAILABLE: cannot run inference on webgpu: Failed to get a WebGPU adapter: No supported adapters; .*needs a GPU adapter \(on Linux a GPU with a Vulkan driver\)/);
  });

  it('an unknown device is E_CONFIG, exit 2, naming the valid devices, before the model loads', async () => {
    const r = await failedStart(['--device', 'cuda,gpu']);
    expect(r.code).toBe(2);
    expect(r.line).toBe("segstream: E_CONFIG: invalid configuration: inference.device: unknown inference device 'gpu': valid devices are cpu, cuda, tensorrt, webgpu");
    expect(r.stderr).not.toContain('model loaded');
  });

  it.skipIf(CUDA_INSTALLED)('--device cuda,cpu: starts on the CPU, logs the fallback with the reason, and hello, /metrics and /healthz show it while frames flow', async () => {
    const s = segstream(['--source', CLIP, '--loop', '--device', 'cuda,cpu']);
    try {
      const port = await listening(s);
      const seen = await observe(port);
      const warn = logLines(s.stderr()).find((l) => l['level'] === 40 && l['device'] === 'cuda');
      expect(warn).toMatchObject({
        msg: 'inference device cuda cannot be used, falling back to cpu: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
        reason: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
        requested: 'cuda,cpu',
        using: 'cpu',
      });
      expect(String(warn!['advice'])).toContain('--onnxruntime-node-install=cuda12');
      expect(logLines(s.stderr()).find((l) => l['msg'] === 'model loaded')).toMatchObject({ device: 'cpu' });
      const inference = { device: 'cpu', requested: ['cuda', 'cpu'], unavailable: [{ device: 'cuda', reason: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library' }] };
      expect(seen.hello['inference']).toEqual(inference);
      expect(seen.metrics).toContain('segstream_inference_device_info{device="cpu",requested="cuda,cpu",unavailable="cuda"} 1');
      expect(seen.health['inference']).toEqual(inference);
      expect(seen.frames).toBe(3);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it.skipIf(WEBGPU_WORKS)('inference.device in the configuration file works the same (webgpu,cpu: the CPU here); the default shows no fallback', async () => {
    const file = join(DIR, 'segstream.yaml');
    writeFileSync(file, `inference:\n  device: webgpu,cpu\ncameras:\n  - id: gate\n    url: ${CLIP}\n    loop: true\n`);
    const s = segstream(['--config', file]);
    try {
      const port = await listening(s);
      const seen = await observe(port);
      const inference = seen.hello['inference'] as { device: string; requested: string[]; unavailable: { device: string; reason: string }[] };
      expect(inference).toEqual({ device: 'cpu', requested: ['webgpu', 'cpu'], unavailable: [{ device: 'webgpu', reason: 'Failed to get a WebGPU adapter: No supported adapters' }] });
      expect(seen.metrics).toContain('segstream_inference_device_info{device="cpu",requested="webgpu,cpu",unavailable="webgpu"} 1');
      expect(logLines(s.stderr()).some((l) => l['level'] === 40 && l['msg'] === 'inference device webgpu cannot be used, falling back to cpu: Failed to get a WebGPU adapter: No supported adapters')).toBe(true);
      expect(seen.frames).toBe(3);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    // The default: the CPU, nothing unavailable.
    const plain = segstream(['--source', CLIP, '--loop']);
    try {
      const seen = await observe(await listening(plain));
      expect(seen.hello['inference']).toEqual({ device: 'cpu', requested: ['cpu'], unavailable: [] });
      expect(seen.metrics).toContain('segstream_inference_device_info{device="cpu",requested="cpu",unavailable=""} 1');
    } finally {
      plain.child.kill('SIGTERM');
      await plain.exited;
    }
  });
});
