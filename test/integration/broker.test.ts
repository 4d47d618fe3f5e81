import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvConflict, NatsBroker, type BrokerMessage, type KvChange } from '../../src/cluster/index.js';
import { SegstreamError } from '../../src/core/index.js';
import { startNats, type NatsServer } from '../helpers/nats.js';
import { sleep, waitUntil } from '../helpers/processes.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A pino logger into memory, every level. */
function memoryLog(): { log: Logger; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { log: pino({ level: 'trace' }, stream), text: () => out };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

/** Fast reconnects, so the outage tests stay short. */
const FAST = { reconnectMinMs: 50, reconnectMaxMs: 250 };

describe('NatsBroker (real nats-server -js)', () => {
  let nats: NatsServer;
  let broker: NatsBroker;

  beforeAll(async () => {
    nats = await startNats();
    broker = await NatsBroker.connect({ url: nats.url, name: 'broker-test', ...FAST });
  });
  afterAll(async () => {
    await broker?.close();
    await nats?.dispose();
  });

  it('connects', () => {
    expect(broker.connected).toBe(true);
  });

  it('refuses URLs that are not NATS URLs before connecting (E_CONFIG)', async () => {
    for (const url of ['', ' , ', 'http://127.0.0.1:4222', 'nats://[bad']) {
      const err = await rejection(NatsBroker.connect({ url, name: 'x' }));
      expect(err, url).toBeInstanceOf(SegstreamError);
      expect((err as SegstreamError).code).toBe('E_CONFIG');
    }
  });

  describe('kv', () => {
    it('create twice: the second is a KvConflict', async () => {
      const kv = await broker.kv('t-create');
      const rev = await kv.create('k', 'one');
      expect(rev).toBeGreaterThan(0);
      const err = await rejection(kv.create('k', 'two'));
      expect(err).toBeInstanceOf(KvConflict);
      expect((err as KvConflict).key).toBe('k');
      expect(text((await kv.get('k'))!.value)).toBe('one');
    });

    it('update at the current revision writes; at a stale one is a KvConflict', async () => {
      const kv = await broker.kv('t-update');
      const r1 = await kv.create('k', 'v1');
      const r2 = await kv.update('k', 'v2', r1);
      expect(r2).toBeGreaterThan(r1);
      expect(await rejection(kv.update('k', 'v3', r1))).toBeInstanceOf(KvConflict);
      const now = (await kv.get('k'))!;
      expect([now.key, text(now.value), now.revision]).toEqual(['k', 'v2', r2]);
      // Updating a key that is not there is a conflict too.
      expect(await rejection(kv.update('absent', 'x', 1))).toBeInstanceOf(KvConflict);
    });

    it('delete at a stale revision is a KvConflict and leaves the key; at the current one it goes', async () => {
      const kv = await broker.kv('t-delete');
      const r1 = await kv.create('k', 'v1');
      const r2 = await kv.put('k', 'v2');
      expect(await rejection(kv.delete('k', r1))).toBeInstanceOf(KvConflict);
      expect(text((await kv.get('k'))!.value)).toBe('v2');
      await kv.delete('k', r2);
      expect(await kv.get('k')).toBeNull();
      expect(await kv.entries()).toEqual([]);
      // Created again after a delete.
      await kv.create('k', 'v3');
      expect(text((await kv.get('k'))!.value)).toBe('v3');
      // An unconditional delete.
      await kv.delete('k');
      expect(await kv.get('k')).toBeNull();
    });

    it('a bucket with maxAgeMs ages a key out (get null, create works again) and says its age', async () => {
      const kv = await broker.kv('t-age', { maxAgeMs: 1500 });
      expect(kv.maxAgeMs).toBe(1500);
      await kv.create('lease', 'a');
      const t0 = Date.now();
      expect(await kv.get('lease')).not.toBeNull();
      let gone = false;
      while (!gone && Date.now() - t0 < 6000) {
        await sleep(100);
        gone = (await kv.get('lease')) === null;
      }
      expect(gone).toBe(true);
      // Not before its age (allow for the server's expiry timer).
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
      expect(await kv.entries()).toEqual([]);
      await kv.create('lease', 'b');
      expect(text((await kv.get('lease'))!.value)).toBe('b');
    });

    it('the age limit is the bucket\'s: opened again with another, or none, it keeps the first', async () => {
      const first = await broker.kv('t-age-keep', { maxAgeMs: 1500 });
      const again = await broker.kv('t-age-keep', { maxAgeMs: 60_000 });
      const plain = await broker.kv('t-age-keep');
      expect([first.maxAgeMs, again.maxAgeMs, plain.maxAgeMs]).toEqual([1500, 1500, 1500]);
      expect((await broker.kv('t-no-age')).maxAgeMs).toBe(0);
    });

    it('watch delivers the current values, then each change (deletes as null)', async () => {
      const kv = await broker.kv('t-watch');
      const ra = await kv.put('a', '1');
      const rb = await kv.put('b', '2');
      const seen: KvChange[] = [];
      const stop = await kv.watch((c) => seen.push(c));
      await waitUntil('current values', () => seen.length >= 2, 5000);
      expect(seen.map((c) => [c.key, c.value && text(c.value), c.revision])).toEqual([
        ['a', '1', ra],
        ['b', '2', rb],
      ]);
      const rc = await kv.put('c', '3');
      await kv.delete('a');
      const ra2 = await kv.put('b', '22');
      await waitUntil('changes', () => seen.length >= 5, 5000);
      expect(seen.slice(2).map((c) => [c.key, c.value && text(c.value)])).toEqual([
        ['c', '3'],
        ['a', null],
        ['b', '22'],
      ]);
      expect(seen[2]!.revision).toBe(rc);
      expect(seen[4]!.revision).toBe(ra2);
      stop();
      await kv.put('d', '4');
      await sleep(200);
      expect(seen).toHaveLength(5);
      // entries: every key with a value now.
      expect((await kv.entries()).map((e) => [e.key, text(e.value)]).sort()).toEqual([
        ['b', '22'],
        ['c', '3'],
        ['d', '4'],
      ]);
    });
  });

  describe('request / serve', () => {
    it('a request nobody serves is E_NO_NODE, at once (not after the timeout)', async () => {
      const t0 = Date.now();
      const err = await rejection(broker.request('t.nobody', 'hi', 5000));
      expect(err).toBeInstanceOf(SegstreamError);
      expect((err as SegstreamError).code).toBe('E_NO_NODE');
      expect(Date.now() - t0).toBeLessThan(2000);
    });

    it('serve answers requests; a request to a handler that never answers is E_NO_NODE after its timeout', async () => {
      // serve() subscribes without waiting for the server: give each a moment before another connection asks.
      const unserve = broker.serve('t.echo', async (d) => `echo:${text(d)}`);
      const other = await NatsBroker.connect({ url: nats.url, name: 'broker-test-2' });
      await sleep(100);
      try {
        expect(text(await other.request('t.echo', 'ping', 2000))).toBe('echo:ping');
        expect(text(await broker.request('t.echo', new TextEncoder().encode('bytes'), 2000))).toBe('echo:bytes');
        const unslow = broker.serve('t.slow', () => new Promise(() => undefined));
        await sleep(100);
        const t0 = Date.now();
        const err = await rejection(other.request('t.slow', 'x', 300));
        expect((err as SegstreamError).code).toBe('E_NO_NODE');
        expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
        unslow();
        // A handler that fails is not answered (the requester times out), and the server goes on.
        const unfail = broker.serve('t.fail', async () => {
          throw new Error('boom');
        });
        await sleep(100);
        expect(((await rejection(other.request('t.fail', 'x', 300))) as SegstreamError).code).toBe('E_NO_NODE');
        unfail();
        unserve();
        await sleep(100);
        expect(((await rejection(other.request('t.echo', 'ping', 2000))) as SegstreamError).code).toBe('E_NO_NODE');
      } finally {
        await other.close();
      }
    });

    it('two servers of one subject: each request is answered once', async () => {
      const other = await NatsBroker.connect({ url: nats.url, name: 'broker-test-3' });
      let a = 0;
      let b = 0;
      const ua = broker.serve('t.queue', async () => `a${++a}`);
      const ub = other.serve('t.queue', async () => `b${++b}`);
      try {
        await sleep(100);
        for (let i = 0; i < 20; i++) await broker.request('t.queue', 'x', 2000);
        expect(a + b).toBe(20);
      } finally {
        ua();
        ub();
        await other.close();
      }
    });
  });

  describe('publish / subscribe', () => {
    it('delivers data and headers to a wildcard subscriber, until unsubscribed', async () => {
      const got: BrokerMessage[] = [];
      const unsub = broker.subscribe('t.frames.*', (m) => got.push(m));
      const other = await NatsBroker.connect({ url: nats.url, name: 'broker-test-4' });
      try {
        await sleep(100);
        expect(other.publish('t.frames.cam=1', '{"a":1}', { node: 'n1', lease: '42', targets: '' })).toBe(true);
        expect(other.publish('t.frames.cam2', new Uint8Array([1, 2, 3]))).toBe(true);
        expect(other.publish('t.status.cam2', 'not for it')).toBe(true);
        await waitUntil('two messages', () => got.length >= 2, 5000);
        await sleep(100);
        expect(got).toHaveLength(2);
        expect(got[0]!.subject).toBe('t.frames.cam=1');
        expect(text(got[0]!.data)).toBe('{"a":1}');
        expect(got[0]!.headers.get('node')).toBe('n1');
        expect(got[0]!.headers.get('lease')).toBe('42');
        expect(got[0]!.time).toBeUndefined();
        expect([...got[1]!.data]).toEqual([1, 2, 3]);
        expect(got[1]!.headers.size).toBe(0);
        unsub();
        unsub(); // idempotent
        other.publish('t.frames.cam2', 'late');
        await sleep(150);
        expect(got).toHaveLength(2);
      } finally {
        await other.close();
      }
    });

    it('a handler that throws does not stop the subscription', async () => {
      const got: string[] = [];
      const unsub = broker.subscribe('t.throw', (m) => {
        got.push(text(m.data));
        if (got.length === 1) throw new Error('handler bug');
      });
      broker.publish('t.throw', 'one');
      broker.publish('t.throw', 'two');
      await waitUntil('both', () => got.length >= 2, 5000);
      expect(got).toEqual(['one', 'two']);
      unsub();
    });
  });

  describe('stream', () => {
    it('replays appended messages in order with their store time, and a replay started later gets all from the first', async () => {
      const s = await broker.stream('t-events', ['t.events.*', 't.snapshots.*'], { maxAgeMs: 60_000, maxBytes: 1 << 20 });
      const before = Date.now();
      for (let i = 0; i < 5; i++) await s.append(i % 2 === 0 ? 't.events.cam' : 't.snapshots.cam', `m${i}`, i === 1 ? { event: 'e-1' } : undefined);
      const a: BrokerMessage[] = [];
      const stopA = await s.replay((m) => a.push(m));
      await waitUntil('replay a', () => a.length >= 5, 5000);
      expect(a.map((m) => [m.subject, text(m.data)])).toEqual([
        ['t.events.cam', 'm0'],
        ['t.snapshots.cam', 'm1'],
        ['t.events.cam', 'm2'],
        ['t.snapshots.cam', 'm3'],
        ['t.events.cam', 'm4'],
      ]);
      expect(a[1]!.headers.get('event')).toBe('e-1');
      for (const m of a) {
        expect(m.time).toBeGreaterThanOrEqual(before - 1000);
        expect(m.time).toBeLessThanOrEqual(Date.now() + 1000);
      }
      const times = a.map((m) => m.time!);
      expect([...times].sort((x, y) => x - y)).toEqual(times);
      // New ones follow, in order.
      await s.append('t.events.cam', 'm5');
      await waitUntil('live message', () => a.length >= 6, 5000);
      expect(text(a[5]!.data)).toBe('m5');
      // Opened again (an existing stream) and replayed from the start by a latecomer.
      const again = await broker.stream('t-events', ['t.events.*', 't.snapshots.*'], { maxAgeMs: 60_000, maxBytes: 1 << 20 });
      const b: string[] = [];
      const stopB = await again.replay((m) => b.push(text(m.data)));
      await waitUntil('replay b', () => b.length >= 6, 5000);
      expect(b).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      stopA();
      stopB();
      await sleep(100);
      await s.append('t.events.cam', 'm6');
      await sleep(300);
      expect(a).toHaveLength(6);
      expect(b).toHaveLength(6);
    });
  });
});

describe('NatsBroker through a broker outage (real nats-server, stopped and started)', () => {
  let nats: NatsServer;
  let broker: NatsBroker;
  const mem = memoryLog();

  beforeAll(async () => {
    nats = await startNats();
    broker = await NatsBroker.connect({ url: nats.url, name: 'outage-test', log: mem.log, ...FAST });
  });
  afterAll(async () => {
    await broker?.close();
    await nats?.dispose();
  });

  it('goes disconnected, drops publishes, fails requests with E_BROKER; comes back with its subscriptions and buckets', async () => {
    const states: boolean[] = [];
    const sub = broker.connection$.subscribe((up) => states.push(up));
    const got: string[] = [];
    broker.subscribe('o.frames.*', (m) => got.push(text(m.data)));
    const unserve = broker.serve('o.control.cam', async (d) => `ok:${text(d)}`);
    const kv = await broker.kv('o-bucket');
    await kv.put('k', 'before');
    expect(broker.publish('o.frames.cam', 'one')).toBe(true);
    await waitUntil('first message', () => got.length === 1, 5000);

    await nats.stop();
    await waitUntil('disconnected', () => !broker.connected, 10_000);
    expect(broker.publish('o.frames.cam', 'dropped')).toBe(false);
    const err = await rejection(broker.request('o.control.cam', 'x', 1000));
    expect((err as SegstreamError).code).toBe('E_BROKER');
    expect(mem.text()).toMatch(/broker connection lost/);

    await nats.start();
    await waitUntil('reconnected', () => broker.connected, 15_000);
    expect(states[0]).toBe(true);
    expect(states).toContain(false);
    expect(states.at(-1)).toBe(true);
    // The subscription made before the outage works again without subscribing anew.
    await waitUntil('a publish that arrives again', () => {
      broker.publish('o.frames.cam', 'two');
      return got.includes('two');
    }, 10_000, 200);
    expect(got).not.toContain('dropped');
    expect(text(await broker.request('o.control.cam', 'again', 2000))).toBe('ok:again');
    // JetStream state survived on the server's store; the bucket handle works again.
    expect(text((await kv.get('k'))!.value)).toBe('before');
    await kv.put('k', 'after');
    expect(text((await kv.get('k'))!.value)).toBe('after');
    expect(mem.text()).toMatch(/broker connection restored/);
    unserve();
    sub.unsubscribe();
  });

  it('connect waits for a broker that is not up yet, and resolves once it is', async () => {
    await nats.stop();
    let done = false;
    const p = NatsBroker.connect({ url: nats.url, name: 'early-bird', ...FAST }).then((b) => {
      done = true;
      return b;
    });
    await sleep(800);
    expect(done).toBe(false);
    await nats.start();
    const early = await p;
    try {
      expect(early.connected).toBe(true);
      await waitUntil('the first broker back too', () => broker.connected, 15_000);
    } finally {
      await early.close();
    }
  });

  it('close() is idempotent and leaves it disconnected', async () => {
    const b = await NatsBroker.connect({ url: nats.url, name: 'closer' });
    await b.close();
    await b.close();
    expect(b.connected).toBe(false);
    expect(b.publish('o.frames.cam', 'x')).toBe(false);
    expect(((await rejection(b.request('o.control.cam', 'x', 500))) as SegstreamError).code).toBe('E_BROKER');
  });
});

describe('NatsBroker credentials (nats-server --user --pass)', () => {
  const PASSWORD = 's3cret-pw';
  let nats: NatsServer;
  const mem = memoryLog();

  beforeAll(async () => {
    nats = await startNats({ args: ['--user', 'alice', '--pass', PASSWORD] });
  });
  afterAll(async () => {
    await nats?.dispose();
  });

  it('connects with user and password and works', async () => {
    const b = await NatsBroker.connect({ url: nats.url, name: 'cred-ok', user: 'alice', password: PASSWORD, log: mem.log });
    try {
      const kv = await b.kv('c-bucket');
      await kv.put('k', 'v');
      expect(text((await kv.get('k'))!.value)).toBe('v');
    } finally {
      await b.close();
    }
  });

  it('a wrong password never connects: connect fails with E_BROKER (authorization), without the password', async () => {
    let connected = false;
    const p = NatsBroker.connect({ url: nats.url, name: 'cred-bad', user: 'alice', password: 'wrong-pw-123', log: mem.log, ...FAST }).then((b) => {
      connected = true;
      return b.close();
    });
    const outcome = await Promise.race([p.then(() => 'connected', (e: unknown) => e), sleep(2000).then(() => 'pending')]);
    expect(connected).toBe(false);
    if (outcome !== 'pending') {
      expect(outcome).toBeInstanceOf(SegstreamError);
      expect((outcome as SegstreamError).code).toBe('E_BROKER');
      expect((outcome as SegstreamError).message).toMatch(/authori[sz]ation/i);
      expect((outcome as SegstreamError).message).not.toContain('wrong-pw-123');
    }
    expect(mem.text()).not.toContain('wrong-pw-123');
    // No anonymous connection either.
    const anon = await Promise.race([NatsBroker.connect({ url: nats.url, name: 'cred-none', log: mem.log, ...FAST }).then((b) => b.close().then(() => 'connected'), () => 'refused'), sleep(2000).then(() => 'pending')]);
    expect(anon).not.toBe('connected');
  });

  it('credentials in the URL authenticate, and the password is never logged nor put in an error', async () => {
    const inUrl = `nats://alice:${PASSWORD}@127.0.0.1:${nats.port}`;
    const outcomes: unknown[] = [];
    for (const url of [inUrl, `alice:${PASSWORD}@127.0.0.1:${nats.port}`]) {
      const r = await Promise.race([
        NatsBroker.connect({ url, name: 'cred-url', log: mem.log, ...FAST }).then(
          async (b) => {
            await b.close();
            return 'connected';
          },
          (e: unknown) => e,
        ),
        sleep(2000).then(() => 'pending'),
      ]);
      outcomes.push(r);
      if (r instanceof Error) expect(r.message).not.toContain(PASSWORD);
    }
    // The URL itself was logged, redacted.
    expect(mem.text()).toContain(`nats://alice:***@127.0.0.1:${nats.port}`);
    expect(mem.text()).toContain(`"alice:***@127.0.0.1:${nats.port}"`);
    expect(mem.text()).not.toContain(PASSWORD);
    // Credentials in the URL authenticate (the client would drop them: they are taken out and given apart).
    expect(outcomes).toEqual(['connected', 'connected']);
  });
});
