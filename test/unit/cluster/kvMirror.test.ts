import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { BehaviorSubject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { KvConflict, type Broker, type BrokerKv, type KvChange, type KvValue } from '../../../src/cluster/broker.js';
import { KvMirror, parseJsonBytes, type Mirrored } from '../../../src/cluster/kvMirror.js';
import { SegstreamError } from '../../../src/core/index.js';
import { sleep } from '../../helpers/processes.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const json = (v: unknown): Uint8Array => enc(JSON.stringify(v));

/**
 * An in-memory bucket. Revisions are one sequence for the whole bucket (as JetStream's). While
 * `online` is false the "server" side still changes (another process writes) but nothing reaches
 * this process: reads reject and watchers hear nothing (what a broker outage looks like here).
 */
class MemKv implements BrokerKv {
  readonly maxAgeMs = 0;
  online = true;
  private seq = 0;
  private readonly data = new Map<string, { value: Uint8Array; revision: number }>();
  readonly watchers = new Set<(c: KvChange) => void>();
  watchCalls = 0;
  entriesCalls = 0;
  failNextEntries = false;

  /** A write by anyone (this process or another), at the server. */
  serverPut(key: string, value: Uint8Array | string): number {
    const revision = ++this.seq;
    const v = typeof value === 'string' ? enc(value) : value;
    this.data.set(key, { value: v, revision });
    this.emit({ key, value: v, revision });
    return revision;
  }

  serverDelete(key: string): number {
    const revision = ++this.seq;
    this.data.delete(key);
    this.emit({ key, value: null, revision });
    return revision;
  }

  /** Delivers a change to the watchers as it is (a late or repeated delivery). */
  emit(c: KvChange): void {
    if (!this.online) return;
    for (const w of [...this.watchers]) w(c);
  }

  private up(): void {
    if (!this.online) throw new SegstreamError('E_BROKER', 'broker: disconnected');
  }

  async get(key: string): Promise<KvValue | null> {
    this.up();
    const e = this.data.get(key);
    return e ? { key, ...e } : null;
  }

  async create(key: string, value: Uint8Array | string): Promise<number> {
    this.up();
    if (this.data.has(key)) throw new KvConflict(key, 'key exists');
    return this.serverPut(key, value);
  }

  async update(key: string, value: Uint8Array | string, revision: number): Promise<number> {
    this.up();
    if (this.data.get(key)?.revision !== revision) throw new KvConflict(key, 'wrong last sequence');
    return this.serverPut(key, value);
  }

  async put(key: string, value: Uint8Array | string): Promise<number> {
    this.up();
    return this.serverPut(key, value);
  }

  async delete(key: string, revision?: number): Promise<void> {
    this.up();
    if (revision !== undefined && this.data.get(key)?.revision !== revision) throw new KvConflict(key, 'wrong last sequence');
    this.serverDelete(key);
  }

  async watch(onChange: (change: KvChange) => void): Promise<() => void> {
    this.watchCalls++;
    this.up();
    // Every key's current value first, then the changes.
    for (const [key, e] of this.data) onChange({ key, value: e.value, revision: e.revision });
    this.watchers.add(onChange);
    return () => void this.watchers.delete(onChange);
  }

  async entries(): Promise<KvValue[]> {
    this.entriesCalls++;
    this.up();
    if (this.failNextEntries) {
      this.failNextEntries = false;
      throw new SegstreamError('E_BROKER', 'broker: timeout');
    }
    return [...this.data].map(([key, e]) => ({ key, ...e }));
  }
}

/** The broker double: only what KvMirror uses (connection$), toggled by the test. */
function brokerDouble(kv: MemKv): { broker: Broker; connection: BehaviorSubject<boolean>; down(): void; upAgain(): void } {
  const connection = new BehaviorSubject(true);
  const broker = { connection$: connection.asObservable() } as unknown as Broker;
  return {
    broker,
    connection,
    down: () => {
      kv.online = false;
      connection.next(false);
    },
    upAgain: () => {
      kv.online = true;
      connection.next(true);
    },
  };
}

interface Rec {
  name: string;
  n: number;
}

const parseRec = (bytes: Uint8Array): Rec | undefined => {
  const v = parseJsonBytes(bytes) as Partial<Rec> | undefined;
  return v && typeof v === 'object' && typeof v.name === 'string' && typeof v.n === 'number' ? { name: v.name, n: v.n } : undefined;
};

function memoryLogger(): { log: Logger; lines: () => { level: number; msg: string; key?: string }[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const log = pino({ level: 'debug' }, stream);
  return {
    log,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as { level: number; msg: string; key?: string }),
  };
}

type Change = { key: string; now: Mirrored<Rec> | undefined; before: Mirrored<Rec> | undefined };

function setup(prefill: Record<string, unknown> = {}) {
  const kv = new MemKv();
  for (const [k, v] of Object.entries(prefill)) kv.serverPut(k, typeof v === 'string' ? v : JSON.stringify(v));
  const b = brokerDouble(kv);
  const logger = memoryLogger();
  const changes: Change[] = [];
  const mirror = new KvMirror<Rec>(kv, b.broker, parseRec, logger.log, (key, now, before) => changes.push({ key, now, before }));
  mirrors.push(mirror);
  return { kv, ...b, logger, changes, mirror };
}

const mirrors: { stop(): void }[] = [];
afterEach(() => {
  for (const m of mirrors.splice(0)) m.stop();
});

const flush = (): Promise<void> => sleep(5);
const snapshot = (m: KvMirror<Rec>): Record<string, [Rec, number]> => Object.fromEntries([...m.entries()].map(([k, v]) => [k, [v.value, v.revision]]));

describe('KvMirror', () => {
  it('loads every key on start, parsed, with its revision', async () => {
    const { mirror, changes, kv } = setup({ a: { name: 'A', n: 1 }, b: { name: 'B', n: 2 } });
    expect(mirror.size).toBe(0);
    await mirror.start();
    expect(snapshot(mirror)).toEqual({ a: [{ name: 'A', n: 1 }, 1], b: [{ name: 'B', n: 2 }, 2] });
    expect(changes.map((c) => [c.key, c.now?.value.n, c.before])).toEqual([
      ['a', 1, undefined],
      ['b', 2, undefined],
    ]);
    // The watch's initial values (the same revisions) are not taken twice.
    expect(kv.watchers.size).toBe(1);
  });

  it('follows changes: new keys and new values, with the value before', async () => {
    const { mirror, changes, kv } = setup({ a: { name: 'A', n: 1 } });
    await mirror.start();
    changes.length = 0;
    const before = mirror.get('a')!;
    await sleep(3);
    kv.serverPut('a', JSON.stringify({ name: 'A', n: 10 }));
    kv.serverPut('c', JSON.stringify({ name: 'C', n: 3 }));
    expect(snapshot(mirror)).toEqual({ a: [{ name: 'A', n: 10 }, 2], c: [{ name: 'C', n: 3 }, 3] });
    expect(changes.map((c) => [c.key, c.now?.value.n, c.before?.value.n])).toEqual([
      ['a', 10, 1],
      ['c', 3, undefined],
    ]);
    expect(changes[0]!.before).toBe(before);
    expect(mirror.get('a')!.seenAt).toBeGreaterThan(before.seenAt);
  });

  it('drops deleted keys (once), and ignores deletes of keys it never had', async () => {
    const { mirror, changes, kv } = setup({ a: { name: 'A', n: 1 }, b: { name: 'B', n: 2 } });
    await mirror.start();
    changes.length = 0;
    kv.serverDelete('a');
    expect(mirror.get('a')).toBeUndefined();
    expect(mirror.size).toBe(1);
    expect(changes).toEqual([{ key: 'a', now: undefined, before: expect.objectContaining({ value: { name: 'A', n: 1 }, revision: 1 }) }]);
    kv.emit({ key: 'a', value: null, revision: 3 }); // repeated
    kv.emit({ key: 'zz', value: null, revision: 4 }); // never seen
    expect(changes).toHaveLength(1);
  });

  it('ignores a value older than (or as old as) the one it has', async () => {
    const { mirror, changes, kv } = setup();
    await mirror.start();
    kv.serverPut('a', JSON.stringify({ name: 'A', n: 1 }));
    kv.serverPut('a', JSON.stringify({ name: 'A', n: 2 }));
    const held = mirror.get('a')!;
    changes.length = 0;
    kv.emit({ key: 'a', value: json({ name: 'A', n: 1 }), revision: 1 });
    kv.emit({ key: 'a', value: json({ name: 'A', n: 99 }), revision: 2 });
    expect(mirror.get('a')).toBe(held);
    expect(changes).toEqual([]);
  });

  it('ignores a delete older than the value it has (its own write noted first, the watch late)', async () => {
    const { mirror, changes, kv } = setup({ a: { name: 'A', n: 1 } });
    await mirror.start();
    // This process deletes the key and creates it again at once, noting both; the watch then
    // brings the delete (revision 2) after the mirror took the new value (revision 3) in.
    kv.online = false; // hold the watch back
    mirror.note('a', null, 2);
    mirror.note('a', json({ name: 'A', n: 2 }), 3);
    changes.length = 0;
    kv.online = true;
    kv.emit({ key: 'a', value: null, revision: 2 });
    kv.emit({ key: 'a', value: json({ name: 'A', n: 2 }), revision: 3 });
    expect(mirror.get('a')?.value).toEqual({ name: 'A', n: 2 });
    expect(changes).toEqual([]);
  });

  it('skips values that do not parse, logging each key once, and takes a good value later', async () => {
    const { mirror, changes, kv, logger } = setup({ bad: 'not json {', good: { name: 'G', n: 1 }, shape: { name: 5 } });
    await mirror.start();
    expect(Object.keys(snapshot(mirror))).toEqual(['good']);
    kv.serverPut('bad', '\u0000\u00ff');
    kv.serverPut('bad', '[]');
    const warns = logger.lines().filter((l) => l.level === 40);
    expect(warns.filter((l) => l.key === 'bad')).toHaveLength(1);
    expect(warns.filter((l) => l.key === 'shape')).toHaveLength(1);
    kv.serverPut('bad', JSON.stringify({ name: 'now good', n: 7 }));
    expect(mirror.get('bad')?.value).toEqual({ name: 'now good', n: 7 });
    // A key with a good value keeps it when an unparsable one follows.
    changes.length = 0;
    kv.serverPut('good', 'garbage');
    expect(mirror.get('good')?.value).toEqual({ name: 'G', n: 1 });
    expect(changes).toEqual([]);
  });

  it('after a reconnect, drops keys deleted meanwhile, takes changed ones, and keeps seenAt of unchanged ones', async () => {
    const { mirror, changes, kv, down, upAgain } = setup({ gone: { name: 'X', n: 1 }, same: { name: 'S', n: 2 }, changed: { name: 'C', n: 3 } });
    await mirror.start();
    const same = mirror.get('same')!;
    const changedBefore = mirror.get('changed')!;
    changes.length = 0;
    down();
    await sleep(5);
    // Another process changes the bucket while this one hears nothing.
    kv.serverDelete('gone');
    kv.serverPut('changed', JSON.stringify({ name: 'C', n: 30 }));
    kv.serverPut('new', JSON.stringify({ name: 'N', n: 4 }));
    expect(mirror.get('gone')).toBeDefined();
    expect(mirror.get('new')).toBeUndefined();
    upAgain();
    await flush();
    expect(snapshot(mirror)).toEqual({ same: [{ name: 'S', n: 2 }, 2], changed: [{ name: 'C', n: 30 }, 5], new: [{ name: 'N', n: 4 }, 6] });
    // The unchanged key is the very same entry: seen when it was written, not at the resync.
    expect(mirror.get('same')).toBe(same);
    expect(mirror.get('changed')!.seenAt).toBeGreaterThan(changedBefore.seenAt);
    expect(changes.map((c) => [c.key, c.now?.value.n])).toEqual([
      ['gone', undefined],
      ['changed', 30],
      ['new', 4],
    ]);
    // One watch (the old one stopped), and it delivers each change once.
    expect(kv.watchers.size).toBe(1);
    changes.length = 0;
    kv.serverPut('same', JSON.stringify({ name: 'S', n: 20 }));
    expect(changes.map((c) => [c.key, c.now?.value.n])).toEqual([['same', 20]]);
  });

  it('does not resync on a connection$ that only repeats "up" before start', async () => {
    const { mirror, kv, connection } = setup({ a: { name: 'A', n: 1 } });
    connection.next(true);
    await flush();
    expect(kv.entriesCalls).toBe(0);
    await mirror.start();
    expect(kv.entriesCalls).toBe(1);
  });

  it('a failed read is logged, and the next reconnect reads again', async () => {
    const { mirror, kv, logger, down, upAgain } = setup({ a: { name: 'A', n: 1 } });
    kv.failNextEntries = true;
    await mirror.start();
    expect(mirror.size).toBe(0);
    expect(logger.lines().some((l) => l.level === 40 && /could not be read/.test(l.msg))).toBe(true);
    down();
    upAgain();
    await flush();
    expect(snapshot(mirror)).toEqual({ a: [{ name: 'A', n: 1 }, 1] });
    kv.serverPut('a', JSON.stringify({ name: 'A', n: 2 }));
    expect(mirror.get('a')?.value.n).toBe(2);
  });

  it('stop() ends the watch and later reconnects do nothing', async () => {
    const { mirror, kv, down, upAgain, changes } = setup({ a: { name: 'A', n: 1 } });
    await mirror.start();
    mirror.stop();
    expect(kv.watchers.size).toBe(0);
    changes.length = 0;
    kv.serverPut('a', JSON.stringify({ name: 'A', n: 2 }));
    down();
    upAgain();
    await flush();
    expect(kv.entriesCalls).toBe(1);
    expect(changes).toEqual([]);
    expect(mirror.get('a')?.value.n).toBe(1);
  });

  it('stop() during the first read leaves no watch behind', async () => {
    const { mirror, kv } = setup({ a: { name: 'A', n: 1 } });
    const started = mirror.start();
    mirror.stop();
    await started;
    await flush();
    expect(kv.watchers.size).toBe(0);
  });
});
