import { SegstreamClientError } from './errors.js';
import type { RequestId, ServerMessage } from './types.js';

interface Pending {
  /** The reply type that resolves it. */
  readonly reply: ServerMessage['type'];
  readonly resolve: (m: ServerMessage) => void;
  readonly reject: (e: SegstreamClientError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Requests waiting for their reply. Prompts and pings carry an `id` the server echoes in its
 * reply (and in its error reply), so they are paired by id: their replies may come in any
 * order. `subscribe` has no id (the server's schema rejects one); its reply, `subscribed` or an
 * error without id, comes in order, so those wait in a FIFO.
 */
export class PendingRequests {
  private nextId = 1;
  private readonly byId = new Map<RequestId, Pending>();
  private readonly ordered: Pending[] = [];

  get size(): number {
    return this.byId.size + this.ordered.length;
  }

  /** An id no waiting request has. */
  newId(): number {
    return this.nextId++;
  }

  /** The promise of the reply of type `reply` (or the error reply) that echoes `id`; E_TIMEOUT after `timeoutMs`. */
  withId<T extends ServerMessage>(id: RequestId, reply: T['type'], what: string, timeoutMs: number): Promise<T> {
    return this.wait<T>(reply, what, timeoutMs, (p) => this.byId.set(id, p), () => this.byId.delete(id));
  }

  /** The promise of the next reply of type `reply` (or error reply without id), in order. */
  inOrder<T extends ServerMessage>(reply: T['type'], what: string, timeoutMs: number): Promise<T> {
    return this.wait<T>(reply, what, timeoutMs, (p) => this.ordered.push(p), (p) => {
      const i = this.ordered.indexOf(p);
      if (i >= 0) this.ordered.splice(i, 1);
    });
  }

  /** Settles the request a reply belongs to; false when it belongs to none (an event, or a late reply). */
  settle(m: ServerMessage): boolean {
    const id = 'id' in m ? m.id : undefined;
    if (id !== undefined) {
      const p = this.byId.get(id);
      if (!p || (m.type !== 'error' && m.type !== p.reply)) return false;
      this.byId.delete(id);
      this.finish(p, m);
      return true;
    }
    const p = this.ordered[0];
    if (!p || (m.type !== 'error' && m.type !== p.reply)) return false;
    // An error without an id may be the answer to a request with one whose id the server could
    // not read (too large, too deep): it settles an in-order request only when no other waits.
    if (m.type === 'error' && this.byId.size > 0) return false;
    this.ordered.shift();
    this.finish(p, m);
    return true;
  }

  /** Rejects every waiting request (connection lost, client closed). */
  rejectAll(err: SegstreamClientError): void {
    const all = [...this.byId.values(), ...this.ordered];
    this.byId.clear();
    this.ordered.length = 0;
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  private finish(p: Pending, m: ServerMessage): void {
    clearTimeout(p.timer);
    if (m.type === 'error') p.reject(SegstreamClientError.fromWire(m));
    else p.resolve(m);
  }

  private wait<T extends ServerMessage>(reply: T['type'], what: string, timeoutMs: number, add: (p: Pending) => void, remove: (p: Pending) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const p: Pending = {
        reply,
        resolve: resolve as (m: ServerMessage) => void,
        reject,
        timer: setTimeout(() => {
          remove(p);
          reject(new SegstreamClientError('E_TIMEOUT', `no reply to ${what} within ${Math.round(timeoutMs)} ms`));
        }, Math.max(0, timeoutMs)),
      };
      add(p);
    });
  }
}
