import type { Observable } from 'rxjs';

/**
 * The little a cluster needs from a message broker: fire-and-forget publish/subscribe,
 * request/reply, a key-value bucket with compare-and-set and a bucket-wide age limit, and one
 * persistent, replayable stream. NATS with JetStream implements it (nats.ts); another broker
 * can be added behind the same interface (as DeepStream's message-broker adapters are).
 * Payloads are bytes; what they hold is the cluster's business (JSON, JPEG).
 */
export interface Broker {
  /** Connected now (publishes go out; requests can be answered). */
  readonly connected: boolean;
  /** `connected` / `disconnected` as the connection comes and goes (it reconnects by itself). */
  readonly connection$: Observable<boolean>;
  /**
   * Sends at most once, to whoever listens now. While disconnected nothing is queued for
   * later (a frame sent after the fact is worse than none): returns false, dropped.
   */
  publish(subject: string, data: Uint8Array | string, headers?: Readonly<Record<string, string>>): boolean;
  /** Every message on `subject` (`*` and `>` wildcards), until the returned function is called. */
  subscribe(subject: string, handler: (msg: BrokerMessage) => void): () => void;
  /**
   * One request, one reply within `timeoutMs`. Rejects with E_NO_NODE when nobody listens on
   * `subject` or nobody answers in time, E_BROKER while disconnected.
   */
  request(subject: string, data: Uint8Array | string, timeoutMs: number): Promise<Uint8Array>;
  /** Answers requests on `subject` (one listener of a queue group answers each), until the returned function is called. */
  serve(subject: string, handler: (data: Uint8Array) => Promise<Uint8Array | string>): () => void;
  /** A key-value bucket, created if missing; `maxAgeMs` (creation only) ages out every key's last write. */
  kv(name: string, options?: { maxAgeMs?: number }): Promise<BrokerKv>;
  /** A persistent stream over `subjects`, created if missing; `maxAgeMs` and `maxBytes` bound it (creation only). */
  stream(name: string, subjects: readonly string[], options: { maxAgeMs: number; maxBytes: number }): Promise<BrokerStream>;
  /** Flushes what was published and closes; idempotent. */
  close(): Promise<void>;
}

export interface BrokerMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: ReadonlyMap<string, string>;
  /** Stream messages: when the broker stored it, ms epoch (the broker's clock). */
  readonly time?: number;
}

/** A key's value and the revision to compare-and-set against. */
export interface KvValue {
  readonly key: string;
  readonly value: Uint8Array;
  readonly revision: number;
}

/** A change to a key: a value, or null when it was deleted. (Keys that age out are not announced.) */
export interface KvChange {
  readonly key: string;
  readonly value: Uint8Array | null;
  readonly revision: number;
}

export interface BrokerKv {
  /** The bucket's age limit, ms (0: none): set by whoever created it. */
  readonly maxAgeMs: number;
  /** The key's value; null when it is absent, deleted or aged out. */
  get(key: string): Promise<KvValue | null>;
  /** Creates the key; rejects with a KvConflict when it exists. Returns its revision. */
  create(key: string, value: Uint8Array | string): Promise<number>;
  /** Writes the key if it is still at `revision`; else rejects with a KvConflict. */
  update(key: string, value: Uint8Array | string, revision: number): Promise<number>;
  /** Writes the key whatever it holds. */
  put(key: string, value: Uint8Array | string): Promise<number>;
  /** Deletes the key (only if still at `revision`, when given: else a KvConflict). */
  delete(key: string, revision?: number): Promise<void>;
  /** Every key's current value, then each change as it happens, until the returned function is called. */
  watch(onChange: (change: KvChange) => void): Promise<() => void>;
  /** Every key with a value now. */
  entries(): Promise<KvValue[]>;
}

export interface BrokerStream {
  /** Appends, acknowledged once stored. */
  append(subject: string, data: Uint8Array | string, headers?: Readonly<Record<string, string>>): Promise<void>;
  /**
   * Every stored message from the first, then each new one, in order, until the returned
   * function is called (resumes after a reconnect without repeating what it delivered).
   */
  replay(handler: (msg: BrokerMessage) => void): Promise<() => void>;
}

/** A compare-and-set that lost: the key was not at the revision expected (or existed, for create). */
export class KvConflict extends Error {
  constructor(readonly key: string, message: string) {
    super(message);
    this.name = 'KvConflict';
  }
}
