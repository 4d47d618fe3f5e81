import { performance } from 'node:perf_hooks';
import { filter, type Subscription } from 'rxjs';
import type { Logger } from '../core/index.js';
import type { Broker, BrokerKv, KvChange } from './broker.js';

/** A key as the mirror holds it: its parsed value, revision, and when this process saw it written. */
export interface Mirrored<T> {
  readonly value: T;
  readonly revision: number;
  /** performance.now() when this revision arrived (a key that ages out is not announced: judge by this). */
  readonly seenAt: number;
}

/**
 * A local copy of a KV bucket, kept by its watch and read again in full after each reconnect
 * (keys deleted while disconnected go; unchanged ones keep when they were first seen, so a dead
 * node's lease does not look fresh). Values that do not parse are skipped, logged once per key.
 */
export class KvMirror<T> {
  private readonly map = new Map<string, Mirrored<T>>();
  private stopWatch: (() => void) | undefined;
  private readonly sub: Subscription;
  private readonly badKeys = new Set<string>();
  private resyncing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly kv: BrokerKv,
    private readonly broker: Broker,
    private readonly parse: (value: Uint8Array, key: string) => T | undefined,
    private readonly log: Logger,
    private readonly onChange: (key: string, now: Mirrored<T> | undefined, before: Mirrored<T> | undefined) => void = () => undefined,
  ) {
    this.sub = broker.connection$.pipe(filter((up) => up)).subscribe(() => {
      if (this.stopWatch) void this.resync();
    });
  }

  /** Reads the bucket and starts watching it. */
  start(): Promise<void> {
    return this.resync();
  }

  get(key: string): Mirrored<T> | undefined {
    return this.map.get(key);
  }

  entries(): IterableIterator<[string, Mirrored<T>]> {
    return this.map.entries();
  }

  get size(): number {
    return this.map.size;
  }

  /** Takes in this process's own write at once (read-your-writes; the watch brings the same revision later). */
  note(key: string, value: Uint8Array | null, revision: number): void {
    this.apply({ key, value, revision });
  }

  stop(): void {
    this.stopped = true;
    this.sub.unsubscribe();
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  private resync(): Promise<void> {
    return (this.resyncing ??= (async () => {
      try {
        this.stopWatch?.();
        const all = await this.kv.entries();
        if (this.stopped) return;
        const present = new Set(all.map((e) => e.key));
        for (const [key, before] of [...this.map]) {
          if (!present.has(key)) {
            this.map.delete(key);
            this.onChange(key, undefined, before);
          }
        }
        for (const e of all) this.apply({ key: e.key, value: e.value, revision: e.revision });
        this.stopWatch = await this.kv.watch((c) => this.apply(c));
        if (this.stopped) this.stopWatch();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'a key-value bucket could not be read; trying again on the next reconnect');
        // A watch is wanted even so: the next reconnect resyncs.
        this.stopWatch ??= () => undefined;
      } finally {
        this.resyncing = undefined;
      }
    })());
  }

  private apply(c: KvChange): void {
    const before = this.map.get(c.key);
    if (c.value === null) {
      // A delete older than the value held (this process noted its newer write first) is stale.
      if (!before || before.revision > c.revision) return;
      this.map.delete(c.key);
      this.onChange(c.key, undefined, before);
      return;
    }
    if (before && before.revision >= c.revision) return;
    const value = this.parse(c.value, c.key);
    if (value === undefined) {
      if (!this.badKeys.has(c.key)) this.log.warn({ key: c.key }, 'a key-value entry does not parse; skipped');
      this.badKeys.add(c.key);
      return;
    }
    const now: Mirrored<T> = { value, revision: c.revision, seenAt: performance.now() };
    this.map.set(c.key, now);
    this.onChange(c.key, now, before);
  }
}

/** JSON bytes -> value, or undefined when they are not JSON. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}
