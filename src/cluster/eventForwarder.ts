import type { Subscription } from 'rxjs';
import type { Logger } from '../core/index.js';
import type { App } from '../app.js';
import type { Broker, BrokerStream } from './broker.js';
import type { ClusterNames } from './subjects.js';

/** Event messages (and snapshots) waiting for the broker, at most; past it the oldest go (counted). */
export const MAX_PENDING_EVENTS = 1000;

interface Pending {
  readonly subject: string;
  readonly data: Uint8Array | string;
  readonly headers?: Record<string, string>;
}

/**
 * A node's road events into the broker's event stream, in order: each start's snapshot first
 * (`<p>.snapshots.<camera>`, header `event`), then its message (`<p>.events.<camera>`). Appends
 * wait for the stream's acknowledgement; while the broker is away they wait in a bounded queue
 * and go out, in order, when it is back.
 */
export class EventForwarder {
  private readonly queue: Pending[] = [];
  private pumping = false;
  private closed = false;
  private readonly sub: Subscription;
  private readonly reconnected: Subscription;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly stream: BrokerStream,
    private readonly broker: Broker,
    private readonly names: ClusterNames,
    private readonly app: App,
    private readonly log: Logger,
    private readonly dropped?: (kind: string) => void,
  ) {
    this.sub = app.events$.subscribe((m) => {
      if (m.state === 'start' && m.snapshot) {
        const jpeg = app.events.snapshot(m.id);
        if (jpeg) this.push({ subject: names.snapshots(m.camera), data: jpeg, headers: { event: m.id } });
      }
      this.push({ subject: names.events(m.camera), data: JSON.stringify(m) });
    });
    this.reconnected = broker.connection$.subscribe((up) => {
      if (up) this.wake?.();
    });
  }

  static async open(broker: Broker, names: ClusterNames, app: App, log: Logger, dropped?: (kind: string) => void): Promise<EventForwarder> {
    const ev = app.config.events;
    const stream = await broker.stream(names.eventStream, names.eventSubjects, { maxAgeMs: ev.maxAgeDays * 86_400_000, maxBytes: ev.maxBytes });
    return new EventForwarder(stream, broker, names, app, log, dropped);
  }

  private push(p: Pending): void {
    if (this.closed) return;
    this.queue.push(p);
    while (this.queue.length > MAX_PENDING_EVENTS) {
      this.queue.shift();
      this.dropped?.('event');
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const next = this.queue[0]!;
        try {
          await this.stream.append(next.subject, next.data, next.headers);
          if (this.queue[0] === next) this.queue.shift();
        } catch (err) {
          this.log.warn({ err: (err as Error).message, pending: this.queue.length }, 'event not stored in the broker yet; retrying');
          // Until the broker is back (or a second, whichever is first).
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 1000);
            this.wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          this.wake = undefined;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Waits up to `ms` for what is queued to be stored, then stops. */
  async close(ms = 2000): Promise<void> {
    const until = Date.now() + ms;
    while (this.queue.length > 0 && Date.now() < until && this.broker.connected) await new Promise((r) => setTimeout(r, 25));
    this.closed = true;
    this.sub.unsubscribe();
    this.reconnected.unsubscribe();
    this.wake?.();
  }
}
