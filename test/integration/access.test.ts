import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig, type ConfigInput } from '../../src/config/index.js';
import { CCTV_640x480 } from '../helpers/media.js';

const MODEL = join(import.meta.dirname, '../../../shared/models/yolov8n-seg-320.onnx');
const TOKEN = 's3cret-Token-0123456789';
const DIR = mkdtempSync(join(tmpdir(), 'segstream-access-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** Every log line the app writes, as text. */
function logSink(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(chunk: Buffer, _e, cb) {
        text += chunk.toString('utf8');
        cb();
      },
    }),
    text: () => text,
  };
}

const base = (server: NonNullable<ConfigInput['server']>): ConfigInput => ({
  cameras: [{ id: 'road', url: CCTV_640x480 }],
  inference: { model: MODEL, threads: 1 },
  server: { host: '127.0.0.1', port: 0, ...server },
  ingest: { realtime: true, loop: true },
});

/** The HTTP status of a WebSocket upgrade (101 when it opened). */
function upgradeStatus(url: string, headers: Record<string, string> = {}, options: { ca?: Buffer } = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, ...options });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => resolve(-1));
  });
}

describe('access control: a token and allowed origins', () => {
  let app: App;
  let origin: string;
  const log = logSink();

  beforeAll(async () => {
    app = await startApp(parseConfig(base({ token: TOKEN, allowOrigins: ['https://wall.example.org'] })), { log: pino({ level: 'info' }, log.stream) });
    origin = `http://127.0.0.1:${app.address.port}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  const status = async (path: string, init: RequestInit = {}): Promise<number> => (await fetch(`${origin}${path}`, init)).status;
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('every endpoint but /healthz and /readyz needs the token: 401 without or with a wrong one', async () => {
    for (const path of ['/metrics', '/api/cameras', '/api/cameras/road', '/nope']) {
      const expected = path === '/nope' ? 404 : 200;
      expect(await status(path), `${path} without`).toBe(path === '/nope' ? 404 : 401);
      expect(await status(path, { headers: { authorization: 'Bearer wrong' } }), `${path} wrong`).toBe(path === '/nope' ? 404 : 401);
      expect(await status(path, { headers: bearer }), `${path} header`).toBe(expected);
      expect(await status(`${path}?token=${TOKEN}`), `${path} query`).toBe(expected);
    }
    const refused = await fetch(`${origin}/api/cameras`);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('E_UNAUTHORIZED');
    // A write without the token changes nothing.
    const post = await fetch(`${origin}/api/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x', url: 'rtsp://127.0.0.1:9/s' }) });
    expect(post.status).toBe(401);
    expect(app.cameras.ids()).toEqual(['road']);
    for (const path of ['/healthz', '/readyz']) expect([200, 503], path).toContain(await status(path));
    // Open to anyone, but the cameras (ids, hosts, errors) only with the token.
    const open = (await (await fetch(`${origin}/healthz`)).json()) as { cameras: unknown };
    const full = (await (await fetch(`${origin}/healthz`, { headers: bearer })).json()) as { cameras: unknown };
    expect(open.cameras).toBe(1);
    expect(full.cameras).toEqual([expect.objectContaining({ id: 'road' })]);
    // The dashboard's files hold no data: public (503 at / when the dashboard is not built), unknown assets 404.
    expect([200, 503], '/').toContain(await status('/'));
    expect(await status('/assets/dashboard.css')).toBe(200);
    expect(await status('/assets/nope.js')).toBe(404);
  });

  it('WHEP needs the token (401 before anything is negotiated); with it the request reaches WHEP; a preflight is judged by its origin', async () => {
    const offer = (headers: Record<string, string>) => fetch(`${origin}/whep/road`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: 'v=0' });
    expect((await offer({})).status).toBe(401);
    expect((await offer({ authorization: 'Bearer wrong' })).status).toBe(401);
    // Past the token, WHEP itself refuses the wrong content type.
    expect((await offer(bearer)).status).toBe(415);
    expect((await offer({ ...bearer, origin: 'https://evil.example.com' })).status).toBe(403);
    const preflight = (o: string) => fetch(`${origin}/whep/road`, { method: 'OPTIONS', headers: { origin: o, 'access-control-request-method': 'POST' } });
    expect((await preflight('https://wall.example.org')).status).toBeLessThan(300);
    expect((await preflight('https://evil.example.com')).status).toBe(403);
  });

  it('the WebSocket needs the token too (header or query), and a foreign origin is refused even with it', async () => {
    const ws = `ws://127.0.0.1:${app.address.port}/ws`;
    expect(await upgradeStatus(ws)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=nope`)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=${TOKEN}`)).toBe(101);
    expect(await upgradeStatus(ws, bearer)).toBe(101);
    // Cross-site WebSocket hijacking: a page elsewhere, with the user's token in its URL.
    expect(await upgradeStatus(`${ws}?token=${TOKEN}`, { origin: 'https://evil.example.com' })).toBe(403);
    expect(await upgradeStatus(`${ws}?token=${TOKEN}`, { origin: 'https://wall.example.org' })).toBe(101);
    expect(await upgradeStatus(`${ws}?token=${TOKEN}`, { origin })).toBe(101);
    const api = await fetch(`${origin}/api/cameras`, { headers: { ...bearer, origin: 'https://evil.example.com' } });
    expect([api.status, ((await api.json()) as { error: { code: string } }).error.code]).toEqual([403, 'E_ORIGIN_REFUSED']);
  });

  it('never writes the token into the log, and counts every refusal', async () => {
    await status(`/api/cameras?token=${TOKEN}x`);
    await status(`/metrics?token=${TOKEN}`);
    expect(log.text()).not.toContain(TOKEN);
    const metrics = await (await fetch(`${origin}/metrics`, { headers: bearer })).text();
    expect(Number(/segstream_client_errors_total\{code="E_UNAUTHORIZED"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(10);
    expect(Number(/segstream_client_errors_total\{code="E_ORIGIN_REFUSED"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
  });
});

describe('without a token', () => {
  it('on a non-loopback address the start-up log says so loudly; on 127.0.0.1 it does not', async () => {
    for (const host of ['0.0.0.0', '127.0.0.1']) {
      const log = logSink();
      const app = await startApp(parseConfig({ ...base({ host }), cameras: [] }), { log: pino({ level: 'info' }, log.stream) });
      await app.close();
      const warned = log.text().split('\n').some((l) => l.includes('NO ACCESS TOKEN') && l.includes('"level":40'));
      expect(warned, host).toBe(host === '0.0.0.0');
    }
  });

  it('DNS rebinding: a request for an unknown host name is refused (403) unless that name is allowed; IP addresses and localhost pass', async () => {
    const app = await startApp(parseConfig({ ...base({ allowHosts: ['cams.example.org'] }), cameras: [] }));
    try {
      const port = app.address.port;
      const statusFor = (host: string, origin?: string): Promise<number> =>
        new Promise((resolve, reject) => {
          httpRequest({ host: '127.0.0.1', port, path: '/api/cameras', headers: { host, ...(origin ? { origin } : {}) } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
            .on('error', reject)
            .end();
        });
      // The attacker's page and its own name pointed at this server: Host and Origin agree.
      expect(await statusFor(`evil.example:${port}`, `http://evil.example:${port}`)).toBe(403);
      expect(await statusFor(`evil.example:${port}`)).toBe(403);
      expect(await statusFor(`127.0.0.1:${port}`)).toBe(200);
      expect(await statusFor(`localhost:${port}`, `http://localhost:${port}`)).toBe(200);
      expect(await statusFor(`cams.example.org:${port}`, `http://cams.example.org:${port}`)).toBe(200);
      expect(await upgradeStatus(`ws://127.0.0.1:${port}/ws`, { host: `evil.example:${port}` })).toBe(403);
    } finally {
      await app.close();
    }
  });

  it('a foreign origin is still refused (no token needed for that), the own origin and non-browsers are not', async () => {
    const app = await startApp(parseConfig({ ...base({}), cameras: [] }));
    try {
      const ws = `ws://127.0.0.1:${app.address.port}/ws`;
      expect(await upgradeStatus(ws)).toBe(101);
      expect(await upgradeStatus(ws, { origin: `http://127.0.0.1:${app.address.port}` })).toBe(101);
      expect(await upgradeStatus(ws, { origin: 'http://localhost.evil.example' })).toBe(403);
    } finally {
      await app.close();
    }
  });
});

describe('HTTPS and WSS on the same port', () => {
  it('serves /healthz over TLS and the WebSocket as wss, with the token', async () => {
    const cert = join(DIR, 'cert.pem');
    const key = join(DIR, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const app = await startApp(parseConfig({ ...base({ token: TOKEN, tlsCert: cert, tlsKey: key }), cameras: [] }));
    try {
      const ca = readFileSync(cert);
      const port = app.address.port;
      const body = await new Promise<string>((resolve, reject) => {
        httpsGet({ host: '127.0.0.1', port, path: '/healthz', ca }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
      expect(JSON.parse(body)).toMatchObject({ ok: true });
      expect(await upgradeStatus(`wss://127.0.0.1:${port}/ws?token=${TOKEN}`, {}, { ca })).toBe(101);
      expect(await upgradeStatus(`wss://127.0.0.1:${port}/ws`, {}, { ca })).toBe(401);
      // Plain HTTP on the TLS port gets nowhere.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await app.close();
    }
  });

  it('a certificate without its key is E_CONFIG naming the field', () => {
    expect(() => parseConfig(base({ tlsCert: CCTV_640x480 }))).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining('server.tlsKey') }));
  });
});
