import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cameraApi, CameraManager } from '../../../src/cameras/index.js';
import { CameraStateStore, parseConfig, resolveCameras, type ConfigInput } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/core/index.js';
import { createMetrics } from '../../../src/metrics.js';
import type { ModelInfo } from '../../../src/pipeline/index.js';

const model = { inputWidth: 320, inputHeight: 320, classNames: ['car'], numMasks: 32, protoWidth: 80, protoHeight: 80 } as unknown as ModelInfo;
const DIR = mkdtempSync(join(tmpdir(), 'segstream-api-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
const CA = join(DIR, 'ca.pem');
writeFileSync(CA, 'not really a certificate');

/**
 * The API over a manager of disabled cameras (`enabled: false`): every rule and the state
 * file without an ffmpeg.
 */
function setup(input: ConfigInput, statePath?: string) {
  const config = parseConfig(input);
  const manager = new CameraManager({ model, trackerOptions: {}, metrics: createMetrics(), log: silentLogger() }, config.ingest.maxCameras);
  const store = new CameraStateStore(statePath);
  const api = cameraApi({ manager, config: () => config, store });
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body?: unknown }> => {
    try {
      return (await api({ method, path, body })) ?? { status: 404 };
    } catch (err) {
      return { status: -1, body: { code: (err as { code?: string }).code, message: (err as Error).message } };
    }
  };
  return { manager, store, call, config };
}
const off = (id: string, extra: Record<string, unknown> = {}) => ({ id, url: `rtsp://127.0.0.1:9/${id}`, enabled: false, ...extra });

describe('cameraApi', () => {
  it('a state file that cannot be written refuses the change (E_INTERNAL) and changes nothing', async () => {
    const { manager, call } = setup({}, join(DIR, 'missing-dir', 'x.state.json'));
    const r = await call('POST', '/api/cameras', off('a'));
    expect(r).toMatchObject({ status: -1, body: { code: 'E_INTERNAL', message: expect.stringContaining('state file') } });
    expect(manager.ids()).toEqual([]);
  });

  it('a CA file through the API must be one the configuration names', async () => {
    const { call } = setup({ ingest: { tlsCaFile: CA } });
    expect(await call('POST', '/api/cameras', off('a', { tlsCaFile: '/etc/passwd' }))).toMatchObject({ status: -1, body: { code: 'E_CONFIG', message: expect.stringContaining('tlsCaFile') } });
    expect(await call('POST', '/api/cameras', off('a', { tlsCaFile: CA }))).toMatchObject({ status: 201 });
    expect(await call('PATCH', '/api/cameras/a', { tlsCaFile: '/etc/hostname' })).toMatchObject({ status: -1, body: { code: 'E_CONFIG' } });
  });

  it('two PATCHes sent together both take effect (each sees the other), and the state keeps both', async () => {
    const statePath = join(DIR, 'patch.state.json');
    const { manager, call } = setup({ cameras: [off('a')] }, statePath);
    // The configured camera runs as the app would start it.
    await manager.apply(resolveCameras(parseConfig({ cameras: [off('a')] })));
    const [r1, r2] = await Promise.all([call('PATCH', '/api/cameras/a', { confidence: 0.5 }), call('PATCH', '/api/cameras/a', { loop: true })]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect(manager.require('a').config.entry).toMatchObject({ confidence: 0.5, loop: true });
    // Only what the API changed is kept for a configured camera.
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toEqual({ version: 1, cameras: { a: { id: 'a', confidence: 0.5, loop: true } } });
  });

  it("PATCH motionGate changes a camera's gating in place (restarted: false), kept in the state; bad values are 400s naming the field", async () => {
    const statePath = join(DIR, 'gate.state.json');
    const { manager, call } = setup({ cameras: [off('a')] }, statePath);
    await manager.apply(resolveCameras(parseConfig({ cameras: [off('a')] })));
    const before = manager.require('a');
    expect(await call('PATCH', '/api/cameras/a', { motionGate: { enabled: true, maxSkipS: 2 } })).toMatchObject({ status: 200, body: { restarted: false, camera: { framesGated: 0 } } });
    expect(manager.require('a')).toBe(before);
    expect(before.config.motionGate).toEqual({ enabled: true, threshold: 10, minChangedShare: 0.002, maxSkipS: 2 });
    expect(JSON.parse(readFileSync(statePath, 'utf8')).cameras.a).toEqual({ id: 'a', motionGate: { enabled: true, maxSkipS: 2 } });
    // A second PATCH changes only the fields it names.
    expect(await call('PATCH', '/api/cameras/a', { motionGate: { threshold: 6 } })).toMatchObject({ status: 200, body: { restarted: false } });
    expect(before.config.motionGate).toEqual({ enabled: true, threshold: 6, minChangedShare: 0.002, maxSkipS: 2 });
    expect(await call('PATCH', '/api/cameras/a', { motionGate: { threshold: 999 } })).toMatchObject({ status: -1, body: { code: 'E_CONFIG', message: expect.stringContaining('motionGate.threshold') } });
    expect(await call('POST', '/api/cameras', off('b', { motionGate: { enabled: true } }))).toMatchObject({ status: 201 });
    expect(manager.require('b').config.motionGate.enabled).toBe(true);
  });

  it('a POST and a DELETE sent together leave the state and the cameras agreeing', async () => {
    const statePath = join(DIR, 'race.state.json');
    const { manager, call, store } = setup({}, statePath);
    const [posted, deleted] = await Promise.all([call('POST', '/api/cameras', off('x')), call('DELETE', '/api/cameras/x')]);
    expect([posted.status, deleted.status]).toEqual([201, 200]);
    expect(manager.ids()).toEqual([]);
    expect(store.current.cameras).toEqual({});
    expect(JSON.parse(readFileSync(statePath, 'utf8')).cameras).toEqual({});
  });
});
