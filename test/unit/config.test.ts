import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { engineOptions, liveTrackerOptions, parseConfig, resolveCameras, SECTIONS, type ConfigInput } from '../../src/config/index.js';
import type { SegstreamError } from '../../src/core/errors.js';
import { parseTrackerOptions } from '../../src/tracking/index.js';
import { thrownSegstreamError } from '../helpers/errors.js';

const DIR = mkdtempSync(join(tmpdir(), 'segstream-config-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
const CA = join(DIR, 'ca.pem');
writeFileSync(CA, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
const VIDEO = join(DIR, 'clip.mp4');
writeFileSync(VIDEO, 'not really a video: only its kind (a regular file) is checked');

const cam = (id: string, extra: Record<string, unknown> = {}) => ({ id, url: `rtsp://10.0.0.1/${id}`, ...extra });

function configError(input: unknown): SegstreamError {
  return thrownSegstreamError(() => parseConfig(input));
}

/** The error names `field` first: `invalid configuration: <field>: ...`. */
function expectFieldError(input: unknown, field: string, code: 'E_CONFIG' | 'E_SOURCE_REFUSED' = 'E_CONFIG'): SegstreamError {
  const err = configError(input);
  expect(err.code).toBe(code);
  expect(err.message).toMatch(new RegExp(`^invalid configuration: ${field.replace(/[.[\]]/g, '\\$&')}: `));
  return err;
}

describe('parseConfig: defaults', () => {
  it('an empty configuration gets every section with every default, and no cameras', () => {
    expect(parseConfig({})).toEqual({
      server: { host: '0.0.0.0', port: 8080, maxMessageBytes: 16 * 1024, maxBufferedBytes: 4 * 1024 * 1024, slowClientTimeoutMs: 10_000, slowClientCloseGraceMs: 10_000, maxClients: 256, whep: true, whepMaxViewersPerCamera: 16, whepMaxViewers: 64, heartbeatIntervalMs: 15_000, allowOrigins: [], allowHosts: [] },
      inference: { device: 'cpu', workers: 0, threads: 0, batch: 8, batchWaitMs: 0, confidence: 0.25, iou: 0.7, agnosticNms: false, maxDetections: 300 },
      tracking: { enabled: true, highScore: 0.5, newScore: 0.6, maxAge: 1, targetMemory: 10, cameraMotion: false },
      ingest: { realtime: true, loop: false, networkTimeoutS: 10, stallTimeoutS: 15, reconnectMinMs: 1000, reconnectMaxMs: 30_000, fastRetryWindowMs: 30_000, tlsVerify: true, mediaRoots: [], maxCameras: 64, inferenceMaxWidth: 1280, displayMaxWidth: 1280, displayRingFrames: 8, motionGate: { enabled: false, threshold: 10, minChangedShare: 0.002, maxSkipS: 1 } },
      events: {
        maxAgeDays: 30,
        maxBytes: 1 << 30,
        endSeconds: 2,
        minOverlap: 0.25,
        expectedClasses: ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'train', 'truck', 'traffic light', 'stop sign', 'fire hydrant', 'parking meter'],
        snapshotQuality: 80,
        health: { enabled: true, frozenS: 10, videoLostS: 5, obstructedS: 10, movedS: 5 },
        privacy: { enabled: false, classes: ['person'] },
      },
      broker: { leaseTtlS: 6, requestTimeoutMs: 5000, prefix: 'segstream' },
      cameras: [],
    });
  });

  it('events: the webhook is an http(s) URL with a host, refused at events.webhook.url otherwise', () => {
    for (const url of ['ftp://ops.example.org/hook', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url']) {
      expect(configError({ events: { webhook: { url } } }).message).toMatch(/^invalid configuration: events\.webhook\.url: /);
    }
    expect(parseConfig({ events: { webhook: { url: 'https://ops.example.org/hook' } } }).events.webhook?.url).toBe('https://ops.example.org/hook');
  });

  it('server: a token has no white space, origins are scheme://host[:port], tlsCert and tlsKey go together', () => {
    expect(configError({ server: { token: 'a b' } }).message).toContain('server.token');
    expect(configError({ server: { allowOrigins: ['https://wall.example.org/path'] } }).message).toContain('server.allowOrigins[0]');
    expect(configError({ server: { tlsKey: CA } }).message).toContain('server.tlsCert');
    expect(parseConfig({ server: { token: 't0ken', allowOrigins: ['http://127.0.0.1:3000'] } }).server).toMatchObject({ token: 't0ken', allowOrigins: ['http://127.0.0.1:3000'] });
  });

  it('a section given in part keeps the defaults of its other fields', () => {
    const cfg = parseConfig({ server: { port: 0 }, tracking: { cameraMotion: true } });
    expect(cfg.server).toMatchObject({ port: 0, host: '0.0.0.0', maxClients: 256 });
    expect(cfg.tracking).toMatchObject({ cameraMotion: true, highScore: 0.5, newScore: 0.6 });
  });

  it('a camera gets enabled: true and no overrides of its own (the ingest defaults apply later)', () => {
    expect(parseConfig({ cameras: [cam('a')] }).cameras).toEqual([{ id: 'a', url: 'rtsp://10.0.0.1/a', enabled: true }]);
  });

  it('keeps the values it is given, at the bounds included', () => {
    const cfg = parseConfig({ server: { port: 65535 }, inference: { confidence: 1, device: 'cuda', workers: 16, agnosticNms: true }, ingest: { reconnectMinMs: 5000, reconnectMaxMs: 5000 } });
    expect([cfg.server.port, cfg.inference.confidence, cfg.inference.device, cfg.inference.workers, cfg.inference.agnosticNms, cfg.ingest.reconnectMaxMs]).toEqual([65535, 1, 'cuda', 16, true, 5000]);
  });
});

describe('the WHEP video settings', () => {
  it("give every camera's source the display output at ingest.displayMaxWidth while server.whep is on, and none when it is off", () => {
    const on = parseConfig({ cameras: [cam('a')], ingest: { displayMaxWidth: 960 } });
    expect(resolveCameras(on)[0]!.source.displayMaxWidth).toBe(960);
    const off = parseConfig({ cameras: [cam('a')], server: { whep: false } });
    expect(resolveCameras(off)[0]!.source.displayMaxWidth).toBe(0);
  });

  it('refuse viewer limits and display sizes out of bounds, naming the field', () => {
    expect(configError({ server: { whepMaxViewersPerCamera: 0 } }).message).toContain('server.whepMaxViewersPerCamera');
    expect(configError({ ingest: { displayMaxWidth: 8 } }).message).toContain('ingest.displayMaxWidth');
    expect(configError({ ingest: { displayRingFrames: 65 } }).message).toContain('ingest.displayRingFrames');
  });
});

describe('motion gating settings', () => {
  it('are off by default for every camera; a camera takes ingest.motionGate under its own fields', () => {
    const cfg = parseConfig({
      cameras: [cam('a'), cam('b', { motionGate: { enabled: true, maxSkipS: 2 } }), cam('c', { motionGate: {} })],
      ingest: { motionGate: { threshold: 6 } },
    });
    const [a, b, c] = resolveCameras(cfg);
    expect(a!.motionGate).toEqual({ enabled: false, threshold: 6, minChangedShare: 0.002, maxSkipS: 1 });
    expect(b!.motionGate).toEqual({ enabled: true, threshold: 6, minChangedShare: 0.002, maxSkipS: 2 });
    expect(c!.motionGate).toEqual(a!.motionGate);
  });

  it('refuse values out of bounds and unknown keys, naming the field', () => {
    expect(configError({ ingest: { motionGate: { threshold: 300 } } }).message).toContain('ingest.motionGate.threshold');
    expect(configError({ cameras: [cam('a', { motionGate: { minChangedShare: 2 } })] }).message).toContain('cameras[0].motionGate.minChangedShare');
    expect(configError({ cameras: [cam('a', { motionGate: { maxSkipS: 0 } })] }).message).toContain('maxSkipS');
    expect(configError({ cameras: [cam('a', { motionGate: { on: true } })] }).message).toContain('on');
  });
});

describe('parseConfig: unknown keys', () => {
  it.each(Object.keys(SECTIONS))('a misspelt key in %s is refused with E_CONFIG naming the section and the key', (section) => {
    const err = configError({ [section]: { prot: 1 } });
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain('prot');
    expect(err.message).toContain(section);
    expect(err.actual).toEqual(['prot']);
  });

  it('names an unknown key by its path, like every other field error: `server.prot`', () => {
    const err = configError({ server: { prot: 1 } });
    expect(err.message).toMatch(/^invalid configuration: server\.prot: /);
  });

  it('refuses an unknown section, an unknown camera field and an unknown clip field', () => {
    expect(configError({ servr: {} }).message).toContain('servr');
    const camErr = configError({ cameras: [cam('a'), cam('b', { fps: 5 })] });
    expect(camErr.message).toContain('cameras[1]');
    expect(camErr.message).toContain('fps');
    expect(configError({ inference: { clip: { image: 'i', text: 't', merges: 'm', tokens: 'x' } } }).message).toMatch(/inference\.clip.*tokens/);
  });

  it('refuses a configuration that is not a mapping', () => {
    for (const v of [null, 'text', 3, [{ server: {} }]]) expect(configError(v).code).toBe('E_CONFIG');
  });
});

describe('parseConfig: bounds, naming the field', () => {
  it.each<[string, ConfigInput]>([
    ['server.port', { server: { port: 65536 } }],
    ['server.port', { server: { port: -1 } }],
    ['server.port', { server: { port: 80.5 } }],
    ['server.host', { server: { host: '' } }],
    ['server.maxMessageBytes', { server: { maxMessageBytes: (1 << 20) + 1 } }],
    ['server.maxClients', { server: { maxClients: 0 } }],
    ['server.slowClientCloseGraceMs', { server: { slowClientCloseGraceMs: 600_001 } }],
    ['inference.confidence', { inference: { confidence: 1.01 } }],
    ['inference.confidence', { inference: { confidence: -0.1 } }],
    ['inference.iou', { inference: { iou: 2 } }],
    ['inference.workers', { inference: { workers: -1 } }],
    ['inference.workers', { inference: { workers: 17 } }],
    ['inference.threads', { inference: { threads: -1 } }],
    ['inference.batch', { inference: { batch: 65 } }],
    ['inference.maxDetections', { inference: { maxDetections: 1001 } }],
    ['inference.device', { inference: { device: 'tpu' as 'cpu' } }],
    ['inference.model', { inference: { model: '' } }],
    ['inference.clip.text', { inference: { clip: { image: 'i', merges: 'm' } as { image: string; text: string; merges: string } } }],
    ['tracking.maxAge', { tracking: { maxAge: 0 } }],
    ['tracking.targetMemory', { tracking: { targetMemory: 86_401 } }],
    ['tracking.highScore', { tracking: { highScore: 1.5 } }],
    ['tracking.enabled', { tracking: { enabled: 'yes' as unknown as boolean } }],
    ['ingest.networkTimeoutS', { ingest: { networkTimeoutS: 0.5 } }],
    ['ingest.stallTimeoutS', { ingest: { stallTimeoutS: 601 } }],
    ['ingest.reconnectMinMs', { ingest: { reconnectMinMs: 9 } }],
    ['ingest.fastRetryWindowMs', { ingest: { fastRetryWindowMs: -1 } }],
    ['ingest.maxCameras', { ingest: { maxCameras: 0 } }],
    ['ingest.mediaRoots', { ingest: { mediaRoots: Array.from({ length: 65 }, (_, i) => `/m${i}`) } }],
    ['cameras[0].id', { cameras: [cam('a b')] }],
    ['cameras[0].id', { cameras: [cam('x'.repeat(65))] }],
    ['cameras[1].url', { cameras: [cam('a'), { id: 'b', url: '' }] }],
    ['cameras[0].confidence', { cameras: [cam('a', { confidence: 2 })] }],
    ['cameras[0].reconnectMinMs', { cameras: [cam('a', { reconnectMinMs: 5 })] }],
  ])('%s out of bounds (case %#) is E_CONFIG naming it', (field, input) => {
    const err = expectFieldError(input, field);
    expect(err.actual).not.toBeUndefined();
  });

  it('states the bound it expected and the value it got', () => {
    const err = configError({ server: { port: 70000 } });
    expect([err.expected, err.actual]).toEqual(['<= 65535', 70000]);
  });
});

describe('parseConfig: rules between fields', () => {
  it('inference.device is a comma list of devices, checked by parseDeviceList: an unknown one names the field and the valid devices', () => {
    expect(parseConfig({ inference: { device: 'cuda,cpu' } }).inference.device).toBe('cuda,cpu');
    expect(engineOptions(parseConfig({ inference: { device: 'tensorrt, CUDA, cpu' } }).inference).devices).toEqual(['tensorrt', 'cuda', 'cpu']);
    const err = expectFieldError({ inference: { device: 'cuda,gpu' } }, 'inference.device');
    expect(err.message).toBe("invalid configuration: inference.device: unknown inference device 'gpu': valid devices are cpu, cuda, tensorrt, webgpu");
    expect([err.expected, err.actual]).toEqual(['cpu, cuda, tensorrt, webgpu', 'gpu']);
    expect(expectFieldError({ inference: { device: 'cpu,cuda' } }, 'inference.device').message).toMatch(/cpu must be the last inference device/);
  });

  it('ingest.reconnectMaxMs below ingest.reconnectMinMs is refused naming ingest.reconnectMaxMs; equal is fine', () => {
    const err = expectFieldError({ ingest: { reconnectMinMs: 5000, reconnectMaxMs: 4000 } }, 'ingest.reconnectMaxMs');
    expect([err.expected, err.actual]).toEqual(['>= 5000', 4000]);
    expect(parseConfig({ ingest: { reconnectMinMs: 5000, reconnectMaxMs: 5000 } }).ingest.reconnectMaxMs).toBe(5000);
  });

  it("a camera's own reconnectMaxMs below the minimum it gets names that camera's reconnectMaxMs", () => {
    const err = expectFieldError({ cameras: [cam('a'), cam('b', { reconnectMaxMs: 500 })] }, 'cameras[1].reconnectMaxMs');
    expect([err.expected, err.actual]).toEqual(['>= 1000', 500]);
  });

  it("a camera's own reconnectMinMs above the maximum it inherits names that camera's reconnectMinMs", () => {
    const err = expectFieldError({ cameras: [cam('a', { reconnectMinMs: 40_000 })] }, 'cameras[0].reconnectMinMs');
    expect([err.expected, err.actual]).toEqual(['>= 40000', 30_000]);
    // With a maximum of its own that fits, it is fine.
    expect(parseConfig({ cameras: [cam('a', { reconnectMinMs: 40_000, reconnectMaxMs: 60_000 })] }).cameras).toHaveLength(1);
  });

  it('tracking.newScore below tracking.highScore is refused naming tracking.newScore', () => {
    const err = expectFieldError({ tracking: { highScore: 0.7, newScore: 0.6 } }, 'tracking.newScore');
    expect(err.message).toContain('newTrackThreshold');
    expect(err.actual).toBe(0.6);
  });

  it('the default tracking.newScore is checked against a raised highScore', () => {
    expectFieldError({ tracking: { highScore: 0.65 } }, 'tracking.newScore');
  });

  it('with tracking disabled, the tracker rules are not checked', () => {
    const cfg = parseConfig({ tracking: { enabled: false, highScore: 0.7, newScore: 0.6 } });
    expect(cfg.tracking).toMatchObject({ enabled: false, highScore: 0.7, newScore: 0.6 });
  });

  it('a duplicate camera id is refused naming the second one, cameras[1].id', () => {
    const err = expectFieldError({ cameras: [cam('a'), cam('a'), cam('b')] }, 'cameras[1].id');
    expect(err.message).toContain('cameras[0]');
    expect(err.actual).toBe('a');
  });

  it("a camera's confidence below inference.confidence is refused naming it; at or above is fine", () => {
    const err = expectFieldError({ inference: { confidence: 0.5 }, cameras: [cam('a', { confidence: 0.4 })] }, 'cameras[0].confidence');
    expect([err.expected, err.actual]).toEqual(['>= 0.5', 0.4]);
    expect(parseConfig({ inference: { confidence: 0.5 }, cameras: [cam('a', { confidence: 0.5 })] }).cameras[0]!.confidence).toBe(0.5);
  });

  it.each([
    ['concat:/etc/passwd|clip.mp4', /concat: protocol is not allowed/],
    ['file:/etc/passwd', /file: protocol is not allowed/],
    ['lavfi:testsrc', /lavfi: protocol is not allowed/],
    ['subfile:,start,0,end,0,:/etc/passwd', /subfile: protocol is not allowed/],
    ['-i', /may not begin with "-"/],
    ['rtsp:/no-slashes', /rtsp: needs rtsp:\/\//],
    ['v4l2:///etc/shadow', /must be \/dev\/videoN/],
    ['clip\u0000.mp4', /control characters/],
    [tmpdir(), /not a regular file/],
    ['/dev/zero', /not a regular file/],
  ])('cameras[2].url %j is E_SOURCE_REFUSED naming the field and the rule', (url, rule) => {
    const err = expectFieldError({ cameras: [cam('a'), cam('b'), { id: 'c', url }] }, 'cameras[2].url', 'E_SOURCE_REFUSED');
    expect(err.message).toMatch(rule);
  });

  it('a local file outside every ingest.mediaRoots is refused; inside one it is fine', () => {
    const err = expectFieldError({ ingest: { mediaRoots: [join(DIR, 'elsewhere')] }, cameras: [{ id: 'f', url: VIDEO }] }, 'cameras[0].url', 'E_SOURCE_REFUSED');
    expect(err.message).toContain('outside every --media-root');
    expect(parseConfig({ ingest: { mediaRoots: [DIR] }, cameras: [{ id: 'f', url: VIDEO }] }).cameras).toHaveLength(1);
  });

  it('rtsps:// is refused while TLS is verified, by ingest or by the camera, and accepted with tlsVerify: false', () => {
    const err = expectFieldError({ cameras: [{ id: 'a', url: 'rtsps://10.0.0.1/s' }] }, 'cameras[0].url', 'E_SOURCE_REFUSED');
    expect(err.message).toContain('rtsps://');
    expectFieldError({ ingest: { tlsVerify: false }, cameras: [{ id: 'a', url: 'rtsps://10.0.0.1/s', tlsVerify: true }] }, 'cameras[0].url', 'E_SOURCE_REFUSED');
    expect(parseConfig({ cameras: [{ id: 'a', url: 'rtsps://10.0.0.1/s', tlsVerify: false }] }).cameras).toHaveLength(1);
    expect(parseConfig({ ingest: { tlsVerify: false }, cameras: [{ id: 'a', url: 'rtsps://10.0.0.1/s' }] }).cameras).toHaveLength(1);
  });

  it('a tlsCaFile that cannot be read is refused naming ingest.tlsCaFile or the camera; a readable one is fine', () => {
    const missing = join(DIR, 'missing-ca.pem');
    expect(expectFieldError({ ingest: { tlsCaFile: missing } }, 'ingest.tlsCaFile').message).toContain(missing);
    expectFieldError({ cameras: [cam('a'), cam('b', { tlsCaFile: missing })] }, 'cameras[1].tlsCaFile');
    expect(parseConfig({ ingest: { tlsCaFile: CA }, cameras: [cam('a', { tlsCaFile: CA })] }).ingest.tlsCaFile).toBe(CA);
  });

  it('a directory as tlsCaFile is refused like an unreadable file', () => {
    expectFieldError({ ingest: { tlsCaFile: DIR } }, 'ingest.tlsCaFile');
  });

  it('more cameras than ingest.maxCameras are refused naming cameras; as many is fine', () => {
    const err = expectFieldError({ ingest: { maxCameras: 2 }, cameras: [cam('a'), cam('b'), cam('c')] }, 'cameras');
    expect([err.expected, err.actual]).toEqual(['<= 2', 3]);
    expect(parseConfig({ ingest: { maxCameras: 2 }, cameras: [cam('a'), cam('b')] }).cameras).toHaveLength(2);
  });

  it('a disabled camera is checked like any other', () => {
    expectFieldError({ cameras: [{ id: 'a', url: 'concat:x', enabled: false }] }, 'cameras[0].url', 'E_SOURCE_REFUSED');
  });
});

describe('liveTrackerOptions', () => {
  it('maps the tracking section onto tracker options, the low threshold at the detector confidence', () => {
    const t = parseConfig({ tracking: { highScore: 0.55, newScore: 0.65, maxAge: 2, targetMemory: 20, cameraMotion: true } }).tracking;
    expect(liveTrackerOptions(t, 0.3)).toEqual({
      highScoreThreshold: 0.55,
      newTrackThreshold: 0.65,
      lowScoreThreshold: 0.3,
      maxAgeS: 2,
      predictWindowS: 0.2,
      targetMemoryS: 20,
      targetPredictS: 1,
      cameraMotion: true,
      outputBox: 'detection',
    });
  });

  it('keeps derived windows inside their limits, so any valid section gives valid tracker options', () => {
    const t = parseConfig({ tracking: { highScore: 0.2, newScore: 0.2, maxAge: 0.05, targetMemory: 0.5 } }).tracking;
    const o = liveTrackerOptions(t, 0.9);
    expect([o.lowScoreThreshold, o.predictWindowS, o.targetPredictS]).toEqual([0.2, 0.05, 0.5]);
    expect(() => parseTrackerOptions(o)).not.toThrow();
  });
});

describe('engineOptions', () => {
  it('workers 0 means one session per core up to 4 on the CPU (1 on a GPU); threads 0 divides the cores among them', () => {
    const cores = Math.max(1, availableParallelism());
    const inf = parseConfig({}).inference;
    const auto = engineOptions(inf);
    expect(auto.workers).toBe(Math.min(cores, 4));
    expect(auto.threadsPerWorker).toBe(Math.max(1, Math.floor(cores / auto.workers)));
    expect(engineOptions({ ...inf, device: 'cuda' }).workers).toBe(1);
    expect(engineOptions({ ...inf, workers: 1 }).threadsPerWorker).toBe(cores);
    expect(engineOptions({ ...inf, threads: 3 }).threadsPerWorker).toBe(3);
  });

  it('carries the inference section into the engine and its decoder', () => {
    const inf = parseConfig({ inference: { workers: 2, threads: 1, batch: 4, batchWaitMs: 3, device: 'cuda', confidence: 0.4, iou: 0.5, agnosticNms: true, maxDetections: 50 } }).inference;
    expect(engineOptions(inf)).toEqual({
      workers: 2,
      threadsPerWorker: 1,
      maxBatch: 4,
      batchWaitMs: 3,
      devices: ['cuda'],
      decode: { confidence: 0.4, iouThreshold: 0.5, agnostic: true, maxDetections: 50 },
    });
  });
});
