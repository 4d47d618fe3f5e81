import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData, type ServerOptions } from 'ws';
import { nameSome, RateGate, redactText, SegstreamError, summariseString, summariseValue, type ErrorCode, type Logger, type Metrics } from '../core/index.js';
import { AccessPolicy, type AccessOptions } from './access.js';
import {
  DEFAULT_MESSAGE_LIMITS,
  DEFAULT_OFFERS,
  encodeJpegMessage,
  jsonDepth,
  parseControlMessage,
  PROTOCOL_VERSION,
  type JpegHeader,
  type JpegOptions,
  type MaskFormat,
  type PingMessage,
  type SubscribeMessage,
} from '../protocol/index.js';
import type { FramePayload } from './messages.js';
import { RejectionLog, type RejectionSummary } from './rejectionLog.js';

export interface PublishOptions {
  host: string;
  port: number;
  /** Client messages larger than this get E_MSG_TOO_LARGE and are ignored, bytes. */
  maxMessageBytes: number;
  /** Hard limit: larger frames close the connection with 1009 (ws maxPayload), bytes. */
  maxPayloadBytes: number;
  /** Client messages nesting arrays and objects deeper than this get E_MSG_INVALID before they are parsed, levels. */
  maxMessageDepth: number;
  /** A client with more than this unsent is skipped (frames, events, replies), bytes. */
  maxBufferedBytes: number;
  /** A client skipped continuously this long is disconnected (1008, E_CLIENT_SLOW), ms. */
  slowClientTimeoutMs: number;
  /**
   * After a slow client's 1008 close, how long it has to read what was already queued and
   * finish the close handshake before its socket is destroyed, ms.
   */
  slowClientCloseGraceMs: number;
  /** Most open WebSocket connections; further upgrades get HTTP 503 E_TOO_MANY_CLIENTS. */
  maxClients: number;
  /** Rejected messages of one client logged one by one per window; the rest are counted. */
  rejectLogBurst: number;
  /** That window; each ends with one summary line of what was counted, ms. */
  rejectLogIntervalMs: number;
  /**
   * Every this often each client is sent a WebSocket ping (RFC 6455 control frame); one that
   * has not answered the previous ping with a pong by then is terminated (counted in
   * segstream_ws_heartbeat_timeouts_total). 0: no heartbeat. ms.
   */
  heartbeatIntervalMs: number;
  /** What `hello` says the server offers besides mask formats (set by whoever serves them). */
  offers: { readonly jpeg: boolean; readonly whep: boolean };
}

/** Who may connect, and HTTPS: kept apart from the numeric limits. */
export interface SecurityOptions extends AccessOptions {
  /** PEM certificate chain and key: HTTPS and WSS on the same port. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

export const DEFAULT_PUBLISH_OPTIONS: PublishOptions = {
  host: '0.0.0.0',
  port: 8080,
  maxMessageBytes: DEFAULT_MESSAGE_LIMITS.maxMessageBytes,
  maxPayloadBytes: DEFAULT_MESSAGE_LIMITS.maxPayloadBytes,
  maxMessageDepth: DEFAULT_MESSAGE_LIMITS.maxMessageDepth,
  maxBufferedBytes: 4 * 1024 * 1024,
  slowClientTimeoutMs: 10_000,
  slowClientCloseGraceMs: 10_000,
  maxClients: 256,
  rejectLogBurst: 5,
  rejectLogIntervalMs: 10_000,
  heartbeatIntervalMs: 15_000,
  offers: { jpeg: DEFAULT_OFFERS.jpeg, whep: DEFAULT_OFFERS.whep },
};

/** Client messages the server answers itself; other types go to the view's handlers. */
const SERVER_MESSAGE_TYPES = ['ping', 'subscribe'] as const;

/** ws destroys a socket whose close handshake has not finished after this long unless told otherwise, ms. */
const WS_CLOSE_TIMEOUT_MS = 30_000;

/** A client request the app answers (e.g. `prompt`): the reply, or a SegstreamError. */
export type RequestHandler = (message: unknown) => Promise<Record<string, unknown>> | Record<string, unknown>;

/** What the server reports about the service and the requests it forwards (injected by the app). */
export interface ServiceView {
  hello(): Record<string, unknown>;
  /** GET /healthz: the process serves (200 when ok). */
  health(): { ok: boolean; [k: string]: unknown };
  /** GET /readyz: the service does its job (200 when ok, else 503); without it, always ok. */
  ready?(): { ok: boolean; [k: string]: unknown };
  cameraIds(): string[];
  /** Message types beyond ping/subscribe, by `type`; each validates its own message. */
  handlers?: ReadonlyMap<string, RequestHandler> | Readonly<Record<string, RequestHandler>>;
  /** Requests under /api/ (JSON bodies parsed and limited here); undefined: 404. */
  api?: (req: { method: string; path: string; body: unknown }) => Promise<{ status: number; body?: unknown; headers?: Readonly<Record<string, string>> } | undefined>;
}

/** One HTTP route of the server (see PublishServer.route). */
export interface HttpRoute {
  /** An exact path (`/metrics`), or with `prefix` every path that starts with it (`/whep/`). */
  readonly path: string;
  readonly prefix?: boolean;
  /** Served without the access checks (health checks only). */
  readonly public?: boolean;
  /** Answers the request; what it throws becomes a logged 500. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> | void;
}

/** What the server reads of a configuration's `server` section (config's ServerConfig fits). */
export interface ServerSettings {
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  readonly maxBufferedBytes: number;
  readonly slowClientTimeoutMs: number;
  readonly slowClientCloseGraceMs: number;
  readonly maxClients: number;
  readonly heartbeatIntervalMs: number;
  readonly token?: string | undefined;
  readonly allowOrigins: readonly string[];
  readonly allowHosts: readonly string[];
}

/** PublishServer's options from the `server` section, with what hello offers besides mask formats. */
export function publishOptionsFrom(s: ServerSettings, offers: { jpeg: boolean; whep: boolean }): Partial<PublishOptions> {
  return {
    host: s.host,
    port: s.port,
    maxMessageBytes: s.maxMessageBytes,
    maxPayloadBytes: Math.max(s.maxMessageBytes * 4, 1 << 20),
    maxBufferedBytes: s.maxBufferedBytes,
    slowClientTimeoutMs: s.slowClientTimeoutMs,
    slowClientCloseGraceMs: s.slowClientCloseGraceMs,
    maxClients: s.maxClients,
    heartbeatIntervalMs: s.heartbeatIntervalMs,
    offers,
  };
}

/** PublishServer's access options from the `server` section and the TLS files read. */
export function securityFrom(s: ServerSettings, tls?: { cert: Buffer; key: Buffer }): SecurityOptions {
  return {
    ...(s.token === undefined ? {} : { token: s.token }),
    allowOrigins: [...s.allowOrigins],
    allowHosts: [...s.allowHosts],
    ...(tls ? { tls } : {}),
  };
}

/** How far past maxBufferedBytes a client's buffer may grow with event messages, bytes. */
const EVENT_HEADROOM_BYTES = 1 << 20;

/** Largest /api request body, bytes. */
const MAX_API_BODY_BYTES = 64 * 1024;

/** The HTTP status of a request refused with this code. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'E_UNAUTHORIZED':
      return 401;
    case 'E_ORIGIN_REFUSED':
      return 403;
    case 'E_UNKNOWN_CAMERA':
    case 'E_UNKNOWN_EVENT':
      return 404;
    case 'E_CAMERA_EXISTS':
    case 'E_CAMERA_LIMIT':
      return 409;
    case 'E_MSG_TOO_LARGE':
      return 413;
    case 'E_INTERNAL':
    case 'E_INFERENCE':
      return 500;
    case 'E_BROKER':
      return 503;
    case 'E_NO_NODE':
      return 504;
    default:
      return 400;
  }
}

interface Client {
  ws: WebSocket;
  id: number;
  /** null = all cameras, those added later included. */
  cameras: Set<string> | null;
  /** How this client's frame messages carry masks. */
  masks: MaskFormat;
  /** The JPEG frames it asked for, else null. */
  jpeg: JpegOptions | null;
  /** Its JPEG rate per camera (by the frames' capture time). */
  jpegGates: Map<string, RateGate>;
  slowSince: number | null;
  /** Messages not sent to it because its send buffer was full (its frames' `clientDropped`). */
  skipped: number;
  /** Answered the last heartbeat ping (or none was sent yet). */
  alive: boolean;
  rejections: RejectionLog;
  /** Destroys the socket of a dropped slow client when its close grace ends. */
  closeTimer?: NodeJS.Timeout;
}

const INTERNAL_ERROR = new SegstreamError('E_INTERNAL', 'the request failed inside segstream; see the server log');
/** Sent when a reply itself cannot be serialised. */
const INTERNAL_ERROR_JSON = JSON.stringify({ type: 'error', ...INTERNAL_ERROR.toJSON() });

/**
 * One HTTP server: GET /healthz, GET /readyz, GET /metrics (Prometheus), WebSocket at /ws.
 * Frame messages are serialised once and sent to every subscribed client; a client that
 * does not read is skipped (counted) and, if it stays behind, disconnected. A bad
 * message gets an error reply to that client only; nothing a client sends can throw out of
 * the server (a last-resort handler answers E_INTERNAL and logs the bug).
 */
export class PublishServer {
  private readonly options: PublishOptions;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  /** Clients that are sent messages. */
  private readonly clients = new Set<Client>();
  /** Every open WebSocket: the clients plus dropped slow clients still closing. */
  private readonly connections = new Set<Client>();
  /** Upgrades accepted but not yet open (counted against maxClients). */
  private upgrading = 0;
  private readonly handlers: ReadonlyMap<string, RequestHandler>;
  private readonly refusals: RejectionLog;
  private readonly sweep: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private readonly routes: HttpRoute[] = [];
  private readonly access: AccessPolicy;
  private readonly secure: boolean;
  private nextClientId = 1;
  private closed = false;

  constructor(
    options: Partial<PublishOptions>,
    private readonly view: ServiceView,
    private readonly metrics: Metrics,
    private readonly log?: Logger,
    security: SecurityOptions = {},
  ) {
    this.options = checkOptions({ ...DEFAULT_PUBLISH_OPTIONS, ...options });
    this.access = new AccessPolicy(security);
    this.secure = security.tls !== undefined;
    const h = view.handlers;
    // A Map, so a `type` such as "constructor" or "hasOwnProperty" never finds Object.prototype.
    this.handlers = h instanceof Map ? h : new Map(Object.entries(h ?? {}));
    this.refusals = new RejectionLog(this.rejectLogOptions());
    this.routes.push(...this.builtinRoutes());
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      this.handleHttp(req, res).catch((err: unknown) => {
        // The URL may carry the access token (?token=): logged redacted.
        this.log?.error({ err, url: summariseString(redactText(req.url ?? ''), 200) }, 'HTTP request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    };
    this.http = security.tls ? createHttpsServer({ cert: security.tls.cert, key: security.tls.key }, onRequest) : createServer(onRequest);
    // closeTimeout (a ws 8.23 option that @types/ws 8.18 lacks): ws would otherwise destroy
    // a slow client's socket before its close grace ends.
    const wsOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      maxPayload: this.options.maxPayloadBytes,
      closeTimeout: Math.max(WS_CLOSE_TIMEOUT_MS, this.options.slowClientCloseGraceMs),
    };
    this.wss = new WebSocketServer(wsOptions);
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.sweep = setInterval(() => this.flushRejectionLogs(), this.options.rejectLogIntervalMs);
    this.sweep.unref();
    if (this.options.heartbeatIntervalMs > 0) {
      this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatIntervalMs);
      this.heartbeat.unref();
    }
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off('error', reject);
        resolve(this.http.address() as AddressInfo);
      });
    });
  }

  /** Clients that are sent messages. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Open WebSocket connections, dropped slow clients still closing included (what maxClients limits). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Adds an HTTP route: an exact path, or every path under a prefix ending in `/`. Routes are
   * tried in the order added; the first that matches answers. Every route but the `public`
   * ones (health checks) is behind the access checks.
   */
  route(route: HttpRoute): void {
    this.routes.push(route);
  }

  private builtinRoutes(): HttpRoute[] {
    const getOnly = (handle: HttpRoute['handle']): HttpRoute['handle'] => (req, res, path) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return handle(req, res, path);
    };
    const health = (path: string): HttpRoute => ({
      path,
      public: true,
      handle: getOnly((req, res) => {
        const full = path === '/healthz' ? this.view.health() : (this.view.ready?.() ?? { ok: true });
        // Open to anyone, so with a token the cameras (ids, hosts, errors) are shown only to a
        // request that carries it; the others get the verdict and the counts.
        const h = this.access.hasToken && this.access.check(req, this.secure) !== undefined ? brief(full) : full;
        res.writeHead(full.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h));
      }),
    });
    return [
      health('/healthz'),
      health('/readyz'),
      {
        path: '/metrics',
        handle: getOnly(async (_req, res) => {
          const body = await this.metrics.registry.metrics();
          res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
        }),
      },
      { path: '/api', handle: (req, res, path) => this.handleApi(req, res, path) },
      { path: '/api/', prefix: true, handle: (req, res, path) => this.handleApi(req, res, path) },
    ];
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = this.routes.find((r) => (r.prefix ? path.startsWith(r.path) : path === r.path));
    if (route && !route.public) {
      // A CORS preflight carries no credentials: it is judged by its origin alone (what it
      // precedes needs the token).
      const refused = this.access.check(req, this.secure, req.method === 'OPTIONS');
      if (refused) return this.refuseHttp(req, res, refused);
    }
    if (route) return route.handle(req, res, path);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz, /metrics, /api/cameras or a WebSocket at /ws\n');
  }

  /**
   * /api/...: the body (POST, PATCH) must be JSON (`content-type: application/json`, which a
   * browser cannot send cross-origin without asking first), at most 64 KiB and nested at most
   * maxMessageDepth levels. A refused request gets `{"error": {code, message, ...}}` with the
   * code's status; a failure inside is 500 E_INTERNAL and logged.
   */
  private async handleApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const send = (status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void => {
      const json = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, { ...headers, ...(json ? { 'content-type': 'application/json' } : {}) }).end(req.method === 'HEAD' ? undefined : json);
    };
    let bodyPending = false;
    const refuse = (err: SegstreamError): void => {
      this.metrics.clientErrors.inc({ code: err.code });
      if (bodyPending) {
        // A body refused before it was read is never read: the connection ends with the reply.
        res.once('finish', () => req.socket.destroy());
        return send(httpStatusOf(err.code), { error: err.toJSON() }, { connection: 'close' });
      }
      send(httpStatusOf(err.code), { error: err.toJSON() });
    };
    try {
      const method = req.method ?? 'GET';
      let body: unknown;
      if (method === 'POST' || method === 'PATCH' || method === 'PUT') {
        bodyPending = true;
        body = await this.readJsonBody(req);
        bodyPending = false;
      }
      const reply = this.view.api ? await this.view.api({ method, path, body }) : undefined;
      if (!reply) {
        return send(404, { error: new SegstreamError('E_MSG_INVALID', `no such API route: ${summariseString(path, 80)}`, { expected: '/api/cameras[/<id>]' }).toJSON() });
      }
      send(reply.status, reply.body, reply.headers);
    } catch (err) {
      if (err instanceof SegstreamError) return refuse(err);
      // The URL may carry the access token (?token=): logged redacted.
      this.log?.error({ err, url: summariseString(redactText(req.url ?? ''), 200), method: req.method }, 'API request failed');
      refuse(INTERNAL_ERROR);
    }
  }

  private async readJsonBody(req: IncomingMessage): Promise<unknown> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new SegstreamError('E_MSG_INVALID', 'the request body must be JSON (content-type: application/json)', { expected: 'application/json', actual: summariseString(type, 80) });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = (size: number): SegstreamError =>
      new SegstreamError('E_MSG_TOO_LARGE', `request body of ${size} bytes exceeds the limit`, { expected: `<= ${MAX_API_BODY_BYTES} bytes`, actual: size });
    if (declared > MAX_API_BODY_BYTES) throw tooLarge(declared);
    const text = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_API_BODY_BYTES) return void chunks.push(chunk);
        // Not read further: the reply closes the connection.
        req.pause();
        req.removeAllListeners('data');
        reject(tooLarge(size));
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
    const maxDepth = this.options.maxMessageDepth;
    if (jsonDepth(text, maxDepth) > maxDepth) {
      throw new SegstreamError('E_MSG_INVALID', `request body nests arrays or objects deeper than ${maxDepth} levels`, { expected: `<= ${maxDepth} levels`, actual: `> ${maxDepth}` });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new SegstreamError('E_MSG_NOT_JSON', `request body is not JSON: ${summariseString((err as Error).message, 120)}`);
    }
  }

  /** 401 (with `WWW-Authenticate`) or 403 and the error as JSON; counted, logged at most a few times a window. */
  private refuseHttp(req: IncomingMessage, res: ServerResponse, err: SegstreamError): void {
    this.noteRefusal(err);
    const status = httpStatusOf(err.code);
    // An unread request body is not read: the connection ends with the reply.
    if (req.method !== 'GET' && req.method !== 'HEAD') res.once('finish', () => req.socket.destroy());
    res
      .writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer realm="segstream"' } : {}), ...(req.method !== 'GET' && req.method !== 'HEAD' ? { connection: 'close' } : {}) })
      .end(JSON.stringify({ error: err.toJSON() }));
  }

  private noteRefusal(err: SegstreamError): void {
    this.metrics.clientErrors.inc({ code: err.code });
    const { log, summary } = this.refusals.record(err.code, Date.now());
    if (summary) this.logRefusalSummary(summary);
    if (log) this.log?.warn({ code: err.code, err: err.message }, 'refused a request');
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/ws') {
      refuse(socket, 404, 'Not Found', 'text/plain', 'WebSockets are served at /ws\n');
      return;
    }
    const denied = this.access.check(req, this.secure);
    if (denied) {
      this.noteRefusal(denied);
      const status = httpStatusOf(denied.code);
      refuse(socket, status, status === 401 ? 'Unauthorized' : 'Forbidden', 'application/json', JSON.stringify({ error: denied.toJSON() }));
      return;
    }
    if (this.connections.size + this.upgrading >= this.options.maxClients) {
      const err = new SegstreamError('E_TOO_MANY_CLIENTS', `the server already has ${this.options.maxClients} WebSocket connections; try again later`, {
        expected: `<= ${this.options.maxClients} connections`,
        actual: this.connections.size + this.upgrading + 1,
      });
      this.metrics.clientErrors.inc({ code: err.code });
      const { log, summary } = this.refusals.record(err.code, Date.now());
      if (summary) this.logRefusalSummary(summary);
      if (log) this.log?.warn({ code: err.code, limit: this.options.maxClients }, 'refused a WebSocket connection: too many clients');
      refuse(socket, 503, 'Service Unavailable', 'application/json', JSON.stringify(err.toJSON()));
      return;
    }
    this.upgrading++;
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      this.upgrading--;
      socket.off('close', settle);
    };
    // ws destroys the socket of a failed handshake: it is no longer upgrading then.
    socket.once('close', settle);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      settle();
      this.accept(ws);
    });
  }

  private accept(ws: WebSocket): void {
    const client: Client = {
      ws,
      id: this.nextClientId++,
      cameras: null,
      masks: 'rle',
      jpeg: null,
      jpegGates: new Map(),
      slowSince: null,
      skipped: 0,
      alive: true,
      rejections: new RejectionLog(this.rejectLogOptions()),
    };
    this.clients.add(client);
    this.connections.add(client);
    this.metrics.wsClients.set(this.clients.size);
    this.log?.info({ client: client.id }, 'websocket client connected');
    ws.on('message', (data: RawData, isBinary: boolean) => this.guard(client, () => this.onMessage(client, data, isBinary)));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes with 1009 (too large) or 1007 (invalid UTF-8) itself.
      this.log?.warn({ client: client.id, code: err.code, err: err.message }, 'websocket client error');
    });
    ws.on('close', () => this.onClose(client));
    ws.on('pong', () => {
      client.alive = true;
    });
    const offers = { ...DEFAULT_OFFERS, jpeg: this.options.offers.jpeg, whep: this.options.offers.whep };
    this.guard(client, () => this.sendJson(client, { type: 'hello', protocol: PROTOCOL_VERSION, ...this.view.hello(), offers }));
  }

  private onClose(client: Client): void {
    clearTimeout(client.closeTimer);
    this.clients.delete(client);
    this.connections.delete(client);
    this.metrics.wsClients.set(this.clients.size);
    const summary = client.rejections.flush(Date.now());
    if (summary) this.logRejectionSummary(client, summary);
    this.log?.info({ client: client.id }, 'websocket client disconnected');
  }

  /**
   * The last resort: whatever a message handler throws stays here (ws would rethrow it and
   * the process would exit). It is a bug, so it is logged with its stack and the client gets
   * E_INTERNAL; the server keeps serving.
   */
  private guard(client: Client, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.internalError(client, err);
    }
  }

  private internalError(client: Client, err: unknown, id?: string | number): void {
    try {
      this.log?.error({ client: client.id, err }, 'handling a client message failed');
      this.sendError(client, INTERNAL_ERROR, id);
    } catch {
      // Logging or answering failed too; there is nothing left to tell anyone.
    }
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
    if (size > this.options.maxMessageBytes) {
      return this.sendError(client, new SegstreamError('E_MSG_TOO_LARGE', `message of ${size} bytes exceeds the limit`, { expected: `<= ${this.options.maxMessageBytes} bytes`, actual: size }));
    }
    if (isBinary) {
      return this.sendError(client, new SegstreamError('E_MSG_INVALID', 'binary messages are not accepted; send JSON text', { expected: 'text frame' }));
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
    const maxDepth = this.options.maxMessageDepth;
    if (jsonDepth(text, maxDepth) > maxDepth) {
      return this.sendError(client, new SegstreamError('E_MSG_INVALID', `message nests arrays or objects deeper than ${maxDepth} levels`, { expected: `<= ${maxDepth} levels`, actual: `> ${maxDepth}` }));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return this.sendError(client, new SegstreamError('E_MSG_NOT_JSON', `message is not JSON: ${summariseString((err as Error).message, 120)}`));
    }
    const type = isObject(parsed) && Object.hasOwn(parsed, 'type') ? parsed['type'] : undefined;
    // Error replies echo the request's id too, so a client can pair them with the request.
    const id = requestIdOf(parsed);
    const handler = typeof type === 'string' ? this.handlers.get(type) : undefined;
    if (handler) {
      this.forward(client, handler, parsed, id).catch((err: unknown) => this.internalError(client, err, id));
      return;
    }
    if (type !== 'ping' && type !== 'subscribe') {
      const known = [...SERVER_MESSAGE_TYPES, ...this.handlers.keys()];
      const what = type === undefined ? 'message has no type' : `unknown message type ${JSON.stringify(summariseValue(type))}`;
      return this.sendError(client, new SegstreamError('E_MSG_UNKNOWN_TYPE', what, { expected: known, actual: summariseValue(type) }), id);
    }
    let msg: PingMessage | SubscribeMessage;
    try {
      msg = parseControlMessage(parsed, type);
    } catch (err) {
      if (err instanceof SegstreamError) return this.sendError(client, err, id);
      throw err;
    }
    this.handle(client, msg);
  }

  private handle(client: Client, msg: PingMessage | SubscribeMessage): void {
    switch (msg.type) {
      case 'ping':
        this.sendJson(client, { type: 'pong', ...(msg.id === undefined ? {} : { id: msg.id }), time: Date.now() });
        return;
      case 'subscribe': {
        // Everything is checked before anything changes: a refused subscribe leaves the one in force.
        if (msg.cameras !== undefined && msg.cameras !== '*') {
          const known = new Set(this.view.cameraIds());
          const unknown = msg.cameras.filter((c) => !known.has(c));
          if (unknown.length > 0) {
            // The ids are the client's text: name a few, each cut short.
            return this.sendError(client, new SegstreamError('E_UNKNOWN_CAMERA', `unknown camera(s): ${nameSome(unknown)}`, { expected: [...known].slice(0, 16), actual: summariseValue(unknown) }));
          }
        }
        if (msg.jpeg && !this.options.offers.jpeg) {
          return this.sendError(client, new SegstreamError('E_MSG_INVALID', 'this server does not offer JPEG frames (hello.offers.jpeg is false: the display output is off)', { expected: 'no jpeg', actual: summariseValue(msg.jpeg) }));
        }
        client.cameras = msg.cameras === undefined || msg.cameras === '*' ? null : new Set(msg.cameras);
        client.masks = msg.masks ?? 'rle';
        client.jpeg = msg.jpeg ?? null;
        client.jpegGates.clear();
        this.sendJson(client, { type: 'subscribed', cameras: client.cameras ? [...client.cameras] : '*', masks: client.masks, ...(client.jpeg ? { jpeg: client.jpeg } : {}) });
      }
    }
  }

  private async forward(client: Client, handler: RequestHandler, message: unknown, id: string | number | undefined): Promise<void> {
    try {
      this.sendJson(client, await handler(message));
    } catch (err) {
      if (err instanceof SegstreamError) return this.sendError(client, err, id);
      this.internalError(client, err, id);
    }
  }

  private sendError(client: Client, err: SegstreamError, id?: string | number): void {
    this.metrics.clientErrors.inc({ code: err.code });
    const { log, summary } = client.rejections.record(err.code, Date.now());
    if (summary) this.logRejectionSummary(client, summary);
    if (log) this.log?.info({ client: client.id, code: err.code, err: summariseString(err.message, 200) }, 'rejected client message');
    this.sendJson(client, { type: 'error', ...err.toJSON(), ...(id === undefined ? {} : { id }) });
  }

  private logRejectionSummary(client: Client, summary: RejectionSummary): void {
    this.log?.info({ client: client.id, ...summary }, 'rejected client messages not logged one by one (summary)');
  }

  /** Ends the rejection-log windows that ran their interval (clients that went quiet included). */
  private flushRejectionLogs(): void {
    const now = Date.now();
    for (const c of this.connections) {
      const summary = c.rejections.flushIfDue(now);
      if (summary) this.logRejectionSummary(c, summary);
    }
    const refused = this.refusals.flushIfDue(now);
    if (refused) this.logRefusalSummary(refused);
  }

  private logRefusalSummary(summary: RejectionSummary): void {
    this.log?.warn(summary, 'connections and requests refused and not logged one by one (summary)');
  }

  private rejectLogOptions(): { burst: number; intervalMs: number } {
    return { burst: this.options.rejectLogBurst, intervalMs: this.options.rejectLogIntervalMs };
  }

  private sendJson(client: Client, msg: object): void {
    let json: string;
    try {
      json = JSON.stringify(msg);
    } catch (err) {
      this.log?.error({ client: client.id, err }, 'a reply could not be serialised');
      this.metrics.clientErrors.inc({ code: 'E_INTERNAL' });
      json = INTERNAL_ERROR_JSON;
    }
    this.deliver(client, json, Date.now());
  }

  /**
   * Sends unless the client's send buffer is over the limit: then the message is skipped
   * (counted) and a client that stays over it for slowClientTimeoutMs is disconnected.
   * Every message type goes through here, so no client can make the server buffer without bound.
   */
  private deliver(client: Client, json: string | Uint8Array, now: number, headroom = 0): void {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    if (client.ws.bufferedAmount > this.options.maxBufferedBytes + headroom) {
      client.skipped++;
      this.metrics.wsSkipped.inc();
      client.slowSince ??= now;
      if (now - client.slowSince > this.options.slowClientTimeoutMs) this.dropSlowClient(client);
      return;
    }
    client.slowSince = null;
    client.ws.send(json);
  }

  /**
   * Sends a camera's frame to every client subscribed to it, in the mask format each asked
   * for: each format is built and serialised once (by the payload, only if some client wants
   * it), and each client's copy gets its own `clientDropped`. A string is sent as it is to
   * every format.
   */
  publishFrame(camera: string, frame: string | FramePayload): void {
    const now = Date.now();
    // A format that failed to build is not tried again for the next client (null).
    const texts = new Map<MaskFormat, string | null>();
    const textOf = (format: MaskFormat): string | null => {
      if (typeof frame === 'string') return frame;
      let text = texts.get(format);
      if (text !== undefined) return text;
      try {
        text = frame.json(format);
      } catch (err) {
        // A bug in building this format: this frame is skipped for its clients, nothing else.
        this.log?.error({ err, camera, format }, 'a frame message could not be built; skipped');
        text = null;
      }
      texts.set(format, text);
      return text;
    };
    for (const client of this.clients) {
      if (client.cameras && !client.cameras.has(camera)) continue;
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      const json = textOf(client.masks);
      if (json !== null) this.deliver(client, withClientDropped(json, client.skipped), now);
    }
  }

  /**
   * What JPEG frames of `camera` the clients ask for: the highest fps of those that want the
   * clean picture and of those that want the overlay (0: nobody). Encoders ask this per frame,
   * so nothing is encoded while nobody asks.
   */
  jpegDemand(camera: string): { clean: number; overlay: number } {
    const demand = { clean: 0, overlay: 0 };
    for (const client of this.clients) {
      const j = client.jpeg;
      if (!j || (client.cameras && !client.cameras.has(camera))) continue;
      const k = j.overlay ? 'overlay' : 'clean';
      if (j.fps > demand[k]) demand[k] = j.fps;
    }
    return demand;
  }

  /**
   * Sends one encoded JPEG frame (binary: header length, header, JPEG; see
   * src/protocol/jpeg.ts) to every client subscribed to its camera that asked for this variant
   * and whose rate lets it through now (by capture time). The message is built once. A client
   * that is behind skips it like any other message (counted in its clientDropped).
   */
  publishJpeg(header: JpegHeader, jpeg: Uint8Array): void {
    const now = Date.now();
    let message: Uint8Array | undefined;
    for (const client of this.clients) {
      const j = client.jpeg;
      if (!j || j.overlay !== header.overlay) continue;
      if (client.cameras && !client.cameras.has(header.camera)) continue;
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      let gate = client.jpegGates.get(header.camera);
      if (!gate) client.jpegGates.set(header.camera, (gate = new RateGate()));
      if (!gate.admit(header.timestamp, 1000 / j.fps)) continue;
      message ??= encodeJpegMessage(header, jpeg);
      this.deliver(client, message, now);
    }
  }

  /**
   * One heartbeat: a client that did not answer the previous ping is terminated (a dead peer
   * or a half-open connection: its close handshake could not finish either); every other
   * client is pinged. The ping queues behind what the client has not read yet, so a client
   * must read within an interval to stay.
   */
  private beat(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        this.log?.warn({ client: client.id, intervalMs: this.options.heartbeatIntervalMs }, 'terminating a WebSocket client that answered no ping');
        this.metrics.wsHeartbeatTimeouts.inc();
        this.clients.delete(client);
        this.metrics.wsClients.set(this.clients.size);
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      try {
        client.ws.ping();
      } catch (err) {
        this.log?.warn({ client: client.id, err }, 'a heartbeat ping could not be sent');
      }
    }
  }

  /** Sends a non-frame event (camera status, ...) to all clients. */
  /**
   * Sends a camera's message (an event) to every client subscribed to that camera. Events are
   * few and small, and a client that missed an `end` would show the event open for ever: they
   * are sent past a full send buffer, up to EVENT_HEADROOM_BYTES more (still bounded).
   */
  publishToCamera(camera: string, msg: object): void {
    const json = JSON.stringify(msg);
    const now = Date.now();
    for (const client of this.clients) {
      if (client.cameras && !client.cameras.has(camera)) continue;
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      this.deliver(client, json, now, EVENT_HEADROOM_BYTES);
    }
  }

  broadcast(msg: object): void {
    const json = JSON.stringify(msg);
    const now = Date.now();
    for (const client of this.clients) this.deliver(client, json, now);
  }

  /**
   * Nothing more is sent from now on (ws is CLOSING), so the close frame queues behind at most
   * maxBufferedBytes plus one message (and what the kernels buffer). Bytes already in the
   * stream cannot be overtaken: a client that reads again within slowClientCloseGraceMs gets
   * them, then close 1008 E_CLIENT_SLOW; one that does not is destroyed (it sees 1006).
   */
  private dropSlowClient(client: Client): void {
    this.log?.warn({ client: client.id, code: 'E_CLIENT_SLOW', skipped: client.skipped }, 'disconnecting a client that stopped reading');
    this.metrics.clientErrors.inc({ code: 'E_CLIENT_SLOW' });
    this.clients.delete(client);
    this.metrics.wsClients.set(this.clients.size);
    client.ws.close(1008, 'E_CLIENT_SLOW: client stopped reading');
    client.closeTimer = setTimeout(() => client.ws.terminate(), this.options.slowClientCloseGraceMs);
    client.closeTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        for (const c of this.connections) c.ws.terminate();
        resolve();
      }, 1000);
      t.unref();
      this.wss.close(() => {
        clearTimeout(t);
        resolve();
      });
    });
    for (const c of this.connections) c.ws.terminate();
    for (const c of this.wss.clients) c.terminate();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/** A frame message's JSON with this client's `clientDropped` as its last field (the text of an object ends in `}`). */
function withClientDropped(json: string, dropped: number): string {
  return json.endsWith('}') ? `${json.slice(0, -1)},"clientDropped":${dropped}}` : json;
}

/** A health answer without its details: lists become their lengths, in nested objects too (`inference.unavailable`). */
function brief(h: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.length : isObject(v) ? brief(v) : v]));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A message's `id` as the schemas accept it (a string of at most 64 characters, a finite number); else none. */
function requestIdOf(v: unknown): string | number | undefined {
  const id = isObject(v) && Object.hasOwn(v, 'id') ? v['id'] : undefined;
  if (typeof id === 'string' && id.length <= 64) return id;
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  return undefined;
}

/**
 * Answers an upgrade request with a plain HTTP response and closes the socket. Node removes
 * its own socket listeners before 'upgrade', so without an error listener a client that
 * resets the connection would be an uncaught exception.
 */
function refuse(socket: Duplex, status: number, reason: string, contentType: string, body: string): void {
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const NON_NEGATIVE: readonly (keyof PublishOptions)[] = ['port', 'rejectLogBurst', 'heartbeatIntervalMs'];

/** Bad options are programming errors: TypeError naming the option. */
function checkOptions(o: PublishOptions): PublishOptions {
  for (const [k, v] of Object.entries(o) as [keyof PublishOptions, unknown][]) {
    if (k === 'host') continue;
    if (k === 'offers') {
      const ok = typeof v === 'object' && v !== null && typeof (v as { jpeg?: unknown }).jpeg === 'boolean' && typeof (v as { whep?: unknown }).whep === 'boolean';
      if (!ok) throw new TypeError(`PublishOptions.offers must be { jpeg: boolean, whep: boolean }, got ${JSON.stringify(v)}`);
      continue;
    }
    const min = NON_NEGATIVE.includes(k) ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new TypeError(`PublishOptions.${k} must be an integer >= ${min}, got ${String(v)}`);
  }
  return o;
}
