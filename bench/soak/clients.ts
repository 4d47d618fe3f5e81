import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { WebSocket, type RawData } from 'ws';
import { SlowConnection, type SlowClose } from './slowReader.js';

/** How a connection of the fast client ended. */
export interface FastClose {
  at: number;
  code: number;
  reason: string;
  /** True when the soak closed it (at the end of the run). */
  byClient: boolean;
}

const RECONNECT_MS = 1000;

/** A ws client that reads every message; reconnects (counted) when the server closes it. */
export class FastClient {
  messages = 0;
  bytes = 0;
  connections = 0;
  failedConnects = 0;
  readonly types = new Map<string, number>();
  /** Frame messages per camera, and the largest `dropped` each camera reported. */
  readonly frames = new Map<string, number>();
  readonly dropped = new Map<string, number>();
  /** Status messages with state 'reconnecting', per camera. */
  readonly reconnecting = new Map<string, number>();
  readonly closes: FastClose[] = [];
  /** Capture (frame timestamp) -> received here, ms. */
  readonly latencyMs: RecordableHistogram = createHistogram();
  private ws: WebSocket | undefined;
  private stopping = false;

  constructor(private readonly url: string) {}

  start(): Promise<void> {
    return this.connect();
  }

  private connect(): Promise<void> {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.on('message', (data: RawData) => this.onMessage(data));
    ws.on('error', () => undefined); // 'close' follows and is what counts
    const opened = new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        this.connections++;
        resolve();
      });
      ws.once('error', reject);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closes.push({ at: Date.now(), code, reason: reason.toString('utf8'), byClient: this.stopping });
      if (!this.stopping) setTimeout(() => this.reconnect(), RECONNECT_MS).unref();
    });
    return opened;
  }

  private reconnect(): void {
    if (this.stopping) return;
    this.connect().catch(() => this.failedConnects++);
  }

  private onMessage(data: RawData): void {
    const text = String(data);
    this.messages++;
    this.bytes += text.length;
    let msg: { type?: unknown; camera?: unknown; dropped?: unknown; timestamp?: unknown; state?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.types.set('unparsable', (this.types.get('unparsable') ?? 0) + 1);
      return;
    }
    const type = typeof msg.type === 'string' ? msg.type : 'untyped';
    this.types.set(type, (this.types.get(type) ?? 0) + 1);
    const camera = typeof msg.camera === 'string' ? msg.camera : '?';
    if (type === 'frame') {
      this.frames.set(camera, (this.frames.get(camera) ?? 0) + 1);
      if (typeof msg.dropped === 'number') this.dropped.set(camera, Math.max(this.dropped.get(camera) ?? 0, msg.dropped));
      if (typeof msg.timestamp === 'number') this.latencyMs.record(Math.max(1, Math.round(Date.now() - msg.timestamp)));
    } else if (type === 'status' && msg.state === 'reconnecting') {
      this.reconnecting.set(camera, (this.reconnecting.get(camera) ?? 0) + 1);
    }
  }

  /** Closes with 1000 and waits for the close (terminates after 2 s). */
  async stop(): Promise<void> {
    this.stopping = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1000, 'soak finished');
    });
  }
}

/**
 * The slow reader (one message per interval, see SlowConnection) that reconnects, counted,
 * after the server disconnects it. serverDropped() is called when the server reports that it
 * disconnected a slow client: the reader then drains what the kernel still holds for it, at
 * full speed, to see how the connection ended from its side.
 */
export class SlowClient {
  connections = 0;
  failedConnects = 0;
  readonly closes: SlowClose[] = [];
  readonly serverDrops: number[] = [];
  readonly types = new Map<string, number>();
  maxFrameAgeMs = 0;
  private closedMessages = 0;
  private closedBytes = 0;
  private closedDrainsWithoutEnd = 0;
  private current: SlowConnection | undefined;
  private stopping = false;

  constructor(
    private readonly port: number,
    private readonly intervalMs: number,
  ) {}

  start(): Promise<void> {
    return this.open();
  }

  get messages(): number {
    return this.closedMessages + (this.current?.messages ?? 0);
  }

  get bytes(): number {
    return this.closedBytes + (this.current?.bytes ?? 0);
  }

  /** Times the server reported a dropped slow client but this one's connection did not end within the drain. */
  get drainsWithoutEnd(): number {
    return this.closedDrainsWithoutEnd + (this.current?.drainsWithoutEnd ?? 0);
  }

  /** ms between capture and reading of the last frame this reader read. */
  get lastFrameAgeMs(): number {
    return this.current?.lastFrameAgeMs ?? 0;
  }

  serverDropped(at: number): void {
    this.serverDrops.push(at);
    this.current?.drain();
  }

  private async open(): Promise<void> {
    const c = await SlowConnection.open(this.port, this.intervalMs);
    this.current = c;
    this.connections++;
    void c.done.then((close) => {
      this.closes.push(close);
      this.closedMessages += c.messages;
      this.closedBytes += c.bytes;
      this.closedDrainsWithoutEnd += c.drainsWithoutEnd;
      this.maxFrameAgeMs = Math.max(this.maxFrameAgeMs, c.maxFrameAgeMs);
      for (const [k, v] of c.types) this.types.set(k, (this.types.get(k) ?? 0) + v);
      if (this.current === c) this.current = undefined;
      if (!this.stopping) setTimeout(() => this.reconnect(), RECONNECT_MS).unref();
    });
  }

  private reconnect(): void {
    if (this.stopping) return;
    this.open().catch(() => {
      this.failedConnects++;
      if (!this.stopping) setTimeout(() => this.reconnect(), RECONNECT_MS).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.current;
    if (c) {
      await c.close();
      // done's own handler (above) ran first: totals are complete.
      await new Promise((r) => setImmediate(r));
    }
  }
}
