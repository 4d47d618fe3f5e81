import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { SegstreamError, summariseString } from '../core/index.js';

export interface AccessOptions {
  /** When set, every non-public request must carry it (`Authorization: Bearer`, or `?token=`). */
  readonly token?: string;
  /** Browser origins allowed besides the server's own (`https://wall.example.org`). */
  readonly allowOrigins?: readonly string[];
  /**
   * Without a token: the host names (`Host` header) the server answers to besides IP addresses
   * and `localhost` (and the hosts of allowOrigins), so a DNS-rebinding page cannot pose as the
   * server's own origin.
   */
  readonly allowHosts?: readonly string[];
}

/**
 * Who may use the service. A browser request (it sends `Origin`) must come from the server's
 * own origin or one allowed: otherwise any web page the operator visits could drive the
 * operator's browser into the stream (cross-site WebSocket hijacking). With a token, every
 * request must also carry it; requests without `Origin` (non-browser clients) are judged by
 * the token alone. The token is compared in constant time, as digests of equal length.
 */
export class AccessPolicy {
  private readonly digest: Buffer | undefined;
  private readonly origins: ReadonlySet<string>;
  private readonly hosts: ReadonlySet<string>;

  constructor(options: AccessOptions = {}) {
    this.digest = options.token === undefined ? undefined : sha256(options.token);
    this.origins = new Set((options.allowOrigins ?? []).map(normalOrigin));
    this.hosts = new Set([...(options.allowHosts ?? []), ...[...this.origins].map((o) => hostnameOf(o))].map((h) => h.toLowerCase()));
  }

  get hasToken(): boolean {
    return this.digest !== undefined;
  }

  /** Undefined when the request may go on; else the refusal (E_ORIGIN_REFUSED: 403, E_UNAUTHORIZED: 401). */
  check(req: IncomingMessage, secure: boolean, originOnly = false): SegstreamError | undefined {
    if (this.digest === undefined) {
      // DNS rebinding: a page on evil.example, its name pointed at this server, sends a Host
      // and an Origin that match. Only a token or a known host name tells them apart.
      const host = hostnameOf(`http://${req.headers.host ?? ''}`);
      if (!isIpOrLocal(host) && !this.hosts.has(host)) {
        return new SegstreamError('E_ORIGIN_REFUSED', `requests for host ${summariseString(host, 80)} are not allowed without a token (--allow-host, or --token)`, {
          expected: 'an IP address, localhost, or an --allow-host name',
          actual: summariseString(host, 80),
        });
      }
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.originAllowed(origin, req, secure)) {
      return new SegstreamError('E_ORIGIN_REFUSED', `requests from origin ${summariseString(origin, 80)} are not allowed`, {
        expected: ['the server\'s own origin', ...this.origins].slice(0, 8),
        actual: summariseString(origin, 80),
      });
    }
    if (this.digest === undefined || originOnly) return undefined;
    const given = tokenOf(req);
    if (given === undefined) return new SegstreamError('E_UNAUTHORIZED', 'an access token is required: Authorization: Bearer <token>, or ?token=<token>');
    if (!timingSafeEqual(sha256(given), this.digest)) return new SegstreamError('E_UNAUTHORIZED', 'the access token is wrong');
    return undefined;
  }

  private originAllowed(origin: string, req: IncomingMessage, secure: boolean): boolean {
    const normal = normalOrigin(origin);
    if (this.origins.has(normal)) return true;
    const host = req.headers.host;
    return host !== undefined && normal === normalOrigin(`${secure ? 'https' : 'http'}://${host}`);
  }
}

/** The token a request carries: `Authorization: Bearer <t>` first, else the `token` query parameter. */
function tokenOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : undefined;
  }
  const q = (req.url ?? '').indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams((req.url ?? '').slice(q + 1)).get('token') ?? undefined;
}

function hostnameOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

function isIpOrLocal(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || isIP(host.replace(/^\[|\]$/g, '')) !== 0;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** `HTTPS://Host:443/` -> `https://host` (scheme and host lower case, default port dropped); unparseable stays as given. */
export function normalOrigin(origin: string): string {
  try {
    const u = new URL(origin);
    return `${u.protocol}//${u.host}`.toLowerCase();
  } catch {
    return origin;
  }
}
