import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../../src/core/index.js';
import { EventRecorder, snapshotPath, type EventHistory, type EventOut, type TransitionContext } from '../../../src/events/recorder.js';
import type { HealthTransition, RoadEvent, Transition } from '../../../src/events/types.js';

/** A promise the test settles when it wants. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise job (and one macrotask turn) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A rule transition of key `key` (zone road, rule 0, presence, track 7). */
function tr(state: Transition['state'], key = 'road/0/7', o: Partial<Transition> = {}): Transition {
  return { state, key, zone: 'road', rule: 0, kind: 'presence', tracks: [7], labels: ['car'], startS: 1, lastS: 2, ...o };
}

/** Wall clock = 1_000_000 ms + media seconds * 1000. */
const EPOCH = 1_000_000;
const ctx = (snapshot?: () => Promise<Buffer>): TransitionContext => ({ wallOf: (s) => EPOCH + s * 1000, ...(snapshot ? { snapshot } : {}) });

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);

interface Rig {
  rec: EventRecorder;
  sent: EventOut[];
  /** upsert / putSnapshot calls in order, as `upsert <id> <snapshot>` / `put <id>`. */
  calls: string[];
  history: EventHistory & { rows: Map<string, RoadEvent> };
  failed: ReturnType<typeof vi.fn>;
  log: { error: ReturnType<typeof vi.fn> };
}

function rig(o: { history?: Partial<EventHistory> | null } = {}): Rig {
  const sent: EventOut[] = [];
  const calls: string[] = [];
  const rows = new Map<string, RoadEvent>();
  const history = {
    rows,
    upsert(e: RoadEvent) {
      calls.push(`upsert ${e.id} ${e.snapshot}`);
      rows.set(e.id, e);
    },
    putSnapshot(id: string) {
      calls.push(`put ${id}`);
      // As the store: a snapshot needs its event's row.
      return rows.has(id);
    },
    ...(o.history ?? {}),
  };
  const failed = vi.fn();
  const log = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
  const rec = new EventRecorder({
    ...(o.history === null ? {} : { history }),
    send: (m) => sent.push(m),
    log: log as unknown as Logger,
    snapshotFailed: failed,
  });
  return { rec, sent, calls, history, failed, log };
}

const states = (sent: readonly EventOut[]): string[] => sent.map((m) => `${m.camera} ${m.state}`);

describe('EventRecorder: forget', () => {
  it('drops a removed camera\'s lane once its last messages went out; a camera of the same id starts a new one', async () => {
    const r = rig();
    r.rec.rule('cam', tr('start'), ctx());
    r.rec.rule('cam', tr('end', undefined, { endS: 3 }), ctx());
    const lanes = (r.rec as unknown as { lanes: Map<string, unknown> }).lanes;
    r.rec.forget('cam');
    expect(lanes.has('cam')).toBe(true);
    await r.rec.idle();
    await new Promise((res) => setImmediate(res));
    expect(lanes.has('cam')).toBe(false);
    expect(r.sent.map((m) => m.state)).toEqual(['start', 'end']);
    r.rec.rule('cam', tr('start'), ctx());
    await r.rec.idle();
    expect(r.sent.map((m) => m.state)).toEqual(['start', 'end', 'start']);
  });
});

describe('EventRecorder: touch', () => {
  it('refreshes the last update of open events in the history only, never of ended ones, and sends nothing', async () => {
    const r = rig();
    r.rec.rule('cam', tr('start', 'road/0/7', { startS: 0, lastS: 1 }), ctx());
    r.rec.rule('cam', tr('start', 'road/0/8', { tracks: [8], startS: 0, lastS: 1 }), ctx());
    r.rec.rule('cam', tr('end', 'road/0/8', { tracks: [8], lastS: 2, endS: 2 }), ctx());
    await r.rec.idle();
    const before = r.sent.length;
    r.rec.touch(EPOCH + 60_000);
    expect(r.sent.length).toBe(before);
    const [open, ended] = [r.sent[0]!, r.sent.find((m) => m.state === 'end')!];
    expect(r.history.rows.get(open.id)).toMatchObject({ updatedAt: EPOCH + 60_000, endedAt: null });
    expect(r.history.rows.get(ended.id)).toMatchObject({ updatedAt: EPOCH + 2000, endedAt: EPOCH + 2000 });
  });
});

describe('EventRecorder: update coalescing', () => {
  it('sends at most one update per event every 5 s of media time; the end carries the objects as they were last', async () => {
    const { rec, sent } = rig();
    rec.rule('cam', tr('start', undefined, { startS: 0, lastS: 1 }), ctx());
    // A label flickering every 0.1 s for 12 s.
    for (let i = 1; i <= 120; i++) rec.rule('cam', tr('update', undefined, { lastS: 1 + i / 10, labels: [i % 2 ? 'truck' : 'car'] }), ctx());
    rec.rule('cam', tr('end', undefined, { lastS: 13, endS: 13, labels: ['bus'] }), ctx());
    await rec.idle();
    const updates = sent.filter((m) => m.state === 'update');
    expect(updates.map((m) => m.mediaUpdatedS)).toEqual([6, 11]);
    expect(sent.at(-1)).toMatchObject({ state: 'end', labels: ['bus'] });
  });
});

describe('EventRecorder: ids and times', () => {
  it('one event keeps its id across start, update and end; the next start of the same key gets a new one', async () => {
    const { rec, sent } = rig();
    rec.rule('cam', tr('start'), ctx());
    rec.rule('cam', tr('update', undefined, { tracks: [7, 8], lastS: 8 }), ctx());
    rec.rule('cam', tr('end', undefined, { lastS: 4, endS: 4 }), ctx());
    rec.rule('cam', tr('start', undefined, { startS: 10, lastS: 11 }), ctx());
    await rec.idle();
    expect(sent.map((m) => m.state)).toEqual(['start', 'update', 'end', 'start']);
    const [a, b, c, d] = sent;
    expect(a!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(b!.id).toBe(a!.id);
    expect(c!.id).toBe(a!.id);
    expect(d!.id).not.toBe(a!.id);
    expect(b!.tracks).toEqual([7, 8]);
    expect(sent.every((m) => m.type === 'event')).toBe(true);
    expect(rec.openCount).toBe(1);
  });

  it('wall-clock times come from wallOf (rounded to ms), media times are kept to the ms', async () => {
    const { rec, sent } = rig();
    rec.rule('cam', tr('start', undefined, { startS: 2.0004, lastS: 3.25 }), ctx());
    rec.rule('cam', tr('update', undefined, { lastS: 9.5 }), ctx());
    rec.rule('cam', tr('end', undefined, { lastS: 10, endS: 10.5 }), ctx());
    await rec.idle();
    const [start, update, end] = sent;
    expect(start).toMatchObject({ startedAt: EPOCH + 2000, updatedAt: EPOCH + 3250, endedAt: null, mediaStartS: 2, mediaUpdatedS: 3.25, mediaEndS: null });
    expect(update).toMatchObject({ startedAt: EPOCH + 2000, updatedAt: EPOCH + 9500, endedAt: null, mediaUpdatedS: 9.5 });
    // The end is at endS, not at lastS.
    expect(end).toMatchObject({ startedAt: EPOCH + 2000, updatedAt: EPOCH + 10500, endedAt: EPOCH + 10500, mediaEndS: 10.5, mediaUpdatedS: 10.5 });
  });

  it('an end without endS ends at its lastS', async () => {
    const { rec, sent } = rig();
    rec.rule('cam', tr('start'), ctx());
    rec.rule('cam', tr('end', undefined, { lastS: 6 }), ctx());
    await rec.idle();
    expect(sent[1]).toMatchObject({ endedAt: EPOCH + 6000, mediaEndS: 6 });
  });

  it('a start of an event that is still open ends the open one first', async () => {
    const { rec, sent } = rig();
    rec.rule('cam', tr('start', undefined, { lastS: 3 }), ctx());
    rec.rule('cam', tr('start', undefined, { startS: 8, lastS: 9 }), ctx());
    await rec.idle();
    expect(sent.map((m) => m.state)).toEqual(['start', 'end', 'start']);
    expect(sent[1]!.id).toBe(sent[0]!.id);
    expect(sent[1]).toMatchObject({ mediaEndS: 3 });
    expect(sent[2]!.id).not.toBe(sent[0]!.id);
    expect(rec.openCount).toBe(1);
  });

  it('an update or end of a key it never saw start is ignored (not sent, not written)', async () => {
    const { rec, sent, calls } = rig();
    rec.rule('cam', tr('update', 'road/0/99'), ctx());
    rec.rule('cam', tr('end', 'road/0/99'), ctx());
    rec.rule('cam', tr('start'), ctx());
    // The same key on another camera is another event.
    rec.rule('other', tr('end'), ctx());
    rec.health('cam', { state: 'end', kind: 'frozen', startS: 0, lastS: 1 }, ctx());
    await rec.idle();
    expect(states(sent)).toEqual(['cam start']);
    expect(calls).toHaveLength(1);
  });

  it('health events have no zone or rule, are keyed by kind, and carry their detail', async () => {
    const { rec, sent } = rig();
    const h = (state: HealthTransition['state'], detail?: Record<string, number>): HealthTransition => ({ state, kind: 'moved', startS: 1, lastS: 2, ...(detail ? { detail } : {}) });
    rec.health('cam', h('start', { dx: 0.1, dy: 0 }), ctx());
    rec.health('cam', h('end'), ctx());
    await rec.idle();
    expect(sent.map((m) => m.state)).toEqual(['start', 'end']);
    expect(sent[0]).toMatchObject({ zone: null, rule: null, kind: 'moved', tracks: [], labels: [], detail: { dx: 0.1, dy: 0 } });
    expect(sent[1]!.id).toBe(sent[0]!.id);
  });
});

describe('EventRecorder: snapshots and order', () => {
  it('an end applied right after a start goes out after it, even when the start waits for its snapshot', async () => {
    const { rec, sent } = rig();
    const shot = deferred<Buffer>();
    rec.rule('cam', tr('start'), ctx(() => shot.promise));
    rec.rule('cam', tr('end', undefined, { endS: 2 }), ctx());
    await settle();
    expect(sent).toEqual([]);
    shot.resolve(JPEG);
    await rec.idle();
    expect(sent.map((m) => m.state)).toEqual(['start', 'end']);
    const path = snapshotPath(sent[0]!.id);
    expect(path).toBe(`/events/${sent[0]!.id}/snapshot.jpg`);
    expect(sent[0]!.snapshot).toBe(path);
    // The end was queued before the snapshot existed, yet carries its path.
    expect(sent[1]!.snapshot).toBe(path);
  });

  it('the snapshot path appears on every later message of an event whose start had one, and not on other events', async () => {
    const { rec, sent } = rig();
    rec.rule('cam', tr('start'), ctx(() => Promise.resolve(JPEG)));
    rec.rule('cam', tr('start', 'road/0/8', { tracks: [8] }), ctx());
    rec.rule('cam', tr('update', undefined, { lastS: 8 }), ctx());
    rec.rule('cam', tr('end', undefined, { endS: 4 }), ctx());
    rec.rule('cam', tr('end', 'road/0/8', { tracks: [8], endS: 4 }), ctx());
    await rec.idle();
    const withShot = sent.filter((m) => m.tracks[0] === 7);
    expect(withShot.map((m) => m.state)).toEqual(['start', 'update', 'end']);
    for (const m of withShot) expect(m.snapshot).toBe(snapshotPath(m.id));
    expect(sent.filter((m) => m.tracks[0] !== 7).map((m) => m.snapshot)).toEqual([null, null]);
  });

  it('upserts the row before putting the snapshot, then writes every message (the start again with its path)', async () => {
    const { rec, sent, calls } = rig();
    rec.rule('cam', tr('start'), ctx(() => Promise.resolve(JPEG)));
    rec.rule('cam', tr('update', undefined, { lastS: 8 }), ctx());
    rec.rule('cam', tr('end', undefined, { endS: 4 }), ctx());
    await rec.idle();
    const id = sent[0]!.id;
    const path = snapshotPath(id);
    expect(calls).toEqual([`upsert ${id} null`, `put ${id}`, `upsert ${id} ${path}`, `upsert ${id} ${path}`, `upsert ${id} ${path}`]);
  });

  it('a snapshot the history does not take (putSnapshot false) leaves every message without a path', async () => {
    const { rec, sent } = rig({ history: { putSnapshot: () => false } });
    rec.rule('cam', tr('start'), ctx(() => Promise.resolve(JPEG)));
    rec.rule('cam', tr('end', undefined, { endS: 4 }), ctx());
    await rec.idle();
    expect(sent.map((m) => m.snapshot)).toEqual([null, null]);
  });

  it('without a history, a made snapshot still gives its path', async () => {
    const { rec, sent } = rig({ history: null });
    rec.rule('cam', tr('start'), ctx(() => Promise.resolve(JPEG)));
    await rec.idle();
    expect(sent[0]!.snapshot).toBe(snapshotPath(sent[0]!.id));
  });

  it('a snapshot that rejects still sends the start, without a snapshot, and reports the failure', async () => {
    const { rec, sent, failed } = rig();
    rec.rule('cam', tr('start'), ctx(() => Promise.reject(new Error('encoder broke'))));
    rec.rule('cam', tr('end', undefined, { endS: 3 }), ctx());
    await rec.idle();
    expect(sent.map((m) => [m.state, m.snapshot])).toEqual([
      ['start', null],
      ['end', null],
    ]);
    expect(failed).toHaveBeenCalledWith('cam', 'encoder broke');
  });

  it('a snapshot function that throws at once still sends the start and reports the failure', async () => {
    const { rec, sent, failed } = rig();
    rec.rule('cam', tr('start'), ctx(() => {
      throw new Error('draw failed');
    }));
    await rec.idle();
    expect(sent.map((m) => [m.state, m.snapshot])).toEqual([['start', null]]);
    expect(failed).toHaveBeenCalledWith('cam', 'draw failed');
  });

  describe('while an earlier start of the camera waits', () => {
    const seen: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void seen.push(reason);
    beforeEach(() => {
      seen.length = 0;
      process.on('unhandledRejection', onUnhandled);
    });
    afterEach(() => {
      process.off('unhandledRejection', onUnhandled);
    });

    it('a snapshot that rejects meanwhile is not an unhandled rejection (which would end the process)', async () => {
      const { rec, sent, failed } = rig();
      const slow = deferred<Buffer>();
      rec.rule('cam', tr('start'), ctx(() => slow.promise));
      rec.rule('cam', tr('start', 'road/0/8', { tracks: [8] }), ctx(() => Promise.reject(new Error('encoder broke'))));
      // Long enough for Node to decide the rejection was unhandled.
      await settle();
      await settle();
      slow.resolve(JPEG);
      await rec.idle();
      expect(seen).toEqual([]);
      expect(sent.map((m) => [m.tracks[0], m.state, m.snapshot === null])).toEqual([
        [7, 'start', false],
        [8, 'start', true],
      ]);
      expect(failed).toHaveBeenCalledWith('cam', 'encoder broke');
    });
  });

  it('beyond 4 snapshots being made on one camera, later starts go without one (and say so), in order', async () => {
    const { rec, sent, failed } = rig();
    const shots = Array.from({ length: 4 }, () => deferred<Buffer>());
    shots.forEach((s, i) => rec.rule('cam', tr('start', `road/0/${i}`, { tracks: [i] }), ctx(() => s.promise)));
    const fifth = vi.fn(() => Promise.resolve(JPEG));
    rec.rule('cam', tr('start', 'road/0/4', { tracks: [4] }), ctx(fifth));
    expect(fifth).not.toHaveBeenCalled();
    expect(failed).toHaveBeenCalledTimes(1);
    expect(failed.mock.calls[0]![0]).toBe('cam');
    // Another camera has its own budget.
    const other = vi.fn(() => Promise.resolve(JPEG));
    rec.rule('cam2', tr('start'), ctx(other));
    expect(other).toHaveBeenCalledTimes(1);
    for (const s of shots) s.resolve(JPEG);
    await rec.idle();
    const cam = sent.filter((m) => m.camera === 'cam');
    expect(cam.map((m) => [m.tracks[0], m.snapshot !== null])).toEqual([
      [0, true],
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
    // Once they are made, a start has its snapshot again.
    const later = vi.fn(() => Promise.resolve(JPEG));
    rec.rule('cam', tr('start', 'road/0/5', { tracks: [5] }), ctx(later));
    await rec.idle();
    expect(later).toHaveBeenCalledTimes(1);
    expect(sent.at(-1)!.snapshot).toBe(snapshotPath(sent.at(-1)!.id));
  });

  it("two cameras do not block each other: camera A's slow snapshot does not delay camera B", async () => {
    const { rec, sent } = rig();
    const slow = deferred<Buffer>();
    rec.rule('A', tr('start'), ctx(() => slow.promise));
    rec.rule('A', tr('end', undefined, { endS: 3 }), ctx());
    rec.rule('B', tr('start'), ctx(() => Promise.resolve(JPEG)));
    rec.rule('B', tr('end', undefined, { endS: 3 }), ctx());
    await settle();
    expect(states(sent)).toEqual(['B start', 'B end']);
    slow.resolve(JPEG);
    await rec.idle();
    expect(states(sent)).toEqual(['B start', 'B end', 'A start', 'A end']);
  });
});

describe('EventRecorder: failures downstream', () => {
  it('a history that throws does not stop the messages (logged instead)', async () => {
    const boom = (): never => {
      throw new Error('disk full');
    };
    const { rec, sent, log } = rig({ history: { upsert: boom, putSnapshot: boom } });
    rec.rule('cam', tr('start'), ctx(() => Promise.resolve(JPEG)));
    rec.rule('cam', tr('update', undefined, { lastS: 8 }), ctx());
    rec.rule('cam', tr('end', undefined, { endS: 4 }), ctx());
    rec.rule('cam', tr('start', 'road/0/8'), ctx());
    await rec.idle();
    expect(sent.map((m) => m.state)).toEqual(['start', 'update', 'end', 'start']);
    expect(log.error).toHaveBeenCalled();
  });

  it('a send that throws does not stop the next messages', async () => {
    const sent: string[] = [];
    const log = { error: vi.fn() };
    const rec = new EventRecorder({
      send: (m) => {
        if (m.state === 'start') throw new Error('socket gone');
        sent.push(m.state);
      },
      log: log as unknown as Logger,
    });
    rec.rule('cam', tr('start'), ctx());
    rec.rule('cam', tr('end', undefined, { endS: 4 }), ctx());
    await rec.idle();
    expect(sent).toEqual(['end']);
    expect(log.error).toHaveBeenCalledTimes(1);
  });
});
