import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import { WebhookSender, type WebhookFailure, type WebhookHooks, type WebhookOptions } from '../../src/events/webhook.js';
import { thrownSegstreamError } from '../helpers/errors.js';
import { freePort, waitUntil } from '../helpers/processes.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** performance.now() when the request's body had arrived, ms. */
  readonly at: number;
}

type Handler = (req: Received, res: ServerResponse, n: number) => void;

/** A webhook receiver on 127.0.0.1: records every request, answers with `handler` (default 200). */
class Receiver {
  readonly received: Received[] = [];
  handler: Handler = (_r, res) => res.writeHead(200).end('ok');
  private constructor(
    readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const r = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rec = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() };
        r.received.push(rec);
        r.handler(rec, res, r.received.length);
      });
    });
    return r;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The hooks as counters, and a pino logger whose JSON lines are kept. */
function observe(): { hooks: Required<Omit<WebhookHooks, 'log'>> & { log: Logger }; counts: { delivered: number; failed: WebhookFailure[]; dropped: number; retried: number }; logs: Record<string, unknown>[]; raw: string[] } {
  const counts = { delivered: 0, failed: [] as WebhookFailure[], dropped: 0, retried: 0 };
  const raw: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const line = chunk.toString();
      raw.push(line);
      logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const log: Logger = pino({ level: 'debug' }, stream);
  return {
    hooks: {
      log,
      delivered: () => counts.delivered++,
      failed: (reason) => counts.failed.push(reason),
      dropped: (n) => (counts.dropped += n),
      retried: () => counts.retried++,
    },
    counts,
    logs,
    raw,
  };
}

/** Fast retries, so the tests wait milliseconds. */
const FAST: Partial<WebhookOptions> = { backoffMinMs: 5, backoffMaxMs: 20 };

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
async function receiver(): Promise<Receiver> {
  const r = await Receiver.start();
  cleanup.push(() => r.close());
  return r;
}
function sender(options: WebhookOptions, hooks?: WebhookHooks): WebhookSender {
  const s = new WebhookSender(options, hooks);
  cleanup.push(() => s.close());
  return s;
}

describe('WebhookSender', () => {
  it('delivers each message once, in order, as JSON with its headers', async () => {
    const rx = await receiver();
    const o = observe();
    const s = sender({ url: `${rx.url}/hook`, ...FAST }, o.hooks);
    for (let i = 0; i < 30; i++) s.send({ type: 'event', i, text: `ünïcode "${i}"` });
    await waitUntil('30 deliveries', () => o.counts.delivered === 30, 10_000);
    expect(rx.received.map((r) => JSON.parse(r.body).i)).toEqual([...Array(30).keys()]);
    expect(JSON.parse(rx.received[3]!.body)).toEqual({ type: 'event', i: 3, text: 'ünïcode "3"' });
    const h = rx.received[0]!.headers;
    expect(rx.received[0]!.path).toBe('/hook');
    expect(h['content-type']).toBe('application/json');
    expect(h['user-agent']).toBe('segstream');
    expect(h['x-segstream-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(rx.received.map((r) => r.headers['x-segstream-delivery'])).size).toBe(30);
    // No secret: no signature.
    expect(h['x-segstream-signature']).toBeUndefined();
    expect(h['x-segstream-timestamp']).toBeUndefined();
    expect(o.counts).toEqual({ delivered: 30, failed: [], dropped: 0, retried: 0 });
    expect(s.queued).toBe(0);
  });

  it('serialises the body when send() is called (later changes to the object are not sent)', async () => {
    const rx = await receiver();
    const o = observe();
    const s = sender({ url: rx.url }, o.hooks);
    const body = { n: 1 };
    s.send(body);
    s.send(body);
    body.n = 2;
    await waitUntil('2 deliveries', () => o.counts.delivered === 2, 10_000);
    expect(rx.received.map((r) => r.body)).toEqual(['{"n":1}', '{"n":1}']);
  });

  it('retries a message answered 500 twice, with the same delivery id, then sends the next', async () => {
    const rx = await receiver();
    rx.handler = (_r, res, n) => res.writeHead(n <= 2 ? 500 : 200).end();
    const o = observe();
    const s = sender({ url: rx.url, ...FAST }, o.hooks);
    s.send({ m: 'first' });
    s.send({ m: 'second' });
    await waitUntil('2 deliveries', () => o.counts.delivered === 2, 10_000);
    expect(rx.received.map((r) => JSON.parse(r.body).m)).toEqual(['first', 'first', 'first', 'second']);
    const ids = rx.received.map((r) => r.headers['x-segstream-delivery']);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[1]).toBe(ids[2]);
    expect(ids[3]).not.toBe(ids[0]);
    expect(o.counts).toEqual({ delivered: 2, failed: [], dropped: 0, retried: 2 });
  });

  it('signs each attempt: sha256 HMAC of timestamp + "." + body with the secret', async () => {
    const rx = await receiver();
    rx.handler = (_r, res, n) => res.writeHead(n === 1 ? 503 : 200).end();
    const secret = 'hook-secret-123';
    const o = observe();
    const s = sender({ url: rx.url, secret, ...FAST }, o.hooks);
    s.send({ hello: 'world', quote: '"' });
    await waitUntil('delivery', () => o.counts.delivered === 1, 10_000);
    expect(rx.received).toHaveLength(2);
    for (const r of rx.received) {
      const ts = r.headers['x-segstream-timestamp'] as string;
      expect(ts).toMatch(/^\d+$/);
      expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(300);
      const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`;
      const got = r.headers['x-segstream-signature'] as string;
      expect(timingSafeEqual(Buffer.from(got), Buffer.from(expected))).toBe(true);
      // Another secret does not verify.
      expect(got).not.toBe(`sha256=${createHmac('sha256', 'other').update(`${ts}.${r.body}`).digest('hex')}`);
    }
  });

  it('does not retry a 400 (counted as failed) and goes on with the next message', async () => {
    const rx = await receiver();
    rx.handler = (_r, res, n) => res.writeHead(n === 1 ? 400 : 200).end('bad event');
    const o = observe();
    const s = sender({ url: rx.url, ...FAST }, o.hooks);
    s.send({ m: 1 });
    s.send({ m: 2 });
    await waitUntil('second delivered', () => o.counts.delivered === 1, 10_000);
    expect(rx.received.map((r) => JSON.parse(r.body).m)).toEqual([1, 2]);
    expect(o.counts).toEqual({ delivered: 1, failed: ['rejected'], dropped: 0, retried: 0 });
    const warn = o.logs.find((l) => l['kind'] === 'rejected')!;
    expect(warn['status']).toBe(400);
    expect(warn['response']).toBe('bad event');
  });

  it('does not follow nor retry a redirect', async () => {
    const rx = await receiver();
    rx.handler = (r, res) => (r.path === '/hook' ? res.writeHead(307, { location: '/elsewhere' }).end() : res.writeHead(200).end());
    const o = observe();
    const s = sender({ url: `${rx.url}/hook`, ...FAST }, o.hooks);
    s.send({ m: 1 });
    await waitUntil('failure', () => o.counts.failed.length === 1, 10_000);
    expect(o.counts.failed).toEqual(['redirect']);
    expect(rx.received.map((r) => r.path)).toEqual(['/hook']);
  });

  it('gives up after maxAttempts (failed), then goes on', async () => {
    const rx = await receiver();
    rx.handler = (r, res) => res.writeHead(JSON.parse(r.body).m === 1 ? 502 : 200).end();
    const o = observe();
    const s = sender({ url: rx.url, maxAttempts: 4, ...FAST }, o.hooks);
    s.send({ m: 1 });
    s.send({ m: 2 });
    await waitUntil('second delivered', () => o.counts.delivered === 1, 10_000);
    expect(rx.received.map((r) => JSON.parse(r.body).m)).toEqual([1, 1, 1, 1, 2]);
    expect(o.counts).toEqual({ delivered: 1, failed: ['server_error'], dropped: 0, retried: 3 });
  });

  it('cuts an attempt the receiver never answers after timeoutMs, and retries it', async () => {
    const rx = await receiver();
    rx.handler = () => {}; // accepts, reads, never answers
    const o = observe();
    const s = sender({ url: rx.url, timeoutMs: 200, maxAttempts: 2, ...FAST }, o.hooks);
    s.send({ m: 1 });
    await waitUntil('failure', () => o.counts.failed.length === 1, 20_000);
    expect(o.counts.failed).toEqual(['timeout']);
    expect(rx.received).toHaveLength(2);
  });

  it('retries network errors (nothing listening)', async () => {
    const port = await freePort();
    const o = observe();
    const s = sender({ url: `http://127.0.0.1:${port}/`, maxAttempts: 3, ...FAST }, o.hooks);
    s.send({ m: 1 });
    await waitUntil('failure', () => o.counts.failed.length === 1, 10_000);
    expect(o.counts).toEqual({ delivered: 0, failed: ['network'], dropped: 0, retried: 2 });
    expect(String(o.logs[0]!['error'])).toMatch(/ECONNREFUSED/);
  });

  it('honours Retry-After (seconds) on a 429: the retry comes at least that much later', async () => {
    const rx = await receiver();
    rx.handler = (_r, res, n) => (n === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.writeHead(200).end());
    const o = observe();
    // Without Retry-After the retry would come after 5 to 10 ms.
    const s = sender({ url: rx.url, backoffMinMs: 10, backoffMaxMs: 5000 }, o.hooks);
    s.send({ m: 1 });
    await waitUntil('delivery', () => o.counts.delivered === 1, 10_000);
    expect(rx.received).toHaveLength(2);
    expect(rx.received[1]!.at - rx.received[0]!.at).toBeGreaterThanOrEqual(950);
    expect(o.counts.retried).toBe(1);
  });

  it('reads at most a small part of a response body, then moves on', async () => {
    const rx = await receiver();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    rx.handler = (_r, res, n) => {
      if (n > 1) return void res.writeHead(200).end();
      // An endless body.
      res.writeHead(200, { 'content-type': 'text/plain' });
      const more = (): void => {
        while (!res.destroyed && written < 1024 ** 3 && res.write(chunk)) written += chunk.length;
      };
      res.on('drain', more);
      more();
    };
    const o = observe();
    const s = sender({ url: rx.url, ...FAST }, o.hooks);
    s.send({ m: 1 });
    s.send({ m: 2 });
    await waitUntil('2 deliveries', () => o.counts.delivered === 2, 10_000);
    expect(written).toBeLessThan(64 * 1024 ** 2);
  });

  it('never blocks: 5000 sends to a receiver that never answers keep maxQueue waiting, drop the oldest, and close() ends at once', async () => {
    const rx = await receiver();
    rx.handler = () => {};
    const o = observe();
    const maxQueue = 100;
    // A long timeout: close() must abort the request, not wait for it.
    const s = new WebhookSender({ url: rx.url, maxQueue, timeoutMs: 600_000 }, o.hooks);
    for (let i = 0; i < 5000; i++) s.send({ i });
    // All 5000 calls returned before any request could even reach the receiver.
    expect(rx.received).toHaveLength(0);
    expect(o.counts.delivered).toBe(0);
    expect(s.queued).toBe(maxQueue);
    // The first went in flight at once; of the rest, all but the newest maxQueue were dropped.
    expect(o.counts.dropped).toBe(5000 - maxQueue - 1);
    const overflowLogs = o.logs.filter((l) => l['kind'] === 'overflow');
    expect(overflowLogs).toHaveLength(1);
    await waitUntil('first request received', () => rx.received.length === 1, 10_000);
    expect(JSON.parse(rx.received[0]!.body)).toEqual({ i: 0 });
    await s.close();
    expect(o.counts.dropped).toBe(5000);
    expect(o.counts.delivered).toBe(0);
    expect(s.queued).toBe(0);
    await s.close(); // safe twice
    s.send({ late: true }); // after close: dropped, not thrown
    expect(o.counts.dropped).toBe(5001);
    expect(rx.received).toHaveLength(1);
  });

  it('close() during a retry wait cancels the retry', async () => {
    const rx = await receiver();
    rx.handler = (_r, res) => res.writeHead(500).end();
    const o = observe();
    const s = new WebhookSender({ url: rx.url, backoffMinMs: 60_000, backoffMaxMs: 60_000 }, o.hooks);
    s.send({ m: 1 });
    s.send({ m: 2 });
    await waitUntil('retry scheduled', () => o.counts.retried === 1, 10_000);
    await s.close();
    expect(o.counts).toEqual({ delivered: 0, failed: [], dropped: 2, retried: 1 });
    expect(rx.received).toHaveLength(1);
  });

  it('check() accepts http: and https: URLs only (E_CONFIG otherwise)', () => {
    expect(WebhookSender.check('https://example.com/hook').href).toBe('https://example.com/hook');
    expect(WebhookSender.check('http://u:p@127.0.0.1:8080/x?y=1').port).toBe('8080');
    for (const bad of ['ftp://example.com/x', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,hi', 'ws://example.com', 'garbage', '', 'http://', '//example.com/x', '/relative']) {
      const err = thrownSegstreamError(() => WebhookSender.check(bad));
      expect(err.code, bad).toBe('E_CONFIG');
    }
    expect(() => new WebhookSender({ url: 'ftp://example.com/' })).toThrow(/webhook\.url/);
    const err = thrownSegstreamError(() => WebhookSender.check('ftp://admin:hunter22@example.com/'));
    expect(err.message).not.toContain('hunter22');
  });

  it('refuses bad limits with TypeError', () => {
    expect(() => new WebhookSender({ url: 'http://127.0.0.1/', maxQueue: 0 })).toThrow(TypeError);
    expect(() => new WebhookSender({ url: 'http://127.0.0.1/', timeoutMs: Number.NaN })).toThrow(TypeError);
    expect(() => new WebhookSender({ url: 'http://127.0.0.1/', maxAttempts: 0.5 })).toThrow(TypeError);
    expect(() => new WebhookSender({ url: 'http://127.0.0.1/', backoffMinMs: 100, backoffMaxMs: 10 })).toThrow(TypeError);
    expect(() => new WebhookSender({ url: 'http://127.0.0.1/', secret: '' })).toThrow(TypeError);
  });

  it('sends URL credentials as basic authentication and never logs them nor the secret; warns at most once per kind per 10 s', async () => {
    const rx = await receiver();
    rx.handler = (_r, res) => res.writeHead(500).end('nope');
    const o = observe();
    const password = 'pa55-w0rd-XYZ';
    const token = 'tok-SECRET-987';
    const secret = 'hmac-SECRET-555';
    const url = `${rx.url.replace('http://', `http://hookuser:${password}@`)}/hook?token=${token}`;
    const s = sender({ url, secret, maxAttempts: 3, ...FAST }, o.hooks);
    for (let i = 0; i < 10; i++) s.send({ i });
    await waitUntil('10 failures', () => o.counts.failed.length === 10, 20_000);
    expect(rx.received).toHaveLength(30);
    const auth = rx.received[0]!.headers.authorization!;
    expect(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()).toBe(`hookuser:${password}`);
    expect(rx.received[0]!.path).toBe(`/hook?token=${token}`);
    const text = o.raw.join('');
    expect(text).not.toContain(password);
    expect(text).not.toContain(token);
    expect(text).not.toContain(secret);
    // Only the origin is logged: a Slack-style hook keeps its secret in the path.
    expect(text).toContain(`${new URL(rx.url).origin}/...`);
    expect(text).not.toContain('/hook');
    // 30 failed attempts, all server errors: one warning (two if the test straddled a window).
    const warns = o.logs.filter((l) => l['level'] === 40);
    expect(warns.length).toBeGreaterThanOrEqual(1);
    expect(warns.length).toBeLessThanOrEqual(2);
    await s.close();
    // close() reports what the window held back.
    const summary = o.logs.filter((l) => l['suppressed'] !== undefined);
    expect(summary.length).toBeGreaterThanOrEqual(1);
    expect(o.raw.join('')).not.toContain(password);
  });

  it('a hook that throws does not stop deliveries', async () => {
    const rx = await receiver();
    let calls = 0;
    const s = sender({ url: rx.url }, {
      delivered: () => {
        calls++;
        throw new Error('metrics bug');
      },
    });
    s.send({ m: 1 });
    s.send({ m: 2 });
    await waitUntil('2 deliveries', () => calls === 2, 10_000);
    expect(rx.received).toHaveLength(2);
  });

  it('send() of something JSON cannot serialise fails it without throwing', async () => {
    const o = observe();
    const s = sender({ url: 'http://127.0.0.1:9/' }, o.hooks);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => s.send(cyclic)).not.toThrow();
    expect(() => s.send({ n: 10n })).not.toThrow();
    expect(o.counts.failed).toEqual(['unserialisable', 'unserialisable']);
    expect(s.queued).toBe(0);
  });
});
