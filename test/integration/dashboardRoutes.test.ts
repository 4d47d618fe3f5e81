import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { dashboardRoutes, DEFAULT_PUBLISH_OPTIONS, PublishServer } from '../../src/publish/index.js';
import { PROTOTYPE_NAMES } from '../helpers/hostile.js';
import { rng } from '../helpers/random.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: the path goes out exactly as written (fetch would resolve `..` first). */
function get(port: number, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

let root: string;
let webDir: string;
let buildDir: string;
let server: PublishServer | undefined;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'segstream-dash-'));
  webDir = join(root, 'web');
  buildDir = join(root, 'build');
  mkdirSync(webDir);
  mkdirSync(join(buildDir, 'web'), { recursive: true });
  mkdirSync(join(buildDir, 'src/client'), { recursive: true });
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><meta name="segstream-auth" content="%SEGSTREAM_AUTH%"><script type="module" src="/assets/web/dashboard.js"></script>');
  writeFileSync(join(webDir, 'dashboard.css'), 'body{}');
  writeFileSync(join(webDir, 'secret.txt'), 'not an asset');
  writeFileSync(join(buildDir, 'web/dashboard.js'), 'import "../src/client/index.js";');
  writeFileSync(join(buildDir, 'src/client/index.js'), 'export {};');
  writeFileSync(join(buildDir, 'src/client/index.d.ts'), 'export {};');
  writeFileSync(join(root, 'package.json'), '{"private":true}');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(opts: { token?: string; build?: string } = {}): Promise<number> {
  server = new PublishServer(
    { ...DEFAULT_PUBLISH_OPTIONS, host: '127.0.0.1', port: 0 },
    { hello: () => ({ cameras: [] }), health: () => ({ ok: true }), cameraIds: () => [], api: async () => ({ status: 200, body: { cameras: [] } }) },
    createMetrics(),
    undefined,
    opts.token === undefined ? {} : { token: opts.token },
  );
  for (const r of dashboardRoutes({ webDir, buildDir: opts.build ?? buildDir, tokenRequired: opts.token !== undefined })) server.route(r);
  return (await server.listen()).port;
}

describe('dashboard routes (GET /, /assets/)', () => {
  it('serves the page with its content type, Cache-Control, ETag, a strict CSP, and says whether a token is needed', async () => {
    let port = await start();
    const page = await get(port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.body).toContain('content="none"');
    await server!.close();
    port = await start({ token: 's3cret' });
    expect((await get(port, '/')).body).toContain('content="token"');
    expect((await get(port, '/?token=wrong')).status).toBe(200);
  });

  it('serves the built modules and the style sheet with their types, public even with a token; the API stays behind it', async () => {
    const port = await start({ token: 's3cret' });
    const js = await get(port, '/assets/web/dashboard.js');
    expect([js.status, js.headers['content-type'], js.body]).toEqual([200, 'text/javascript; charset=utf-8', 'import "../src/client/index.js";']);
    expect((await get(port, '/assets/src/client/index.js')).status).toBe(200);
    const css = await get(port, '/assets/dashboard.css?v=1');
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
    expect((await get(port, '/api/cameras')).status).toBe(401);
    expect((await get(port, '/api/cameras', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });

  it('answers 304 to a matching If-None-Match, HEAD without a body, 405 to other methods', async () => {
    const port = await start();
    const first = await get(port, '/assets/web/dashboard.js');
    const etag = String(first.headers['etag']);
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    const again = await get(port, '/assets/web/dashboard.js', { headers: { 'if-none-match': etag } });
    expect([again.status, again.body]).toEqual([304, '']);
    const head = await get(port, '/', { method: 'HEAD' });
    expect([head.status, head.body, head.headers['content-type']]).toEqual([200, '', 'text/html; charset=utf-8']);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await get(port, '/assets/web/dashboard.js', { method });
      expect([r.status, r.headers['allow']]).toEqual([405, 'GET, HEAD']);
    }
  });

  it('serves only the files it found at start: unknown names, traversal (plain, encoded, backslashed), directories and other files are 404', async () => {
    const port = await start();
    const refused = [
      '/assets/',
      '/assets/web/',
      '/assets/web',
      '/assets/nope.js',
      '/assets/../package.json',
      '/assets/web/../../package.json',
      '/assets/%2e%2e/package.json',
      '/assets/%2e%2e%2fpackage.json',
      '/assets/..%5cpackage.json',
      '/assets/..\\package.json',
      '/assets/src/client/index.d.ts',
      '/assets/secret.txt',
      '/assets/index.html',
      '/assets//web/dashboard.js',
      '/assets/web/dashboard.js%00.css',
      '/assets/WEB/dashboard.js',
      ...PROTOTYPE_NAMES.map((n) => `/assets/${n}`),
    ];
    for (const path of refused) {
      const r = await get(port, path);
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.body).toBe('not found\n');
    }
    // A file that appears after the start is not served either.
    writeFileSync(join(buildDir, 'web/late.js'), 'export {};');
    expect((await get(port, '/assets/web/late.js')).status).toBe(404);
  });

  it('survives random request paths under /assets/ and / (never 500, still serving)', async () => {
    const port = await start();
    const r = rng(4);
    const alphabet = 'abc./\\%2e0fx?#;:@&=+$,~*\'()!'.split('');
    for (let i = 0; i < 300; i++) {
      const tail = Array.from({ length: 1 + Math.floor(r() * 30) }, () => alphabet[Math.floor(r() * alphabet.length)]!).join('');
      const res = await get(port, `/assets/${tail}`);
      expect(res.status).toBeLessThan(500);
    }
    expect((await get(port, '/')).status).toBe(200);
  });

  it('says the dashboard is not built (503 at /) when the build folder has no dashboard.js', async () => {
    const port = await start({ build: join(root, 'missing') });
    const r = await get(port, '/');
    expect(r.status).toBe(503);
    expect(r.body).toContain('npm run build');
    expect((await get(port, '/assets/web/dashboard.js')).status).toBe(404);
  });
});
