import { readFileSync } from 'node:fs';
import { BehaviorSubject, type Observable } from 'rxjs';
import { connect, headers as natsHeaders, nkeyAuthenticator, type NatsConnection, type MsgHdrs, type Subscription, type ConnectionOptions } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { redactUrl, SegstreamError, silentLogger, summariseString, type Logger } from '../core/index.js';
import { KvConflict, type Broker, type BrokerKv, type BrokerMessage, type BrokerStream, type KvChange, type KvValue } from './broker.js';

/** How to reach and authenticate to the broker; secrets here are never logged. */
export interface NatsOptions {
  /** nats://host:port, comma-separated for several servers. */
  readonly url: string;
  /** The connection's name as the server shows it (the node's name). */
  readonly name: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** An NKey seed (SU...), the file's content. */
  readonly nkeySeed?: string;
  /** First wait before reconnecting, ms; doubles up to `reconnectMaxMs`, with jitter. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly log?: Logger;
}

/** Reads an NKey seed file (E_CONFIG naming the field when it cannot be read or holds no seed). */
export function readNkeySeed(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SegstreamError('E_CONFIG', `invalid configuration: broker.nkeySeedFile: cannot read '${path}': ${(err as Error).message}`, { expected: 'a readable file holding an NKey seed' });
  }
  const seed = /\bSU[A-Z2-7]{50,}\b/.exec(text)?.[0];
  if (!seed) throw new SegstreamError('E_CONFIG', `invalid configuration: broker.nkeySeedFile: '${path}' holds no user NKey seed (SU...)`, { expected: 'an NKey user seed' });
  return seed;
}

/** The broker URLs as they may be logged: credentials in them replaced by ***. */
export function displayBrokerUrl(url: string): string {
  return url
    .split(',')
    .map((u) => {
      const s = u.trim();
      // A server given without its scheme (user:pass@host:port) is redacted as the nats:// URL it is.
      return s.includes('://') ? redactUrl(s) : redactUrl(`nats://${s}`).slice('nats://'.length);
    })
    .join(',');
}

/**
 * NATS with JetStream behind the Broker interface. Reconnects forever with exponential backoff
 * and jitter; while disconnected, publishes are dropped (not buffered: the nats client would
 * send them late), requests fail at once with E_BROKER.
 */
export class NatsBroker implements Broker {
  private readonly state = new BehaviorSubject(true);
  private readonly subs = new Set<Subscription>();
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly log: Logger,
  ) {
    void this.watchStatus();
  }

  /**
   * Connects, waiting (and retrying with backoff) until the broker answers the first time:
   * a node or gateway started before its broker comes up when it does. Credentials come from
   * the options; the URL is logged without them.
   */
  static async connect(options: NatsOptions): Promise<NatsBroker> {
    const log = options.log ?? silentLogger();
    const min = options.reconnectMinMs ?? 250;
    const max = options.reconnectMaxMs ?? 5000;
    let attempt = 0;
    const servers = options.url.split(',').map((u) => u.trim()).filter((u) => u !== '');
    if (servers.length === 0) throw new SegstreamError('E_CONFIG', 'invalid configuration: broker.url: empty', { expected: 'nats://host:port' });
    // Credentials in a URL (nats://user:pass@host) count as given, unless given apart; the
    // client is handed the servers without them (it would drop them itself).
    let urlUser: string | undefined;
    let urlPass: string | undefined;
    for (const [i, s] of servers.entries()) {
      let u: URL;
      try {
        u = new URL(s.includes('://') ? s : `nats://${s}`);
      } catch {
        throw new SegstreamError('E_CONFIG', `invalid configuration: broker.url: not a URL: ${summariseString(displayBrokerUrl(s), 200)}`, { expected: 'nats://host:port' });
      }
      if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(u.protocol)) {
        throw new SegstreamError('E_CONFIG', `invalid configuration: broker.url: ${u.protocol} is not a NATS URL`, { expected: 'nats://host:port', actual: u.protocol });
      }
      if (u.username !== '' || u.password !== '') {
        urlUser ??= decodeURIComponent(u.username);
        urlPass ??= u.password === '' ? undefined : decodeURIComponent(u.password);
        u.username = '';
        u.password = '';
        servers[i] = u.toString().replace(/\/$/, '');
      }
    }
    const user = options.user ?? (options.token === undefined && options.nkeySeed === undefined ? urlUser : undefined);
    const password = options.user !== undefined ? options.password : urlPass;
    const opts: ConnectionOptions = {
      servers,
      name: options.name,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
      // Exponential backoff with jitter, reset once connected (see watchStatus).
      reconnectDelayHandler: () => {
        const base = Math.min(max, min * 2 ** Math.min(attempt++, 16));
        return base / 2 + Math.random() * (base / 2);
      },
      pingInterval: 5000,
      maxPingOut: 2,
      ...(user !== undefined ? { user, ...(password !== undefined ? { pass: password } : {}) } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.nkeySeed !== undefined ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed)) } : {}),
    };
    log.info({ broker: displayBrokerUrl(options.url) }, 'connecting to the broker');
    let nc: NatsConnection;
    try {
      nc = await connect(opts);
    } catch (err) {
      throw new SegstreamError('E_BROKER', `cannot connect to the broker ${displayBrokerUrl(options.url)}: ${brokerReason(err)}`, { cause: err });
    }
    // JetStream calls (lease renewals among them) give up after 2 s: a round never waits longer.
    const broker = new NatsBroker(nc, jetstream(nc, { timeout: 2000 }), log);
    broker.resetBackoff = () => (attempt = 0);
    log.info({ broker: displayBrokerUrl(options.url), server: nc.info?.server_name }, 'connected to the broker');
    return broker;
  }

  private resetBackoff: () => void = () => undefined;

  get connected(): boolean {
    return this.state.value && !this.nc.isClosed();
  }

  get connection$(): Observable<boolean> {
    return this.state.asObservable();
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        if (this.state.value) this.log.warn('broker connection lost: reconnecting with backoff');
        this.state.next(false);
      } else if (s.type === 'reconnect') {
        this.resetBackoff();
        this.log.info('broker connection restored');
        this.state.next(true);
      } else if (s.type === 'error') {
        this.log.warn({ err: brokerReason(s.error) }, 'broker error');
      }
    }
  }

  publish(subject: string, data: Uint8Array | string, headers?: Readonly<Record<string, string>>): boolean {
    if (!this.connected) return false;
    try {
      this.nc.publish(subject, data, headers ? { headers: toHeaders(headers) } : undefined);
      return true;
    } catch {
      return false;
    }
  }

  subscribe(subject: string, handler: (msg: BrokerMessage) => void): () => void {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        try {
          handler({ subject: msg.subject, data: msg.data, headers: fromHeaders(msg.headers) });
        } catch (e) {
          this.log.error({ err: e, subject }, 'a broker message handler failed; message skipped');
        }
      },
    });
    return this.track(sub);
  }

  async request(subject: string, data: Uint8Array | string, timeoutMs: number): Promise<Uint8Array> {
    if (!this.connected) throw new SegstreamError('E_BROKER', 'the broker is not connected');
    try {
      const reply = await this.nc.request(subject, data, { timeout: timeoutMs, noMux: false });
      return reply.data;
    } catch (err) {
      const reason = brokerReason(err);
      if (/no responders/i.test(reason)) throw new SegstreamError('E_NO_NODE', 'no node answers for it', { cause: err });
      if (/timeout/i.test(reason)) throw new SegstreamError('E_NO_NODE', `no node answered within ${timeoutMs} ms`, { cause: err });
      throw new SegstreamError('E_BROKER', `broker request failed: ${reason}`, { cause: err });
    }
  }

  serve(subject: string, handler: (data: Uint8Array) => Promise<Uint8Array | string>): () => void {
    const sub = this.nc.subscribe(subject, {
      queue: 'segstream',
      callback: (err, msg) => {
        if (err) return;
        handler(msg.data)
          .then((reply) => {
            msg.respond(reply);
          })
          .catch((e: unknown) => this.log.error({ err: e, subject }, 'a broker request handler failed (or its reply could not be sent); not answered'));
      },
    });
    return this.track(sub);
  }

  private track(sub: Subscription): () => void {
    this.subs.add(sub);
    return () => {
      if (!this.subs.delete(sub)) return;
      try {
        sub.unsubscribe();
      } catch {
        // closed already
      }
    };
  }

  async kv(name: string, options: { maxAgeMs?: number } = {}): Promise<BrokerKv> {
    const kvm = new Kvm(this.js);
    let kv: KV;
    try {
      kv = await kvm.create(name, { history: 1, ...(options.maxAgeMs ? { ttl: options.maxAgeMs } : {}) });
    } catch (err) {
      throw new SegstreamError('E_BROKER', `the broker's key-value bucket ${name} cannot be opened (is JetStream on: nats-server -js?): ${brokerReason(err)}`, { cause: err });
    }
    const status = await kv.status();
    return new NatsKv(kv, status.ttl, this.log);
  }

  async stream(name: string, subjects: readonly string[], options: { maxAgeMs: number; maxBytes: number }): Promise<BrokerStream> {
    try {
      const jsm = await jetstreamManager(this.nc);
      try {
        await jsm.streams.info(name);
      } catch (err) {
        if (!(err instanceof JetStreamApiError) || !/not found/i.test(err.message)) throw err;
        await jsm.streams.add({ name, subjects: [...subjects], max_age: Math.round(options.maxAgeMs * 1e6), max_bytes: options.maxBytes }).catch((e: unknown) => {
          // Created meanwhile by another node: that one is it.
          if (!(e instanceof JetStreamApiError) || !/already in use/i.test(e.message)) throw e;
        });
      }
    } catch (err) {
      if (err instanceof SegstreamError) throw err;
      throw new SegstreamError('E_BROKER', `the broker's stream ${name} cannot be opened (is JetStream on: nats-server -js?): ${brokerReason(err)}`, { cause: err });
    }
    return new NatsStream(this.js, name, this.log);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sub of this.subs) {
      try {
        sub.unsubscribe();
      } catch {
        // closed already
      }
    }
    this.subs.clear();
    try {
      if (this.connected) await this.nc.drain();
      else await this.nc.close();
    } catch {
      await this.nc.close().catch(() => undefined);
    }
    this.state.next(false);
    this.state.complete();
  }
}

class NatsKv implements BrokerKv {
  constructor(
    private readonly kv: KV,
    readonly maxAgeMs: number,
    private readonly log: Logger,
  ) {}

  async get(key: string): Promise<KvValue | null> {
    const e = await this.kv.get(key).catch(rethrow);
    if (!e || e.operation !== 'PUT') return null;
    return { key, value: e.value, revision: e.revision };
  }

  create(key: string, value: Uint8Array | string): Promise<number> {
    return this.kv.create(key, value).catch((err: unknown) => conflictOr(key, err));
  }

  update(key: string, value: Uint8Array | string, revision: number): Promise<number> {
    return this.kv.update(key, value, revision).catch((err: unknown) => conflictOr(key, err));
  }

  put(key: string, value: Uint8Array | string): Promise<number> {
    return this.kv.put(key, value).catch(rethrow);
  }

  delete(key: string, revision?: number): Promise<void> {
    return this.kv.delete(key, revision === undefined ? undefined : { previousSeq: revision }).catch((err: unknown) => conflictOr(key, err));
  }

  async watch(onChange: (change: KvChange) => void): Promise<() => void> {
    const it = await this.kv.watch().catch(rethrow);
    void (async () => {
      for await (const e of it) {
        try {
          onChange({ key: e.key, value: e.operation === 'PUT' ? e.value : null, revision: e.revision });
        } catch (err) {
          this.log.error({ err, key: e.key }, 'a key-value change handler failed; change skipped');
        }
      }
    })();
    return () => it.stop();
  }

  async entries(): Promise<KvValue[]> {
    const out: KvValue[] = [];
    const keys = await this.kv.keys().catch(rethrow);
    const names: string[] = [];
    for await (const k of keys) names.push(k);
    for (const k of names) {
      const v = await this.get(k);
      if (v) out.push(v);
    }
    return out;
  }
}

class NatsStream implements BrokerStream {
  constructor(
    private readonly js: JetStreamClient,
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  async append(subject: string, data: Uint8Array | string, headers?: Readonly<Record<string, string>>): Promise<void> {
    try {
      await this.js.publish(subject, data, headers ? { headers: toHeaders(headers) } : undefined);
    } catch (err) {
      throw new SegstreamError('E_BROKER', `not stored in the stream: ${brokerReason(err)}`, { cause: err });
    }
  }

  async replay(handler: (msg: BrokerMessage) => void): Promise<() => void> {
    // An ordered consumer: in order, recreated at the next sequence after a reconnect.
    const consumer = await this.js.consumers.get(this.name, { deliver_policy: DeliverPolicy.All }).catch(rethrow);
    const messages = await consumer.consume().catch(rethrow);
    void (async () => {
      for await (const m of messages) {
        try {
          handler({ subject: m.subject, data: m.data, headers: fromHeaders(m.headers), time: Math.floor(Number(m.info.timestampNanos) / 1e6) });
        } catch (err) {
          this.log.error({ err, subject: m.subject }, 'a stream message handler failed; message skipped');
        }
      }
    })();
    return () => void messages.stop();
  }
}

function toHeaders(h: Readonly<Record<string, string>>): MsgHdrs {
  const out = natsHeaders();
  for (const [k, v] of Object.entries(h)) out.set(k, v);
  return out;
}

function fromHeaders(h: MsgHdrs | undefined): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  if (!h) return out;
  for (const k of h.keys()) out.set(k, h.get(k));
  return out;
}

function brokerReason(err: unknown): string {
  return summariseString(err instanceof Error ? err.message : String(err), 300);
}

function rethrow(err: unknown): never {
  if (err instanceof SegstreamError) throw err;
  throw new SegstreamError('E_BROKER', `broker: ${brokerReason(err)}`, { cause: err });
}

function conflictOr(key: string, err: unknown): never {
  const reason = brokerReason(err);
  if (/wrong last sequence|key exists/i.test(reason)) throw new KvConflict(key, reason);
  rethrow(err);
}
