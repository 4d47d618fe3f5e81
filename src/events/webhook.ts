import { createHmac, randomUUID } from 'node:crypto';
import { SegstreamError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { redactText, redactUrl, urlSecrets } from '../core/redact.js';

/**
 * Posts JSON messages (road events) to one URL, one request at a time, in the order sent.
 *
 * Each message is a POST with `content-type: application/json`, `user-agent: segstream` and
 * `x-segstream-delivery: <uuid>`, the same uuid on every attempt, so a receiver de-duplicates
 * by it (a delivery whose answer was lost is sent again). With a secret, every attempt also
 * carries
 *   x-segstream-timestamp: <unix seconds when the attempt was made>
 *   x-segstream-signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
 * The receiver recomputes the HMAC over the raw body bytes, compares in constant time, and
 * refuses a timestamp more than a few minutes from its clock: a captured request cannot be
 * replayed later, nor its body reused with another timestamp.
 *
 * Answers: 2xx delivered. 408, 429 (after its Retry-After, seconds or an HTTP date, capped at
 * backoffMaxMs), 5xx, network errors and timeouts are retried with exponential backoff and
 * jitter, up to maxAttempts in all, then given up (`failed`). Redirects are not followed and
 * not retried: a 3xx means the URL is wrong (and following it would hand signed events to
 * another address). Other 4xx are not retried: the receiver refuses the message itself.
 *
 * Bounds: at most maxQueue messages wait, not counting the one in flight (or waiting to be
 * retried); on overflow the oldest waiting one is dropped. Response bodies are read and
 * discarded up to 64 KiB, then the connection is cut. Every message ends in exactly one of the
 * hooks `delivered`, `failed` or `dropped`.
 */

export interface WebhookOptions {
  /** http: or https:; user:password@ in it is sent as basic authentication, never logged. */
  url: string;
  /** Signs every request (HMAC-SHA256, see above); none: no signature headers. */
  secret?: string;
  /** Messages waiting behind the one in flight (default 1000). */
  maxQueue?: number;
  /** One attempt, connecting to the end of the answer, ms (default 5000). */
  timeoutMs?: number;
  /** Attempts per message, the first included (default 8: about a minute of retries with the default backoff). */
  maxAttempts?: number;
  /** First wait before a retry, ms (default 500); doubles per attempt. */
  backoffMinMs?: number;
  /** Longest wait before a retry, Retry-After included, ms (default 30000). */
  backoffMaxMs?: number;
}

/** Why a message was given up; few values, so fit for a metric label. */
export const WEBHOOK_FAILURES = ['timeout', 'network', 'server_error', 'throttled', 'rejected', 'redirect', 'unserialisable'] as const;
export type WebhookFailure = (typeof WEBHOOK_FAILURES)[number];

export interface WebhookHooks {
  log?: Logger;
  /** A message was answered 2xx. */
  delivered?(): void;
  /** A message was given up: not retryable, or out of attempts. */
  failed?(reason: WebhookFailure): void;
  /** `n` messages were dropped unsent or unfinished: queue overflow, or close(). */
  dropped?(n: number): void;
  /** A retry was scheduled. */
  retried?(): void;
}

export const WEBHOOK_DEFAULTS = { maxQueue: 1000, timeoutMs: 5000, maxAttempts: 8, backoffMinMs: 500, backoffMaxMs: 30_000 } as const;
/** Bytes of a response body read (and discarded) before the connection is cut. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Of which this much is kept for the log of a refused message. */
const LOGGED_RESPONSE_CHARS = 200;
/** At most one warning per kind per this, ms. */
const LOG_INTERVAL_MS = 10_000;

interface Message {
  readonly id: string;
  readonly body: string;
  /** An event's `update`: the first to go when the queue is full (its start and end matter more). */
  readonly minor: boolean;
}

type Outcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly retry: boolean; readonly reason: WebhookFailure; readonly status?: number; readonly error?: string; readonly response?: string; readonly retryAfterMs?: number };

export class WebhookSender {
  readonly #url: URL;
  readonly #authorization: string | undefined;
  readonly #shownUrl: string;
  readonly #secrets: string[];
  readonly #secret: string | undefined;
  readonly #o: Required<Omit<WebhookOptions, 'url' | 'secret'>>;
  readonly #hooks: WebhookHooks;
  readonly #log: Logger;
  readonly #throttle = new LogThrottle(LOG_INTERVAL_MS);

  #queue: Message[] = [];
  #current: Message | null = null;
  #busy = false;
  #loop: Promise<void> = Promise.resolve();
  #abort: AbortController | null = null;
  #wake: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(options: WebhookOptions, hooks: WebhookHooks = {}) {
    const url = WebhookSender.check(options.url);
    // Logs show the origin only: Slack-style hooks carry their secret in the path.
    this.#shownUrl = `${redactUrl(url.origin)}${url.pathname === '/' && url.search === '' ? '' : '/...'}`;
    this.#secrets = urlSecrets(url.href);
    if (url.username !== '' || url.password !== '') {
      const user = safeDecode(url.username);
      const password = safeDecode(url.password);
      this.#authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      for (const s of [user, password, url.username, url.password]) if (s !== '') this.#secrets.push(s);
      // fetch() refuses URLs with credentials; they go in the header instead.
      url.username = '';
      url.password = '';
    }
    this.#url = url;
    if (options.secret !== undefined) {
      if (typeof options.secret !== 'string' || options.secret === '') throw new TypeError('webhook secret must be a non-empty string');
      this.#secret = options.secret;
      this.#secrets.push(options.secret);
    }
    const o = { ...WEBHOOK_DEFAULTS, ...definedOnly({ maxQueue: options.maxQueue, timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, backoffMinMs: options.backoffMinMs, backoffMaxMs: options.backoffMaxMs }) };
    const bad = (k: string, v: number, want: string): never => {
      throw new TypeError(`webhook ${k} must be ${want}, got ${v}`);
    };
    if (!(Number.isInteger(o.maxQueue) && o.maxQueue >= 1)) bad('maxQueue', o.maxQueue, 'an integer >= 1');
    if (!(Number.isFinite(o.timeoutMs) && o.timeoutMs > 0)) bad('timeoutMs', o.timeoutMs, 'a finite number > 0');
    if (!(Number.isInteger(o.maxAttempts) && o.maxAttempts >= 1)) bad('maxAttempts', o.maxAttempts, 'an integer >= 1');
    if (!(Number.isFinite(o.backoffMinMs) && o.backoffMinMs >= 0)) bad('backoffMinMs', o.backoffMinMs, 'a finite number >= 0');
    if (!(Number.isFinite(o.backoffMaxMs) && o.backoffMaxMs >= o.backoffMinMs)) bad('backoffMaxMs', o.backoffMaxMs, `a finite number >= backoffMinMs (${o.backoffMinMs})`);
    this.#o = o;
    this.#hooks = hooks;
    this.#log = hooks.log ?? silentLogger();
  }

  /**
   * The URL parsed, or SegstreamError E_CONFIG unless it is a valid http: or https: URL with a
   * host. The message shows the URL with its password redacted.
   */
  static check(url: string): URL {
    const refuse = (why: string): never => {
      const shown = typeof url === 'string' ? redactUrl(url).slice(0, 200) : String(url);
      throw new SegstreamError('E_CONFIG', `webhook.url: ${why}: ${JSON.stringify(shown)}`, { expected: 'an http: or https: URL', actual: shown.slice(0, 80) });
    };
    if (typeof url !== 'string') return refuse('not a string');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return refuse('not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return refuse(`scheme ${parsed.protocol} is not http: or https:`);
    if (parsed.hostname === '') return refuse('no host');
    return parsed;
  }

  /** Messages waiting, not counting the one in flight. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues `body` (serialised now) and returns at once; never throws. */
  send(body: object): void {
    if (this.#closed) {
      this.#emit('dropped', 1);
      return;
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(body);
    } catch (err) {
      this.#warn('unserialisable', { error: err instanceof Error ? err.message : String(err) }, 'webhook: message not sent: not serialisable as JSON');
    }
    if (text === undefined) {
      this.#emit('failed', 'unserialisable');
      return;
    }
    this.#queue.push({ id: randomUUID(), body: text, minor: (body as { state?: unknown }).state === 'update' });
    if (this.#queue.length > this.#o.maxQueue) {
      // The oldest update if one waits (a receiver then still gets every start and end), else the oldest.
      const minor = this.#queue.findIndex((q) => q.minor);
      this.#queue.splice(minor >= 0 ? minor : 0, 1);
      this.#emit('dropped', 1);
      const suppressed = this.#throttle.admit('overflow');
      // This one and those dropped since the last line.
      if (suppressed !== null) this.#log.warn({ url: this.#shownUrl, kind: 'overflow', maxQueue: this.#o.maxQueue, dropped: suppressed + 1 }, 'webhook: queue full, oldest waiting messages dropped');
    }
    if (!this.#busy) this.#loop = this.#run();
  }

  /**
   * Resolves once nothing waits and nothing is in flight, or after `ms` (whichever first): a
   * short grace at shutdown for the last events (a receiver that is down does not hold it up longer).
   */
  async drain(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while ((this.#queue.length > 0 || this.#current !== null) && !this.#closed && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops: the request in flight is aborted, retries cancelled, waiting messages dropped (counted). Safe twice. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    const n = this.#queue.length + (this.#current ? 1 : 0);
    this.#queue = [];
    this.#current = null;
    this.#abort?.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.();
    if (n > 0) this.#emit('dropped', n);
    this.#throttle.flush((kind, suppressed) => this.#log.warn({ url: this.#shownUrl, kind, suppressed }, 'webhook: closed; failures not logged one by one'));
    this.#closing = this.#loop.then(() => undefined);
    return this.#closing;
  }

  async #run(): Promise<void> {
    // Set and cleared synchronously with the queue checks, so send() never finds the loop
    // finishing with a message it has not seen.
    this.#busy = true;
    try {
      for (let m = this.#queue.shift(); m !== undefined && !this.#closed; m = this.#queue.shift()) {
        this.#current = m;
        await this.#deliver(m);
        if (this.#current === m) this.#current = null;
      }
    } finally {
      this.#busy = false;
    }
  }

  async #deliver(m: Message): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.#attempt(m);
      if (this.#closed) return; // counted as dropped by close()
      if (r.ok) {
        this.#emit('delivered');
        return;
      }
      const retry = r.retry && attempt < this.#o.maxAttempts;
      const fields = { url: this.#shownUrl, delivery: m.id, attempt, status: r.status, error: r.error, response: r.response, retry };
      this.#warn(r.reason, fields, retry ? 'webhook: attempt failed, will retry' : 'webhook: message given up');
      if (!retry) {
        this.#emit('failed', r.reason);
        return;
      }
      const backoff = Math.min(this.#o.backoffMaxMs, this.#o.backoffMinMs * 2 ** (attempt - 1));
      // Jitter: a wait in [backoff/2, backoff], so senders that failed together spread out.
      const wait = r.retryAfterMs !== undefined ? Math.min(this.#o.backoffMaxMs, r.retryAfterMs) : backoff * (0.5 + 0.5 * Math.random());
      this.#emit('retried');
      await this.#sleep(wait);
      if (this.#closed) return;
    }
  }

  async #attempt(m: Message): Promise<Outcome> {
    const abort = new AbortController();
    this.#abort = abort;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.#o.timeoutMs);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'segstream',
      'x-segstream-delivery': m.id,
    };
    if (this.#authorization) headers['authorization'] = this.#authorization;
    if (this.#secret !== undefined) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      headers['x-segstream-timestamp'] = timestamp;
      headers['x-segstream-signature'] = `sha256=${createHmac('sha256', this.#secret).update(`${timestamp}.${m.body}`).digest('hex')}`;
    }
    try {
      const res = await fetch(this.#url, { method: 'POST', headers, body: m.body, redirect: 'manual', signal: abort.signal });
      const response = await drain(res);
      const status = res.status;
      if (status >= 200 && status < 300) return { ok: true };
      const shown = redactText(response, this.#secrets);
      if (status >= 300 && status < 400) return { ok: false, retry: false, reason: 'redirect', status };
      if (status === 408 || status === 429) {
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        return { ok: false, retry: true, reason: 'throttled', status, response: shown, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
      }
      if (status >= 500) return { ok: false, retry: true, reason: 'server_error', status, response: shown };
      return { ok: false, retry: false, reason: 'rejected', status, response: shown };
    } catch (err) {
      if (timedOut) return { ok: false, retry: true, reason: 'timeout', error: `no answer within ${this.#o.timeoutMs} ms` };
      return { ok: false, retry: true, reason: 'network', error: redactText(errorText(err), this.#secrets) };
    } finally {
      clearTimeout(timer);
      if (this.#abort === abort) this.#abort = null;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    }).then(() => {
      this.#wake = null;
      this.#timer = null;
    });
  }

  #warn(kind: string, fields: object, msg: string): void {
    const suppressed = this.#throttle.admit(kind);
    if (suppressed === null) return;
    this.#log.warn({ ...fields, kind, ...(suppressed > 0 ? { suppressed } : {}) }, msg);
  }

  #emit(hook: 'delivered' | 'retried'): void;
  #emit(hook: 'failed', reason: WebhookFailure): void;
  #emit(hook: 'dropped', n: number): void;
  #emit(hook: keyof Omit<WebhookHooks, 'log'>, arg?: unknown): void {
    try {
      (this.#hooks[hook] as ((a?: unknown) => void) | undefined)?.call(this.#hooks, arg);
    } catch (err) {
      // A throwing hook (a metrics bug) must not stop deliveries.
      this.#log.error({ err, hook }, 'webhook: hook threw');
    }
  }
}

/**
 * At most one log line per kind per interval: `admit` returns how many were suppressed since
 * the last line when this one may go out, else null (and counts it).
 */
class LogThrottle {
  readonly #last = new Map<string, { at: number; suppressed: number }>();
  constructor(readonly intervalMs: number) {}

  admit(kind: string, now = Date.now()): number | null {
    const s = this.#last.get(kind);
    if (s !== undefined && now - s.at < this.intervalMs) {
      s.suppressed++;
      return null;
    }
    const suppressed = s?.suppressed ?? 0;
    this.#last.set(kind, { at: now, suppressed: 0 });
    return suppressed;
  }

  /** Reports the kinds with suppressed lines not yet logged. */
  flush(report: (kind: string, suppressed: number) => void): void {
    for (const [kind, s] of this.#last) if (s.suppressed > 0) report(kind, s.suppressed);
    this.#last.clear();
  }
}

/** Reads the body up to MAX_RESPONSE_BYTES (then cuts it), returning its first characters. */
async function drain(res: Response): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (headBytes < LOGGED_RESPONSE_CHARS) {
        head.push(value.subarray(0, LOGGED_RESPONSE_CHARS - headBytes));
        headBytes += head[head.length - 1]!.byteLength;
      }
      if (total >= MAX_RESPONSE_BYTES) {
        await reader.cancel();
        break;
      }
    }
  } catch {
    // Cut (timeout) or reset mid-body: the status is what counts.
  }
  return Buffer.concat(head).toString('utf8');
}

/** Retry-After as ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** fetch() says "fetch failed"; the reason (ECONNREFUSED...) is in its cause. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message}: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`;
  }
  return err.message;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function definedOnly<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
