import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { parseWith, SegstreamError, type Logger } from '../core/index.js';
import type { Metrics } from '../metrics.js';
import { clientMessageSchema, CLIENT_MESSAGE_TYPES, PROTOCOL_VERSION, type ClientMessage } from './messages.js';

export interface PublishOptions {
  host: string;
  port: number;
  /** Client messages larger than this get E_MSG_TOO_LARGE and are ignored, bytes. */
  maxMessageBytes: number;
  /** Hard limit: larger frames close the connection with 1009 (ws maxPayload), bytes. */
  maxPayloadBytes: number;
  /** A client with more than this unsent is skipped (frames, events, replies), bytes. */
  maxBufferedBytes: number;
  /** A client skipped continuously this long is disconnected (1008, E_CLIENT_SLOW), ms. */
  slowClientTimeoutMs: number;
}

export const DEFAULT_PUBLISH_OPTIONS: PublishOptions = {
  host: '0.0.0.0',
  port: 8080,
  maxMessageBytes: 16 * 1024,
  maxPayloadBytes: 1024 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  slowClientTimeoutMs: 10_000,
};

/** A client request the app answers (e.g. `prompt`): the reply, or a SegstreamError. */
export type RequestHandler = (message: unknown) => Promise<Record<string, unknown>> | Record<string, unknown>;

/** What the server reports about the service and the requests it forwards (injected by the app). */
export interface ServiceView {
  hello(): Record<string, unknown>;
  health(): { ok: boolean; [k: string]: unknown };
  cameraIds(): string[];
  /** Message types beyond ping/subscribe, by `type`; each validates its own message. */
  handlers?: Readonly<Record<string, RequestHandler>>;
}

interface Client {
  ws: WebSocket;
  id: number;
  /** null = all cameras. */
  cameras: Set<string> | null;
  slowSince: number | null;
  skipped: number;
}

/**
 * One HTTP server: GET /healthz, GET /metrics (Prometheus), WebSocket at /ws.
 * Frame messages are serialised once and sent to every subscribed client; a client that
 * does not read is skipped (counted) and, if it stays behind, disconnected. A bad
 * message gets an error reply to that client only.
 */
export class PublishServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private nextClientId = 1;
  private closed = false;

  constructor(
    private readonly options: PublishOptions,
    private readonly view: ServiceView,
    private readonly metrics: Metrics,
    private readonly log?: Logger,
  ) {
    this.http = createServer((req, res) => {
      this.handleHttp(req, res).catch((err: unknown) => {
        this.log?.error({ err, url: req.url }, 'HTTP request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
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

  get clientCount(): number {
    return this.clients.size;
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const h = this.view.health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h));
      return;
    }
    if (path === '/metrics') {
      const body = await this.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /metrics or a WebSocket at /ws\n');
  }

  private accept(ws: WebSocket): void {
    const client: Client = { ws, id: this.nextClientId++, cameras: null, slowSince: null, skipped: 0 };
    this.clients.add(client);
    this.metrics.wsClients.set(this.clients.size);
    this.log?.info({ client: client.id }, 'websocket client connected');
    this.sendJson(client, { type: 'hello', protocol: PROTOCOL_VERSION, ...this.view.hello() });
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(client, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes with 1009 itself when maxPayload is exceeded.
      this.log?.warn({ client: client.id, code: err.code, err: err.message }, 'websocket client error');
    });
    ws.on('close', () => {
      this.clients.delete(client);
      this.metrics.wsClients.set(this.clients.size);
      this.log?.info({ client: client.id }, 'websocket client disconnected');
    });
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
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return this.sendError(client, new SegstreamError('E_MSG_NOT_JSON', `message is not JSON: ${(err as Error).message}`));
    }
    const type = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as { type?: unknown }).type : undefined;
    const handler = typeof type === 'string' ? this.view.handlers?.[type] : undefined;
    if (handler) return void this.forward(client, handler, parsed);
    if (typeof type !== 'string' || !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
      const known = [...CLIENT_MESSAGE_TYPES, ...Object.keys(this.view.handlers ?? {})];
      return this.sendError(client, new SegstreamError('E_MSG_UNKNOWN_TYPE', `unknown message type ${JSON.stringify(type)}`, { expected: known, actual: type ?? null }));
    }
    let msg: ClientMessage;
    try {
      msg = parseWith(clientMessageSchema, parsed, 'E_MSG_INVALID', `invalid '${type}' message:`);
    } catch (err) {
      return this.sendError(client, err as SegstreamError);
    }
    this.handle(client, msg);
  }

  private handle(client: Client, msg: ClientMessage): void {
    switch (msg.type) {
      case 'ping':
        this.sendJson(client, { type: 'pong', ...(msg.id === undefined ? {} : { id: msg.id }), time: Date.now() });
        return;
      case 'subscribe': {
        if (msg.cameras === undefined || msg.cameras === '*') client.cameras = null;
        else {
          const known = new Set(this.view.cameraIds());
          const unknown = msg.cameras.filter((c) => !known.has(c));
          if (unknown.length > 0) {
            return this.sendError(client, new SegstreamError('E_UNKNOWN_CAMERA', `unknown camera(s): ${unknown.join(', ')}`, { expected: [...known], actual: unknown }));
          }
          client.cameras = new Set(msg.cameras);
        }
        this.sendJson(client, { type: 'subscribed', cameras: client.cameras ? [...client.cameras] : '*' });
      }
    }
  }

  private async forward(client: Client, handler: RequestHandler, message: unknown): Promise<void> {
    try {
      this.sendJson(client, await handler(message));
    } catch (err) {
      if (err instanceof SegstreamError) return this.sendError(client, err);
      this.log?.error({ client: client.id, err }, 'request handler failed');
      this.sendError(client, new SegstreamError('E_INTERNAL', 'the request failed inside segstream; see the server log'));
    }
  }

  private sendError(client: Client, err: SegstreamError): void {
    this.metrics.clientErrors.inc({ code: err.code });
    this.log?.info({ client: client.id, code: err.code, err: err.message }, 'rejected client message');
    this.sendJson(client, { type: 'error', ...err.toJSON() });
  }

  private sendJson(client: Client, msg: object): void {
    this.deliver(client, JSON.stringify(msg), Date.now());
  }

  /**
   * Sends unless the client's send buffer is over the limit: then the message is skipped
   * (counted) and a client that stays over it for slowClientTimeoutMs is disconnected.
   * Every message type goes through here, so no client can make the server buffer without bound.
   */
  private deliver(client: Client, json: string, now: number): void {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    if (client.ws.bufferedAmount > this.options.maxBufferedBytes) {
      client.skipped++;
      this.metrics.wsSkipped.inc();
      client.slowSince ??= now;
      if (now - client.slowSince > this.options.slowClientTimeoutMs) this.dropSlowClient(client);
      return;
    }
    client.slowSince = null;
    client.ws.send(json);
  }

  /** Sends a camera's frame message (serialised once) to every subscribed client. */
  publishFrame(camera: string, json: string): void {
    const now = Date.now();
    for (const client of this.clients) {
      if (client.cameras && !client.cameras.has(camera)) continue;
      this.deliver(client, json, now);
    }
  }

  /** Sends a non-frame event (camera status, ...) to all clients. */
  broadcast(msg: object): void {
    const json = JSON.stringify(msg);
    const now = Date.now();
    for (const client of this.clients) this.deliver(client, json, now);
  }

  private dropSlowClient(client: Client): void {
    this.log?.warn({ client: client.id, code: 'E_CLIENT_SLOW', skipped: client.skipped }, 'disconnecting a client that stopped reading');
    this.metrics.clientErrors.inc({ code: 'E_CLIENT_SLOW' });
    this.clients.delete(client);
    this.metrics.wsClients.set(this.clients.size);
    // Its socket is not draining, so a close handshake may never finish: give it 1 s.
    client.ws.close(1008, 'E_CLIENT_SLOW: client stopped reading');
    setTimeout(() => client.ws.terminate(), 1000).unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        for (const c of this.clients) c.ws.terminate();
        resolve();
      }, 1000);
      t.unref();
      this.wss.close(() => {
        clearTimeout(t);
        resolve();
      });
    });
    for (const c of this.wss.clients) c.terminate();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
