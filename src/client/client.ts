import { backoffDelay, checkBackoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { decodeJpegFrame } from './jpeg.js';
import { SegstreamClientError } from './errors.js';
import { MessageQueue } from './queue.js';
import { PendingRequests } from './requests.js';
import {
  SERVER_MESSAGE_TYPES,
  type CameraView,
  type ClientMessage,
  type ErrorMessage,
  type EventMessage,
  type FrameMessage,
  type HelloMessage,
  type JpegFrame,
  type JpegOptions,
  type PongMessage,
  type PromptClearedMessage,
  type PromptOkMessage,
  type PromptRequest,
  type ServerMessage,
  type ServerMessageType,
  type StatusMessage,
  type SubscribedMessage,
  type TargetEndedMessage,
  type TargetReattachedMessage,
} from './types.js';

/**
 * What the client needs of a WebSocket: the browser's, or the `ws` package's in Node. The
 * handlers' parameter is `never` so that both libraries' own event types fit; the client reads
 * only `data` (a string for text frames in both) and `code`/`reason`.
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ConnectOptions {
  /** `ws://host:8080/ws`; `http(s)://host:8080` works too (scheme mapped, `/ws` added). */
  url: string;
  /** The server's access token, sent as `?token=` (browsers cannot set headers on a WebSocket). */
  token?: string;
  /** Default `globalThis.WebSocket` (browsers; Node 20 has none: pass `WebSocket` from `ws`). */
  WebSocket?: WebSocketConstructor;
  /** Waits between reconnects; `false`: no reconnect, a dropped connection ends the client. */
  reconnect?: Partial<BackoffOptions> | false;
  /** A request without its reply after this long rejects with E_TIMEOUT (waiting for the connection included), ms. */
  requestTimeoutMs?: number;
  /** The cameras to receive frames of, (re)sent on every connect; default every camera. */
  cameras?: string[] | '*';
  /** JPEG frames to ask for (binary messages, `jpeg` events), (re)sent on every connect; default none. */
  jpeg?: JpegOptions;
  /** Messages an async iterator holds for a reader that falls behind (oldest dropped). */
  iteratorCapacity?: number;
}

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateChange {
  state: ConnectionState;
  /** Reconnect attempts since the last open connection. */
  attempt: number;
  /** `reconnecting`: the wait before the next attempt, ms. */
  delayMs?: number;
  /** The WebSocket close code and reason of the connection that ended. */
  code?: number;
  reason?: string;
  /** Why the connection failed, where the WebSocket says (`ws` in Node: "Unexpected server response: 401"; browsers do not tell). */
  error?: string;
}

export interface ClientEvents {
  hello: (m: HelloMessage) => void;
  frame: (m: FrameMessage) => void;
  status: (m: StatusMessage) => void;
  'target.ended': (m: TargetEndedMessage) => void;
  'target.reattached': (m: TargetReattachedMessage) => void;
  'prompt.ok': (m: PromptOkMessage) => void;
  'prompt.cleared': (m: PromptClearedMessage) => void;
  pong: (m: PongMessage) => void;
  subscribed: (m: SubscribedMessage) => void;
  /** A JPEG frame (subscribed with `jpeg`): its header and the JPEG bytes (not a ServerMessage: no `message` event). */
  jpeg: (f: JpegFrame) => void;
  /** A road event of a camera the client subscribes to: `start`, `update`, `end`. */
  event: (m: EventMessage) => void;
  /** Every error reply, also those that reject a request. */
  error: (m: ErrorMessage) => void;
  /** Every message, whatever its type. */
  message: (m: ServerMessage) => void;
  state: (s: StateChange) => void;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_ITERATOR_CAPACITY = 256;
/** WebSocket.OPEN in both the browser and `ws`. */
const OPEN = 1;
const KNOWN_TYPES: ReadonlySet<string> = new Set(SERVER_MESSAGE_TYPES);

/** The WebSocket URL with the token: http(s) mapped to ws(s), `/ws` when no path is given. */
export function webSocketUrl(url: string, token?: string): string {
  const u = new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`url must be ws(s):// or http(s)://, got ${u.protocol}`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/ws';
  if (token !== undefined) u.searchParams.set('token', token);
  return u.toString();
}

/**
 * Connects to a segstream server and keeps connected: a dropped connection is retried with
 * bounded, jittered exponential backoff until `close()`. Server messages come as events
 * (`on('frame', ...)`) or through `messages()`; prompts, clears, pings and subscriptions return
 * promises of their replies.
 */
export function connect(options: ConnectOptions): SegstreamClient {
  return new SegstreamClient(options);
}

export class SegstreamClient {
  private readonly url: string;
  private readonly Ws: WebSocketConstructor;
  private readonly backoff: BackoffOptions | undefined;
  private readonly timeoutMs: number;
  private readonly capacity: number;
  private readonly events = new Emitter<ClientEvents>();
  private readonly pending = new PendingRequests();
  private readonly iterators = new Set<{ types: ReadonlySet<string> | undefined; queue: MessageQueue<ServerMessage> }>();
  private readonly views = new Map<string, CameraView>();
  private ws: WebSocketLike | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private subscription: string[] | '*' | undefined;
  private jpeg: JpegOptions | undefined;
  private current: ConnectionState = 'connecting';
  private latestHello: HelloMessage | undefined;
  /** Messages that were not JSON objects with a known `type` (ignored). */
  malformed = 0;

  constructor(options: ConnectOptions) {
    this.url = webSocketUrl(options.url, options.token);
    const Ws = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ws) throw new TypeError('no WebSocket here (Node 20): pass WebSocket, e.g. `import { WebSocket } from "ws"`');
    this.Ws = Ws;
    this.backoff = options.reconnect === false ? undefined : checkBackoff({ ...DEFAULT_BACKOFF, ...options.reconnect });
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new TypeError(`requestTimeoutMs must be > 0, got ${this.timeoutMs}`);
    this.capacity = options.iteratorCapacity ?? DEFAULT_ITERATOR_CAPACITY;
    this.subscription = options.cameras;
    this.jpeg = options.jpeg;
    this.open();
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The `hello` of the current (or last) connection. */
  get hello(): HelloMessage | undefined {
    return this.latestHello;
  }

  /** The cameras as the server last described them (`hello`, then each `status`); removed ones leave. */
  get cameras(): ReadonlyMap<string, CameraView> {
    return this.views;
  }

  /** Adds a listener; returns the function that removes it. A listener that throws does not stop the others. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    return this.events.on(event, listener);
  }

  /**
   * The server's messages (only `types`, when given) as an async iterator, across reconnects,
   * until `close()` or a `break`. A reader that falls behind loses the oldest (iteratorCapacity).
   */
  messages<T extends ServerMessageType>(...types: T[]): AsyncIterableIterator<Extract<ServerMessage, { type: T }>> {
    const entry = { types: types.length > 0 ? new Set<string>(types) : undefined, queue: new MessageQueue<ServerMessage>(this.capacity, () => this.iterators.delete(entry)) };
    if (this.current === 'closed') entry.queue.end();
    else this.iterators.add(entry);
    // Only messages of `types` are pushed to it.
    return entry.queue as unknown as AsyncIterableIterator<Extract<ServerMessage, { type: T }>>;
  }

  /** Resolves with the `hello` once the connection is open (at once if it is). */
  ready(timeoutMs = this.timeoutMs): Promise<HelloMessage> {
    return this.whenOpen(Date.now() + timeoutMs, 'ready()');
  }

  /**
   * Receive frames of these cameras only (default all, cameras added later included); kept for
   * reconnects. `options.jpeg` asks for JPEG frames of them (`jpeg` events; null: none any
   * more); omitted, the JPEG frames asked for before stay.
   */
  async subscribe(cameras: string[] | '*' = '*', options: { jpeg?: JpegOptions | null } = {}): Promise<SubscribedMessage> {
    this.subscription = cameras;
    if (options.jpeg !== undefined) this.jpeg = options.jpeg ?? undefined;
    const deadline = Date.now() + this.timeoutMs;
    await this.whenOpen(deadline, 'subscribe');
    return this.sendInOrder<SubscribedMessage>(this.subscribeMessage(), deadline);
  }

  private subscribeMessage(): ClientMessage & { type: 'subscribe' } {
    return { type: 'subscribe', cameras: this.subscription ?? '*', ...(this.jpeg ? { jpeg: this.jpeg } : {}) };
  }

  /** A prompt (exactly one of points, box, text; source-frame px): resolves with `prompt.ok`, rejects with the server's error code. */
  prompt(request: PromptRequest): Promise<PromptOkMessage> {
    return this.request<PromptOkMessage>('prompt.ok', `prompt on '${request.camera}'`, (id) => ({ ...request, type: 'prompt', id }));
  }

  /** Clears one target of a camera, or all of them: resolves with `prompt.cleared`. */
  clear(camera: string, target?: number): Promise<PromptClearedMessage> {
    return this.request<PromptClearedMessage>('prompt.cleared', `prompt.clear on '${camera}'`, (id) => ({ type: 'prompt.clear', camera, id, ...(target === undefined ? {} : { target }) }));
  }

  ping(): Promise<PongMessage> {
    return this.request<PongMessage>('pong', 'ping', (id) => ({ type: 'ping', id }));
  }

  /** Ends the connection and every reconnect; waiting requests reject (E_CLIENT_CLOSED), iterators end. Safe twice. */
  close(): void {
    if (this.current === 'closed') return;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      // Kept: `ws` throws an 'error' without a listener (closing while it connects is one).
      ws.onerror = () => {};
      ws.close(1000, 'client closed');
    }
    this.finish({ state: 'closed', attempt: this.attempt }, new SegstreamClientError('E_CLIENT_CLOSED', 'the client was closed'));
  }

  private open(): void {
    const ws = new this.Ws(this.url);
    this.ws = ws;
    // JPEG frames as ArrayBuffers (browsers default to Blobs; `ws` gives Buffers either way).
    (ws as { binaryType?: string }).binaryType = 'arraybuffer';
    ws.onmessage = (ev: { data: unknown }) => this.onMessage(ev.data);
    let error: string | undefined;
    ws.onclose = (ev: { code: number; reason: string }) => this.onClose(ws, ev.code, ev.reason, error);
    // A failed connection also closes; the close decides what happens next.
    ws.onerror = (ev: { message?: unknown }) => {
      if (typeof ev.message === 'string' && ev.message) error = ev.message;
    };
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string' && (data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
      let frame: JpegFrame;
      try {
        frame = decodeJpegFrame(data);
      } catch {
        this.malformed++;
        return;
      }
      this.events.emit('jpeg', frame);
      return;
    }
    let m: ServerMessage;
    try {
      const parsed: unknown = typeof data === 'string' ? JSON.parse(data) : undefined;
      if (typeof parsed !== 'object' || parsed === null || !KNOWN_TYPES.has((parsed as { type?: unknown }).type as string)) throw new TypeError('not a known message');
      m = parsed as ServerMessage;
    } catch {
      this.malformed++;
      return;
    }
    if (m.type === 'hello') this.onHello(m);
    else if (m.type === 'status') this.noteStatus(m);
    this.pending.settle(m);
    this.events.emit('message', m);
    // Each type to its own event: the message's type is its event's name.
    (this.events.emit as (k: string, m: ServerMessage) => void).call(this.events, m.type, m);
    for (const it of this.iterators) if (!it.types || it.types.has(m.type)) it.queue.push(m);
  }

  private onHello(m: HelloMessage): void {
    this.latestHello = m;
    this.views.clear();
    for (const c of m.cameras ?? []) this.views.set(c.id, c);
    this.attempt = 0;
    this.setState({ state: 'open', attempt: 0 });
    // Sent before the requests that waited for the connection (they go on in a later microtask).
    if (this.subscription !== undefined || this.jpeg !== undefined) this.sendInOrder<SubscribedMessage>(this.subscribeMessage(), Date.now() + this.timeoutMs).catch(() => {});
  }

  private noteStatus(m: StatusMessage): void {
    if (m.state === 'removed') return void this.views.delete(m.camera);
    const { type: _type, camera, ...fields } = m;
    const before = this.views.get(camera);
    // A new error replaces the old one; a status without one means it is gone.
    const { error: _old, ...kept } = before ?? { id: camera, state: m.state };
    this.views.set(camera, { ...kept, ...fields, id: camera });
  }

  private onClose(ws: WebSocketLike, code: number, reason: string, error: string | undefined): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    const lost = new SegstreamClientError('E_CONNECTION_LOST', `the connection closed (${code}${reason ? ` ${reason}` : ''}) before the reply came`);
    const why = error === undefined ? {} : { error };
    if (!this.backoff) return this.finish({ state: 'closed', attempt: this.attempt, code, reason, ...why }, lost);
    this.pending.rejectAll(lost);
    const delayMs = backoffDelay(this.attempt, this.backoff);
    this.attempt++;
    this.setState({ state: 'reconnecting', attempt: this.attempt, delayMs, code, reason, ...why });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.current !== 'closed') this.open();
    }, delayMs);
  }

  private finish(change: StateChange, err: SegstreamClientError): void {
    this.pending.rejectAll(err);
    for (const it of this.iterators) it.queue.end();
    this.iterators.clear();
    this.setState(change);
    this.events.clear();
  }

  private setState(change: StateChange): void {
    this.current = change.state;
    this.events.emit('state', change);
  }

  private whenOpen(deadline: number, what: string): Promise<HelloMessage> {
    if (this.current === 'open' && this.latestHello) return Promise.resolve(this.latestHello);
    if (this.current === 'closed') return Promise.reject(new SegstreamClientError('E_CLIENT_CLOSED', `${what}: the client is closed`));
    const waitMs = Math.max(0, deadline - Date.now());
    return new Promise((resolve, reject) => {
      const off = this.on('state', (s) => {
        if (s.state === 'open' && this.latestHello) done(() => resolve(this.latestHello!));
        else if (s.state === 'closed') done(() => reject(new SegstreamClientError('E_CLIENT_CLOSED', `${what}: the client is closed`)));
      });
      const timer = setTimeout(() => done(() => reject(new SegstreamClientError('E_TIMEOUT', `${what}: not connected within ${Math.round(waitMs)} ms`))), waitMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        off();
        settle();
      };
    });
  }

  private async request<T extends ServerMessage>(reply: T['type'], what: string, build: (id: number) => ClientMessage): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    await this.whenOpen(deadline, what);
    const id = this.pending.newId();
    // Sent first: a reply cannot come before this returns, and a send that fails leaves nothing waiting.
    this.transmit(build(id), what);
    return this.pending.withId<T>(id, reply, what, deadline - Date.now());
  }

  /** For `subscribe`, which carries no id: its reply comes in order. */
  private sendInOrder<T extends ServerMessage>(message: ClientMessage & { type: 'subscribe' }, deadline: number): Promise<T> {
    try {
      this.transmit(message, 'subscribe');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.pending.inOrder<T>('subscribed', 'subscribe', deadline - Date.now());
  }

  /** Throws E_CONNECTION_LOST when the connection closed since it was found open. */
  private transmit(message: ClientMessage, what: string): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN || this.current !== 'open') throw new SegstreamClientError('E_CONNECTION_LOST', `${what}: the connection closed before it was sent`);
    ws.send(JSON.stringify(message));
  }
}
