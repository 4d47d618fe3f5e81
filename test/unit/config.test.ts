import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { appConfigSchema, parseConfig } from '../../src/config.js';
import { SegstreamError } from '../../src/core/errors.js';
import { thrownSegstreamError } from '../helpers/errors.js';

const minimal = { sources: ['clip.mp4'], model: 'm.onnx' };

function configError(input: unknown): SegstreamError {
  return thrownSegstreamError(() => parseConfig(input));
}

describe('parseConfig', () => {
  it('gives every option but the opt-in CLIP files and TLS CA file a value when only sources and model are given', () => {
    const optIn = ['clip', 'tlsCaFile'];
    expect(Object.keys(parseConfig(minimal)).sort()).toEqual(Object.keys(appConfigSchema.shape).filter((k) => !optIn.includes(k)).sort());
  });

  it('fills the options it is not given with their defaults', () => {
    expect(parseConfig(minimal)).toMatchObject({
      ...minimal,
      host: '0.0.0.0',
      port: 8080,
      realtime: true,
      loop: false,
      workers: 1,
      threads: Math.max(1, availableParallelism()),
      maxBatch: 8,
      confidence: 0.25,
      iou: 0.7,
      agnosticNms: false,
      maxDetections: 100,
      executionProvider: 'cpu',
      networkTimeoutS: 10,
      stallTimeoutS: 15,
      reconnectMinMs: 1000,
      reconnectMaxMs: 30_000,
      maxMessageBytes: 16 * 1024,
      maxBufferedBytes: 4 * 1024 * 1024,
      slowClientTimeoutMs: 10_000,
      slowClientCloseGraceMs: 10_000,
      maxClients: 256,
    });
  });

  it('keeps the values it is given', () => {
    const cfg = parseConfig({ ...minimal, port: 0, confidence: 1, agnosticNms: true, executionProvider: 'cuda', workers: 16 });
    expect([cfg.port, cfg.confidence, cfg.agnosticNms, cfg.executionProvider, cfg.workers]).toEqual([0, 1, true, 'cuda', 16]);
  });

  it('rejects an unknown key with E_CONFIG naming the key', () => {
    const err = configError({ ...minimal, confidance: 0.5 });
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain('confidance');
  });

  it.each([
    ['port', 70000],
    ['port', -1],
    ['port', 80.5],
    ['confidence', 2],
    ['confidence', -0.1],
    ['iou', 1.5],
    ['workers', 0],
    ['maxBatch', 65],
    ['executionProvider', 'tpu'],
    ['realtime', 'yes'],
    ['maxClients', 0],
    ['maxClients', 2.5],
    ['slowClientCloseGraceMs', 0],
    ['slowClientCloseGraceMs', 600_001],
  ])('rejects %s = %j with E_CONFIG naming the option', (key, value) => {
    const err = configError({ ...minimal, [key]: value });
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(key);
  });

  it('requires at least one source and a model', () => {
    expect(configError({ model: 'm.onnx' }).message).toContain('sources');
    expect(configError({ sources: [], model: 'm.onnx' }).message).toContain('sources');
    expect(configError({ sources: ['a'] }).message).toContain('model');
  });

  it('rejects reconnectMaxMs below reconnectMinMs, with expected and actual', () => {
    const err = configError({ ...minimal, reconnectMinMs: 5000, reconnectMaxMs: 4000 });
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain('reconnectMaxMs');
    expect(err.actual).toBe(4000);
  });

  it.each([
    [{ trackMaxAge: 0 }, 'trackMaxAge'],
    [{ trackHighScore: 0.7, trackNewScore: 0.6 }, 'trackNewScore'],
    [{ targetMemory: 0 }, 'targetMemory'],
  ])('checks every tracking rule at parse time: %j names %s', (bad, field) => {
    const err = configError({ ...minimal, ...bad });
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(`invalid option ${field}`);
  });

  it('with tracking off, tracker-only rules are not checked', () => {
    expect(parseConfig({ ...minimal, tracking: false, trackHighScore: 0.7, trackNewScore: 0.6 }).tracking).toBe(false);
  });

  it('accepts reconnectMaxMs equal to reconnectMinMs', () => {
    expect(parseConfig({ ...minimal, reconnectMinMs: 5000, reconnectMaxMs: 5000 }).reconnectMaxMs).toBe(5000);
  });

  it('rejects a non-object', () => {
    expect(configError(null).code).toBe('E_CONFIG');
  });
});
