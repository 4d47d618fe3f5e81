import { describe, expect, it } from 'vitest';
import { startModuleWorker, WorkerChannel } from '../../src/core/index.js';

const FIXTURE = new URL('../fixtures/channelWorker.ts', import.meta.url);

async function channel(): Promise<WorkerChannel<number>> {
  const worker = await startModuleWorker(FIXTURE, { mode: 'ok' }, 'E_INFERENCE', 'test worker');
  return new WorkerChannel<number>(worker, 'E_INFERENCE', 'test worker');
}

describe('worker handshake and WorkerChannel (real worker threads)', () => {
  it("a worker's init-error rejects start-up with the worker's own code and details", async () => {
    await expect(startModuleWorker(FIXTURE, { mode: 'init-error' }, 'E_INFERENCE', 'test worker')).rejects.toMatchObject({
      code: 'E_MODEL_CORRUPT',
      message: 'cannot load model.onnx',
      expected: 'a model',
    });
  });

  it('a worker that exits before its handshake rejects start-up (it used to wait for ever)', async () => {
    await expect(startModuleWorker(FIXTURE, { mode: 'exit-early' }, 'E_INFERENCE', 'test worker')).rejects.toMatchObject({
      code: 'E_INFERENCE',
      message: 'test worker exited with code 7 before it was ready',
    });
  });

  it('routes each reply to its own request, and worker errors keep their code', async () => {
    const c = await channel();
    try {
      const [a, b] = await Promise.all([c.request((id) => ({ type: 'double', id, value: 2 })), c.request((id) => ({ type: 'double', id, value: 21 }))]);
      expect([a, b]).toEqual([4, 42]);
      await expect(c.request((id) => ({ type: 'fail', id }))).rejects.toMatchObject({ code: 'E_PROMPT_NO_MATCH', message: 'nothing there' });
      expect(c.inFlight).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('a request that cannot be sent (DataCloneError) rejects and leaves the worker free', async () => {
    const c = await channel();
    try {
      await expect(c.request((id) => ({ type: 'double', id, value: 1, notCloneable: () => 0 }))).rejects.toMatchObject({ code: 'E_INFERENCE' });
      expect(c.inFlight).toBe(0);
      expect(await c.request((id) => ({ type: 'double', id, value: 5 }))).toBe(10);
    } finally {
      await c.close();
    }
  });

  it('rejects every waiting request with its error code when the worker dies, and refuses new ones', async () => {
    const c = await channel();
    const waiting = c.request((id) => ({ type: 'hang', id }));
    const dying = c.request((id) => ({ type: 'die', id }));
    await expect(waiting).rejects.toMatchObject({ code: 'E_INFERENCE', message: expect.stringContaining('exited (code 3)') });
    await expect(dying).rejects.toMatchObject({ code: 'E_INFERENCE' });
    expect(c.alive).toBe(false);
    await expect(c.request((id) => ({ type: 'double', id, value: 1 }))).rejects.toMatchObject({ code: 'E_INFERENCE' });
    await c.close(); // already gone: resolves
  });
});
