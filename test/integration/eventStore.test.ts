import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defaultEventsDbPath, EventStore } from '../../src/events/store.js';
import type { RoadEvent } from '../../src/events/types.js';
import { thrownSegstreamError } from '../helpers/errors.js';

const ROOT = mkdtempSync(join(tmpdir(), 'segstream-store-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

let n = 0;
/** A fresh database path in its own (not yet existing) directory. */
const dbPath = (): string => join(ROOT, `case-${++n}`, 'events.db');

const T0 = Date.UTC(2025, 0, 1);

function event(id: string, fields: Partial<RoadEvent> = {}): RoadEvent {
  return {
    id,
    camera: 'cam1',
    zone: 'lane',
    rule: 0,
    kind: 'stopped',
    tracks: [7],
    labels: ['car'],
    startedAt: T0,
    updatedAt: T0 + 1000,
    endedAt: T0 + 2000,
    mediaStartS: 10,
    mediaUpdatedS: 11,
    mediaEndS: 12,
    snapshot: null,
    ...fields,
  };
}

const stores: EventStore[] = [];
function open(path: string, options?: Parameters<typeof EventStore.open>[1]): EventStore {
  const s = EventStore.open(path, options);
  stores.push(s);
  return s;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('EventStore', () => {
  it('creates its directory (0700) and file, and round-trips an event', () => {
    const path = dbPath();
    const store = open(path);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const e = event('a', { detail: { shift: 12.5 } });
    store.upsert(e);
    expect(store.get('a')).toEqual(e);
    expect(store.get('missing')).toBeUndefined();
  });

  it('upsert() updates an event by id', () => {
    const store = open(dbPath());
    store.upsert(event('a', { endedAt: null, mediaEndS: null }));
    const ended = event('a', { tracks: [7, 8], updatedAt: T0 + 5000, endedAt: T0 + 6000 });
    store.upsert(ended);
    expect(store.get('a')).toEqual(ended);
    expect(store.list({})).toHaveLength(1);
  });

  it('putSnapshot() stores the JPEG, and the event then names its path; false for an unknown event', () => {
    const store = open(dbPath());
    store.upsert(event('ev/1?x'));
    const jpeg = new Uint8Array([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
    expect(store.putSnapshot('ev/1?x', jpeg)).toBe(true);
    expect(store.putSnapshot('gone', jpeg)).toBe(false);
    expect(store.snapshot('gone')).toBeUndefined();
    expect(Buffer.compare(store.snapshot('ev/1?x')!, Buffer.from(jpeg))).toBe(0);
    expect(store.get('ev/1?x')!.snapshot).toBe('/events/ev%2F1%3Fx/snapshot.jpg');
    expect(store.list({})[0]!.snapshot).toBe('/events/ev%2F1%3Fx/snapshot.jpg');
    // Updating the event keeps its snapshot; a snapshot field passed in is not trusted.
    store.upsert(event('ev/1?x', { tracks: [1], snapshot: null }));
    expect(store.get('ev/1?x')!.snapshot).toBe('/events/ev%2F1%3Fx/snapshot.jpg');
    store.upsert(event('b', { snapshot: '/events/b/snapshot.jpg' }));
    expect(store.get('b')!.snapshot).toBeNull();
  });

  it('list() filters by camera, zone and kind, newest first, with a default limit of 100 and at most 1000', () => {
    const store = open(dbPath());
    for (let i = 0; i < 1200; i++) {
      store.upsert(event(`e${i}`, { camera: i % 2 ? 'odd' : 'even', zone: i % 3 ? 'lane' : null, kind: i % 5 ? 'stopped' : 'frozen', startedAt: T0 + i * 1000, updatedAt: T0 + i * 1000 + 10, endedAt: T0 + i * 1000 + 20 }));
    }
    const all = store.list({});
    expect(all).toHaveLength(100);
    expect(all[0]!.id).toBe('e1199');
    expect(all.map((e) => e.startedAt)).toEqual([...all.map((e) => e.startedAt)].sort((a, b) => b - a));
    expect(store.list({ limit: 5000 })).toHaveLength(1000);
    expect(store.list({ limit: 3 }).map((e) => e.id)).toEqual(['e1199', 'e1198', 'e1197']);
    expect(() => store.list({ limit: 0 })).toThrow(TypeError);
    expect(() => store.list({ limit: 1.5 })).toThrow(TypeError);

    const odd = store.list({ camera: 'odd', limit: 1000 });
    expect(odd).toHaveLength(600);
    expect(odd.every((e) => e.camera === 'odd')).toBe(true);
    const oddLaneFrozen = store.list({ camera: 'odd', zone: 'lane', kind: 'frozen', limit: 1000 });
    const expected = [];
    for (let i = 1199; i >= 0; i--) if (i % 2 && i % 3 && !(i % 5)) expected.push(`e${i}`);
    expect(oddLaneFrozen.map((e) => e.id)).toEqual(expected);
    expect(store.list({ camera: 'nobody' })).toEqual([]);
  });

  it('list() with since/until returns the events overlapping [since, until), open ones included', () => {
    const store = open(dbPath());
    // before: ended before since; early: started before since, ended inside; inside; open: started
    // inside, still open; late: starts at until (excluded); spans: covers the whole interval.
    store.upsert(event('before', { startedAt: 0, updatedAt: 50, endedAt: 99 }));
    store.upsert(event('early', { startedAt: 10, updatedAt: 120, endedAt: 150 }));
    store.upsert(event('edge', { startedAt: 20, updatedAt: 90, endedAt: 100 }));
    store.upsert(event('inside', { startedAt: 110, updatedAt: 130, endedAt: 140 }));
    store.upsert(event('open', { startedAt: 150, updatedAt: 160, endedAt: null, mediaEndS: null }));
    store.upsert(event('late', { startedAt: 200, updatedAt: 210, endedAt: 220 }));
    store.upsert(event('spans', { startedAt: 5, updatedAt: 300, endedAt: 400 }));
    const ids = (q: Parameters<EventStore['list']>[0]): string[] => store.list(q).map((e) => e.id);
    expect(ids({ since: 100, until: 200 })).toEqual(['open', 'inside', 'edge', 'early', 'spans']);
    expect(ids({ since: 100 })).toEqual(['late', 'open', 'inside', 'edge', 'early', 'spans']);
    expect(ids({ until: 20 })).toEqual(['early', 'spans', 'before']);
    expect(ids({ since: 1000 })).toEqual(['open']);
    expect(() => store.list({ since: Number.NaN })).toThrow(TypeError);
  });

  it('keeps its events across a restart (close and open again)', () => {
    const path = dbPath();
    const first = EventStore.open(path);
    first.upsert(event('a'));
    first.upsert(event('b', { startedAt: T0 + 10 }));
    first.putSnapshot('b', new Uint8Array([1, 2, 3]));
    first.close();
    first.close(); // safe twice
    expect(() => first.get('a')).toThrow(/closed/);
    const again = open(path);
    expect(again.list({}).map((e) => e.id)).toEqual(['b', 'a']);
    expect(again.get('b')!.snapshot).toBe('/events/b/snapshot.jpg');
    expect([...again.snapshot('b')!]).toEqual([1, 2, 3]);
  });

  it('ends an event left open by a process that died at its updatedAt when opened again', () => {
    const path = dbPath();
    const died = EventStore.open(path);
    died.upsert(event('open', { updatedAt: T0 + 4321, endedAt: null, mediaUpdatedS: 15.5, mediaEndS: null }));
    died.upsert(event('done'));
    // The process dies: its handle goes without closeOpen().
    died.close();
    const again = open(path);
    expect(again.get('open')).toEqual(event('open', { updatedAt: T0 + 4321, endedAt: T0 + 4321, mediaUpdatedS: 15.5, mediaEndS: 15.5 }));
    expect(again.get('done')).toEqual(event('done'));
    expect(again.closeOpen()).toEqual([]);
  });

  it('closeOpen() ends every open event at its updatedAt and returns them', () => {
    const store = open(dbPath());
    store.upsert(event('a', { updatedAt: T0 + 100, endedAt: null, mediaUpdatedS: 20, mediaEndS: null }));
    store.upsert(event('b', { updatedAt: T0 + 200, endedAt: null, mediaUpdatedS: 30, mediaEndS: null }));
    store.upsert(event('c'));
    const closed = store.closeOpen(T0 + 150);
    expect(closed.map((e) => [e.id, e.endedAt, e.mediaEndS]).sort()).toEqual([
      ['a', T0 + 100, 20],
      // Its updatedAt lies after `now` (a clock that stepped back): it ends at `now`.
      ['b', T0 + 150, 30],
    ]);
    expect(store.get('a')!.endedAt).toBe(T0 + 100);
    expect(store.list({}).every((e) => e.endedAt !== null)).toBe(true);
  });

  it('prune() deletes the events that ended more than maxAgeS ago, never an open one', () => {
    const day = 24 * 3600 * 1000;
    const now = T0 + 100 * day;
    const store = open(dbPath(), { maxAgeS: 10 * 24 * 3600 });
    store.upsert(event('old', { startedAt: now - 20 * day, updatedAt: now - 20 * day, endedAt: now - 11 * day }));
    store.putSnapshot('old', new Uint8Array(1000));
    store.upsert(event('recent', { startedAt: now - 20 * day, updatedAt: now - 20 * day, endedAt: now - 9 * day }));
    store.upsert(event('ancientButOpen', { startedAt: now - 50 * day, updatedAt: now - 50 * day, endedAt: null, mediaEndS: null }));
    expect(store.prune(now)).toEqual({ byAge: 1, bySize: 0, snapshots: 0 });
    expect(store.get('old')).toBeUndefined();
    expect(store.snapshot('old')).toBeUndefined();
    expect(store.list({}).map((e) => e.id).sort()).toEqual(['ancientButOpen', 'recent']);
    expect(store.prune(now)).toEqual({ byAge: 0, bySize: 0, snapshots: 0 });
  });

  it('prune() gets the database under maxBytes by dropping the oldest snapshots first, and the file shrinks', () => {
    const path = dbPath();
    const maxBytes = 2 * 1024 * 1024;
    const store = open(path, { maxBytes });
    const jpeg = new Uint8Array(50_000).fill(0xab);
    for (let i = 0; i < 100; i++) {
      store.upsert(event(`e${i}`, { startedAt: T0 + i, updatedAt: T0 + i, endedAt: T0 + i + 1 }));
      store.putSnapshot(`e${i}`, jpeg);
    }
    store.upsert(event('open', { startedAt: T0 - 1, updatedAt: T0, endedAt: null, mediaEndS: null }));
    store.putSnapshot('open', jpeg);
    const before = store.sizeBytes();
    expect(before).toBeGreaterThan(5_000_000);

    const r = store.prune(T0 + 1000);
    expect(r.byAge).toBe(0);
    expect(r.bySize).toBe(0);
    expect(r.snapshots).toBeGreaterThan(50);
    expect(store.sizeBytes()).toBeLessThanOrEqual(maxBytes);
    // The file itself shrank (free pages returned, the WAL truncated).
    const fileBytes = statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    expect(fileBytes).toBeLessThanOrEqual(maxBytes + 64 * 1024);
    // Every event is kept; the oldest lost their snapshots, the newest and the open one keep theirs.
    const events = store.list({ limit: 1000 });
    expect(events).toHaveLength(101);
    const withSnapshot = events.filter((e) => e.snapshot !== null).map((e) => e.id);
    expect(withSnapshot).toContain('open');
    expect(withSnapshot).toContain('e99');
    expect(withSnapshot).not.toContain('e0');
    expect(store.snapshot('e0')).toBeUndefined();
    const kept = withSnapshot.filter((id) => id !== 'open').map((id) => Number(id.slice(1)));
    expect(Math.min(...kept)).toBe(100 - kept.length); // a contiguous run of the newest
  });

  it('prune() deletes the oldest ended events once no old snapshot is left to drop', () => {
    const path = dbPath();
    const maxBytes = 256 * 1024;
    const store = open(path, { maxBytes });
    const detail = Object.fromEntries(Array.from({ length: 200 }, (_, k) => [`metric_${k}`, k + 0.25]));
    for (let i = 0; i < 300; i++) store.upsert(event(`e${i}`, { startedAt: T0 + i, updatedAt: T0 + i, endedAt: T0 + i + 1, detail }));
    store.upsert(event('open', { startedAt: T0 - 5, updatedAt: T0, endedAt: null, mediaEndS: null }));
    expect(store.sizeBytes()).toBeGreaterThan(maxBytes);
    const r = store.prune(T0 + 1000);
    expect(r.bySize).toBeGreaterThan(0);
    expect(store.sizeBytes()).toBeLessThanOrEqual(maxBytes);
    const ids = store.list({ limit: 1000 }).map((e) => e.id);
    expect(ids).toContain('open');
    expect(ids).toContain('e299');
    expect(ids).not.toContain('e0');
    expect(ids).toHaveLength(301 - r.bySize);
  });

  it('stores hostile strings as data (parameters only)', () => {
    const path = dbPath();
    const store = open(path);
    const hostile = [`'; DROP TABLE events; --`, `"quoted" 'single' \`back\``, 'Robert\'); DELETE FROM snapshots;--', '😀 ﬁre ＣＡＲ \u202ecar', 'nul\u0000inside', '%_*?\\'];
    hostile.forEach((s, i) => {
      store.upsert(event(s, { camera: s, zone: s, labels: [s, '\ud800 lone surrogate'], startedAt: T0 + i }));
      store.putSnapshot(s, Buffer.from(s));
    });
    const big = event('big', { labels: ['x'.repeat(1024 * 1024)], detail: { '__proto__': 1, 'constructor': 2 } as Record<string, number> });
    store.upsert(big);
    for (const s of hostile) {
      expect(store.get(s)!.camera).toBe(s);
      expect(store.get(s)!.labels).toEqual([s, '\ud800 lone surrogate']);
      expect(store.list({ camera: s, zone: s }).map((e) => e.id)).toEqual([s]);
      expect(store.snapshot(s)!.toString()).toBe(s);
    }
    expect(store.get('big')).toEqual(big);
    // LIKE wildcards mean nothing in an equality filter.
    expect(store.list({ camera: '%' })).toEqual([]);
    store.close();
    // The tables are all there.
    const db = new Database(path, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    db.close();
    expect(tables).toEqual([{ name: 'events' }, { name: 'snapshots' }]);
  });

  it('upsert() refuses an event whose indexed fields have the wrong types (TypeError)', () => {
    const store = open(dbPath());
    expect(() => store.upsert(event(''))).toThrow(TypeError);
    expect(() => store.upsert(event('a', { startedAt: Number.NaN }))).toThrow(/startedAt/);
    expect(() => store.upsert({ ...event('a'), camera: 5 } as unknown as RoadEvent)).toThrow(/camera/);
    expect(store.list({})).toEqual([]);
  });

  it('open() of a file that is not a database throws E_CONFIG naming the path', () => {
    const path = dbPath();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'this is not a database, just some text '.repeat(200));
    const err = thrownSegstreamError(() => EventStore.open(path));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(path);
  });

  it('open() of a SQLite database of something else throws E_CONFIG', () => {
    const path = dbPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const db = new Database(path);
    db.exec('CREATE TABLE other (x)');
    db.close();
    const err = thrownSegstreamError(() => EventStore.open(path));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(path);
  });

  it('open() of a database with a newer schema version throws E_CONFIG and leaves it alone', () => {
    const path = dbPath();
    EventStore.open(path).close();
    const db = new Database(path);
    db.pragma('user_version = 2');
    db.close();
    const err = thrownSegstreamError(() => EventStore.open(path));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/newer/);
    const check = new Database(path);
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    check.close();
  });

  it('open() where the directory cannot be created throws E_CONFIG naming the path', () => {
    // A regular file where the directory should be: fails for root too.
    const file = join(ROOT, `plain-file-${++n}`);
    writeFileSync(file, 'x');
    const path = join(file, 'sub', 'events.db');
    const err = thrownSegstreamError(() => EventStore.open(path));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(path);
  });

  it.skipIf(process.getuid?.() === 0)('open() in a directory without write permission throws E_CONFIG', () => {
    const dir = join(ROOT, `readonly-${++n}`);
    mkdirSync(dir, { mode: 0o500 });
    chmodSync(dir, 0o500);
    const path = join(dir, 'events.db');
    const err = thrownSegstreamError(() => EventStore.open(path));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(path);
    chmodSync(dir, 0o700);
  });

  it('defaultEventsDbPath() uses XDG_DATA_HOME, else ~/.local/share, never the working directory', () => {
    expect(defaultEventsDbPath({ XDG_DATA_HOME: '/data/x', HOME: '/home/u' })).toBe('/data/x/segstream/events.db');
    expect(defaultEventsDbPath({ HOME: '/home/u' })).toBe('/home/u/.local/share/segstream/events.db');
    // A relative XDG_DATA_HOME is invalid by the spec and ignored.
    expect(defaultEventsDbPath({ XDG_DATA_HOME: 'rel', HOME: '/home/u' })).toBe('/home/u/.local/share/segstream/events.db');
    expect(defaultEventsDbPath({ XDG_DATA_HOME: '' })).toBe(join(homedir(), '.local/share/segstream/events.db'));
    expect(defaultEventsDbPath({})).toBe(join(homedir(), '.local/share/segstream/events.db'));
  });
});
