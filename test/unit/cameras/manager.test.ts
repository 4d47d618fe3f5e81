import { describe, expect, it } from 'vitest';
import { CameraManager, type CameraStatus } from '../../../src/cameras/index.js';
import { cameraConfig, parseConfig, type CameraEntryInput } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/core/index.js';
import { createMetrics } from '../../../src/metrics.js';
import type { ModelInfo } from '../../../src/pipeline/index.js';

const model = { inputWidth: 320, inputHeight: 320, classNames: ['person', 'car'], numMasks: 32, protoWidth: 80, protoHeight: 80 } as unknown as ModelInfo;
const config = parseConfig({ ingest: { maxCameras: 2 } });
/** Disabled cameras: the manager's bookkeeping without any ffmpeg. */
const cam = (entry: Partial<CameraEntryInput> & { id: string }) =>
  cameraConfig({ url: 'rtsp://127.0.0.1:9/s', enabled: false, ...entry } as never, config, { field: 'camera' });

function manager() {
  const statuses: CameraStatus[] = [];
  const forgotten: string[] = [];
  const m = new CameraManager({ model, trackerOptions: {}, metrics: createMetrics(), log: silentLogger() }, config.ingest.maxCameras);
  m.status$.subscribe((s) => statuses.push(s));
  m.forget$.subscribe((id) => forgotten.push(id));
  return { m, statuses, forgotten };
}

describe('CameraManager', () => {
  it('adds cameras up to the limit, refuses a used id and one past the limit, changing nothing', async () => {
    const { m } = manager();
    await m.add(cam({ id: 'a' }));
    await expect(m.add(cam({ id: 'a' }))).rejects.toMatchObject({ code: 'E_CAMERA_EXISTS' });
    await m.add(cam({ id: 'b' }));
    await expect(m.add(cam({ id: 'c' }))).rejects.toMatchObject({ code: 'E_CAMERA_LIMIT' });
    expect(m.ids()).toEqual(['a', 'b']);
    expect(m.require('a').status.state).toBe('disabled');
    expect(() => m.require('zz')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_CAMERA' }));
  });

  it('removing a camera closes it, announces removed and forgets its frames; removing an unknown one is E_UNKNOWN_CAMERA', async () => {
    const { m, statuses, forgotten } = manager();
    await m.add(cam({ id: 'a' }));
    const a = m.require('a');
    await m.remove('a');
    expect(a.status.state).toBe('removed');
    expect(statuses.filter((s) => s.camera === 'a').map((s) => s.state)).toEqual(['disabled', 'removed']);
    expect(forgotten).toEqual(['a']);
    await expect(m.remove('a')).rejects.toMatchObject({ code: 'E_UNKNOWN_CAMERA' });
    // close() twice is safe.
    await expect(a.close()).resolves.toEqual([]);
  });

  it('apply() touches only what differs: a threshold in place, a source change as a restart, unchanged cameras never', async () => {
    const { m, statuses, forgotten } = manager();
    await m.apply([cam({ id: 'a' }), cam({ id: 'b' })]);
    const [a, b] = [m.require('a'), m.require('b')];
    const same = await m.apply([cam({ id: 'a' }), cam({ id: 'b' })]);
    expect(same).toEqual({ added: [], removed: [], restarted: [], updated: [] });
    const diff = await m.apply([cam({ id: 'a', confidence: 0.5 }), cam({ id: 'b', url: 'rtsp://127.0.0.1:9/other' })]);
    expect(diff).toEqual({ added: [], removed: [], restarted: ['b'], updated: ['a'] });
    expect(m.require('a')).toBe(a);
    expect(m.require('a').config.confidence).toBe(0.5);
    expect(m.require('b')).not.toBe(b);
    // A restart is not a removal: clients see no `removed` for it, but its old frames are stale.
    expect(statuses.some((s) => s.state === 'removed')).toBe(false);
    expect(forgotten).toEqual(['b']);
    const gone = await m.apply([cam({ id: 'a', confidence: 0.5 })]);
    expect(gone.removed).toEqual(['b']);
    expect(m.ids()).toEqual(['a']);
  });

  it('changes a camera motion gating in place (no restart), and shows its gated frames in its view', async () => {
    const { m } = manager();
    await m.add(cam({ id: 'a' }));
    const a = m.require('a');
    expect(a.config.motionGate.enabled).toBe(false);
    expect(await m.update(cam({ id: 'a', motionGate: { enabled: true, threshold: 5 } }))).toBe(false);
    expect(m.require('a')).toBe(a);
    expect(a.config.motionGate).toMatchObject({ enabled: true, threshold: 5 });
    expect(a.view().framesGated).toBe(0);
  });

  it('runs changes one at a time: a remove issued while an add waits sees the add', async () => {
    const { m } = manager();
    const added = m.add(cam({ id: 'a' }));
    const removed = m.remove('a');
    await added;
    await removed;
    expect(m.ids()).toEqual([]);
  });

  it('answers a prompt for an unknown camera with E_UNKNOWN_CAMERA, and after close refuses changes', async () => {
    const { m } = manager();
    await m.add(cam({ id: 'a' }));
    await expect(m.handlePrompt({ type: 'prompt', camera: 'nope', box: [0, 0, 1, 1] })).rejects.toMatchObject({ code: 'E_UNKNOWN_CAMERA' });
    await expect(m.handlePrompt({ type: 'prompt', camera: 'a', box: [0, 0, 1, 1] })).rejects.toMatchObject({ code: 'E_PROMPT_NO_MATCH' });
    await m.close();
    expect(m.ids()).toEqual([]);
    await expect(m.add(cam({ id: 'b' }))).rejects.toMatchObject({ code: 'E_INTERNAL' });
  });

  it('a camera list over the limit changes nothing (no camera removed first)', async () => {
    const { m, statuses } = manager();
    await m.apply([cam({ id: 'a' }), cam({ id: 'b' })]);
    const before = m.list();
    await expect(m.apply([cam({ id: 'c' }), cam({ id: 'd' }), cam({ id: 'e' })])).rejects.toMatchObject({ code: 'E_CAMERA_LIMIT' });
    expect(m.list()).toEqual(before);
    expect(statuses.some((s) => s.state === 'removed')).toBe(false);
  });

  it('a disabled camera announces itself as disabled when it is added', async () => {
    const { m, statuses } = manager();
    await m.add(cam({ id: 'a' }));
    expect(statuses).toEqual([{ camera: 'a', state: 'disabled', restarts: 0 }]);
  });

  it('an exclusive step sees no other change until it is done; a failed step does not block the next', async () => {
    const { m } = manager();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const first = m.exclusive(async (ops) => {
      expect(ops.get('a')).toBeUndefined();
      await gate;
      ops.add(cam({ id: 'a' }));
      order.push('first');
    });
    const second = m.exclusive((ops) => {
      // Runs after the first step, and sees what it did.
      order.push(`second sees ${ops.require('a').id}`);
    });
    const failing = m.exclusive(() => {
      throw new Error('boom');
    });
    const third = m.remove('a');
    release();
    await first;
    await second;
    await expect(failing).rejects.toThrow('boom');
    await third;
    expect(order).toEqual(['first', 'second sees a']);
    expect(m.ids()).toEqual([]);
  });
});
