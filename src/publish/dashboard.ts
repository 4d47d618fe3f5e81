import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpRoute } from './server.js';

/** The package root: this file is src/publish/dashboard.ts or dist/publish/dashboard.js. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DashboardOptions {
  /** `web/` with index.html and dashboard.css. */
  readonly webDir?: string;
  /** The compiled browser modules (`tsc -p tsconfig.web.json`): `dist/web/`. */
  readonly buildDir?: string;
  /** The server wants an access token: the page asks for one. */
  readonly tokenRequired: boolean;
}

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The page may load only its own scripts and styles and talk only to its own origin (WebSocket,
 * WHEP, API); video comes as a WebRTC stream (`blob:`/MediaStream), nothing from elsewhere.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The largest file the dashboard serves; anything larger in the build folder is a mistake, bytes. */
const MAX_ASSET_BYTES = 2 * 1024 * 1024;

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Every `.js` file under `dir`, by its path relative to it with `/` separators. */
function scripts(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, depth: number): void => {
    if (depth > 8) return;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // unreadable: served as not built rather than failing the start
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith('.js') && statSync(p).size <= MAX_ASSET_BYTES) out.set(relative(dir, p).split(sep).join('/'), p);
    }
  };
  if (existsSync(dir)) walk(dir, 0);
  return out;
}

/**
 * The dashboard's routes: `GET /` (the page) and `GET /assets/<file>`. Both are public: they
 * hold no data (the page asks for the token and sends it on the WebSocket and the API). The
 * files are read once, here: only those known now are served, from memory, so no request path
 * reaches the file system (`..`, encodings, links). Without a build (`npm run build`) `/` says so
 * with 503.
 */
export function dashboardRoutes(options: DashboardOptions): HttpRoute[] {
  const webDir = options.webDir ?? join(PACKAGE_ROOT, 'web');
  const buildDir = options.buildDir ?? join(PACKAGE_ROOT, 'dist', 'web');
  const assets = new Map<string, Asset>();
  for (const [rel, file] of scripts(buildDir)) assets.set(`/assets/${rel}`, asset(readFileSync(file), TYPES['.js']!));
  const css = join(webDir, 'dashboard.css');
  if (existsSync(css)) assets.set('/assets/dashboard.css', asset(readFileSync(css), TYPES['.css']!));
  const html = join(webDir, 'index.html');
  const built = assets.has('/assets/web/dashboard.js') && existsSync(html);
  const page = built
    ? asset(Buffer.from(readFileSync(html, 'utf8').replace('%SEGSTREAM_AUTH%', options.tokenRequired ? 'token' : 'none')), TYPES['.html']!)
    : undefined;

  const serve = (req: IncomingMessage, res: ServerResponse, a: Asset | undefined, headers: Readonly<Record<string, string>> = {}): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (!a) return void res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('not found\n');
    const common = {
      // Asset names carry no content hash: revalidate each time (cheap, 304 by ETag).
      'cache-control': 'no-cache',
      etag: a.etag,
      'x-content-type-options': 'nosniff',
      ...headers,
    };
    if (req.headers['if-none-match'] === a.etag) return void res.writeHead(304, common).end();
    res.writeHead(200, { ...common, 'content-type': a.type, 'content-length': String(a.body.length) }).end(req.method === 'HEAD' ? undefined : a.body);
  };

  return [
    {
      path: '/',
      public: true,
      handle: (req, res) => {
        if (!page && (req.method === 'GET' || req.method === 'HEAD')) {
          return void res
            .writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
            .end('the dashboard is not built: run `npm run build` (tsc -p tsconfig.web.json)\n');
        }
        serve(req, res, page, { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
      },
    },
    {
      path: '/assets/',
      prefix: true,
      public: true,
      // The path without its query, exactly as sent: only known names match.
      handle: (req, res, path) => serve(req, res, assets.get(path)),
    },
  ];
}
