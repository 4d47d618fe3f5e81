import { describe, expect, it } from 'vitest';
import { RejectionLog } from '../../../src/publish/index.js';

describe('RejectionLog', () => {
  it('logs the first `burst` of a window one by one and counts the rest by code', () => {
    const r = new RejectionLog({ burst: 2, intervalMs: 1000 });
    expect(r.record('E_MSG_INVALID', 0)).toEqual({ log: true, summary: null });
    expect(r.record('E_MSG_INVALID', 10)).toEqual({ log: true, summary: null });
    expect(r.record('E_MSG_INVALID', 20)).toEqual({ log: false, summary: null });
    expect(r.record('E_MSG_NOT_JSON', 30)).toEqual({ log: false, summary: null });
    expect(r.record('E_MSG_INVALID', 999)).toEqual({ log: false, summary: null });
    // The window (from t=0) has ended: its summary comes with the next rejection, which opens a new window.
    expect(r.record('E_MSG_NOT_JSON', 1000)).toEqual({
      log: true,
      summary: { suppressed: { E_MSG_INVALID: 2, E_MSG_NOT_JSON: 1 }, total: 3, windowMs: 1000 },
    });
  });

  it('10,000 rejections in one window: burst lines and one summary that counts the rest', () => {
    const r = new RejectionLog({ burst: 5, intervalMs: 10_000 });
    let lines = 0;
    for (let i = 0; i < 10_000; i++) if (r.record(i % 2 ? 'E_MSG_INVALID' : 'E_MSG_NOT_JSON', i * 0.1).log) lines++;
    expect(lines).toBe(5);
    expect(r.flush(1000)).toEqual({ suppressed: { E_MSG_NOT_JSON: 4997, E_MSG_INVALID: 4998 }, total: 9995, windowMs: 1000 });
    expect(r.flush(2000)).toBeNull();
  });

  it('flushIfDue ends only windows that ran their interval, and says nothing when nothing was suppressed', () => {
    const r = new RejectionLog({ burst: 1, intervalMs: 100 });
    expect(r.flushIfDue(50)).toBeNull();
    r.record('E_MSG_INVALID', 0);
    expect(r.flushIfDue(200)).toBeNull(); // one rejection, logged: nothing to summarise
    r.record('E_MSG_INVALID', 300);
    r.record('E_MSG_INVALID', 310);
    expect(r.flushIfDue(350)).toBeNull();
    expect(r.flushIfDue(400)).toEqual({ suppressed: { E_MSG_INVALID: 1 }, total: 1, windowMs: 100 });
    // A fresh window logs its burst again.
    expect(r.record('E_MSG_INVALID', 401).log).toBe(true);
  });

  it('rejects bad options with TypeError', () => {
    expect(() => new RejectionLog({ burst: -1, intervalMs: 1 })).toThrow(TypeError);
    expect(() => new RejectionLog({ burst: 1, intervalMs: 0 })).toThrow(TypeError);
  });
});
