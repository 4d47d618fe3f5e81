import { describe, expect, it } from 'vitest';
import { INFERENCE_DEVICES } from '../../../src/core/index.js';
import { deviceAdvice, deviceUnavailableError, executionProvidersFor, failureReason, missingProviderLibraries, parseDeviceList, providerNamesOf } from '../../../src/pipeline/index.js';
import { thrownSegstreamError } from '../../helpers/errors.js';

describe('parseDeviceList', () => {
  it('reads one device or a comma list in order of preference, trimmed and case-insensitive', () => {
    expect(parseDeviceList('cpu')).toEqual(['cpu']);
    expect(parseDeviceList('cuda,cpu')).toEqual(['cuda', 'cpu']);
    expect(parseDeviceList(' TensorRT , cuda,CPU ')).toEqual(['tensorrt', 'cuda', 'cpu']);
    expect(parseDeviceList(['webgpu', 'cpu'])).toEqual(['webgpu', 'cpu']);
    for (const d of INFERENCE_DEVICES) expect(parseDeviceList(d)).toEqual([d]);
  });

  it.each([
    ['gpu', /unknown inference device 'gpu': valid devices are cpu, cuda, tensorrt, webgpu/],
    ['cuda,gpu0', /unknown inference device 'gpu0': valid devices are cpu, cuda, tensorrt, webgpu/],
    ['dml', /unknown inference device 'dml'/],
    ['', /empty inference device name .*valid devices are cpu, cuda, tensorrt, webgpu/],
    ['cuda,,cpu', /empty inference device name/],
    ['cuda,', /empty inference device name/],
    ['cuda,cuda', /'cuda' is listed twice/],
    ['cpu,cuda', /cpu must be the last inference device: .*'cuda' after it would never be tried/],
  ])('rejects %j with E_CONFIG naming the problem and the valid devices', (list, message) => {
    const err = thrownSegstreamError(() => parseDeviceList(list));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toMatch(message);
  });

  it('an empty list is refused too', () => {
    expect(thrownSegstreamError(() => parseDeviceList([])).message).toMatch(/no inference device given: valid devices are cpu, cuda, tensorrt, webgpu/);
  });
});

describe('what each device is for onnxruntime', () => {
  it('maps devices to executionProviders: tensorrt with CUDA behind it', () => {
    expect(INFERENCE_DEVICES.map((d) => executionProvidersFor(d))).toEqual([['cpu'], ['cuda'], ['tensorrt', 'cuda'], ['webgpu']]);
  });

  it('names the providers a profile shows for each device', () => {
    expect(INFERENCE_DEVICES.map((d) => providerNamesOf(d))).toEqual([
      ['CPUExecutionProvider'],
      ['CUDAExecutionProvider'],
      ['TensorrtExecutionProvider', 'CUDAExecutionProvider'],
      ['WebGpuExecutionProvider'],
    ]);
  });
});

describe('failure messages', () => {
  it("keeps onnxruntime's reason on one line without its source location", () => {
    const webgpu = new Error(
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n',
    );
    expect(failureReason(webgpu)).toBe('Failed to get a WebGPU adapter: No supported adapters');
    expect(failureReason(new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'))).toBe('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
    expect(failureReason(new Error('x'.repeat(1000))).length).toBe(300);
    expect(failureReason(new Error(''))).toBe('unknown error');
  });

  it('says how to get CUDA: the provider files this installation lacks and the install command', () => {
    // This machine's onnxruntime-node is installed without its CUDA build (.npmrc: skip).
    expect(missingProviderLibraries('cuda')).toEqual(['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']);
    expect(missingProviderLibraries('cpu')).toEqual([]);
    expect(missingProviderLibraries('webgpu')).toEqual([]);
    const cuda = deviceAdvice('cuda');
    expect(cuda).toContain('libonnxruntime_providers_cuda.so');
    expect(cuda).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js');
    expect(cuda).toContain('--onnxruntime-node-install=cuda12');
    expect(cuda).toContain('CUDA 12 and cuDNN 9');
    expect(deviceAdvice('tensorrt')).toMatch(/TensorRT and CUDA providers are not installed.*libonnxruntime_providers_tensorrt\.so.*TensorRT/);
    expect(deviceAdvice('webgpu')).toMatch(/carries the WebGPU provider, but it needs a GPU adapter .*Vulkan/);
  });

  it('E_DEVICE_UNAVAILABLE gives each reason, the advice and the fallback to add', () => {
    const one = deviceUnavailableError(['cuda'], [{ device: 'cuda', reason: 'Failed to load shared library' }]);
    expect(one.code).toBe('E_DEVICE_UNAVAILABLE');
    expect(one.message).toMatch(/^cannot run inference on cuda: Failed to load shared library; onnxruntime-node's CUDA provider is not installed here/);
    expect(one.message).toMatch(/add cpu to fall back to it, e\.g\. --device cuda,cpu \(inference\.device: cuda,cpu\)$/);
    expect(one.actual).toEqual(['cuda: Failed to load shared library']);
    const two = deviceUnavailableError(['webgpu', 'cuda'], [
      { device: 'webgpu', reason: 'no adapter' },
      { device: 'cuda', reason: 'no library' },
    ]);
    expect(two.message).toMatch(/^cannot run inference on webgpu or cuda: webgpu: no adapter; .* \| cuda: no library; .*--device webgpu,cuda,cpu/);
  });
});
