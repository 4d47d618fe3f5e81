import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** How one connection of the slow reader ended, as the client saw it. */
export interface SlowClose {
  /** Date.now() when the client saw the end. */
  at: number;
  /** close-frame: the server's close frame was read; eof: the TCP stream ended without one (a ws client reports 1006); error: the socket failed. */
  how: 'close-frame' | 'eof' | 'error';
  /** From the close frame; null without one. */
  code: number | null;
  reason: string;
  /** Socket error code (ECONNRESET, ...) when how is 'error'. */
  error?: string;
  /** Messages read on this connection, and how many of them after drain() was called. */
  messages: number;
  drained: number;
  /** True when the client itself closed it (close()). */
  byClient: boolean;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A WebSocket client on a raw TCP socket that reads one message per interval, no more.
 * The socket stays in paused mode (no 'data' listener): Node reads from the kernel only up
 * to the stream's highWaterMark (about one message), so everything the server sends beyond
 * that stays in the kernel buffers and then in the server's own send buffer, which is the
 * backpressure a slow client puts on the server. drain() reads at full speed until the
 * connection ends, to see how the server closed it.
 */
export class SlowConnection {
  messages = 0;
  bytes = 0;
  readonly types = new Map<string, number>();
  /** Oldest frame read, ms between its capture and its reading: how far behind live the reader is. */
  maxFrameAgeMs = 0;
  lastFrameAgeMs = 0;
  readonly done: Promise<SlowClose>;
  private draining = false;
  private drainUntil = 0;
  /** Times a drain() ran out without the connection ending. */
  drainsWithoutEnd = 0;
  private drainedMessages = 0;
  private closedByClient = false;
  private socketError: (Error & { code?: string }) | undefined;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly reader: PausedReader,
    private readonly intervalMs: number,
  ) {
    this.done = this.run();
  }

  static async open(port: number, intervalMs: number, host = '127.0.0.1'): Promise<SlowConnection> {
    const socket = connect({ port, host });
    socket.setNoDelay(true);
    // Errors during the handshake reject below; later ones are recorded by run().
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve();
      });
      socket.once('error', reject);
    });
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const reader = new PausedReader(socket);
    let head = Buffer.alloc(0);
    let end = -1;
    while ((end = head.indexOf('\r\n\r\n')) < 0) {
      const chunk = await reader.some();
      if (!chunk) throw new Error('slow reader: connection closed during the WebSocket handshake');
      head = Buffer.concat([head, chunk]);
      if (head.length > 16 * 1024) throw new Error('slow reader: handshake response too large');
    }
    const rest = head.subarray(end + 4);
    if (rest.length > 0) socket.unshift(rest);
    const lines = head.subarray(0, end).toString('latin1').split('\r\n');
    const accept = lines.find((l) => /^sec-websocket-accept:/i.test(l))?.split(':')[1]?.trim();
    const expected = createHash('sha1').update(key + GUID).digest('base64');
    if (!/^HTTP\/1\.1 101/.test(lines[0] ?? '') || accept !== expected) {
      socket.destroy();
      throw new Error(`slow reader: handshake refused: ${lines[0] ?? '(no status line)'}`);
    }
    return new SlowConnection(socket, reader, intervalMs);
  }

  /** Read at full speed until the connection ends, or for at most `forMs` (then slowly again). */
  drain(forMs = 30_000): void {
    this.draining = true;
    this.drainUntil = Date.now() + forMs;
    this.wake?.();
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Sends a close frame and ends the socket (destroyed after 500 ms); resolves with done. */
  close(): Promise<SlowClose> {
    if (!this.closedByClient && !this.socket.destroyed) {
      this.closedByClient = true;
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(1000);
      this.socket.end(clientFrame(0x8, payload));
      setTimeout(() => this.socket.destroy(), 500).unref();
      this.wake?.();
    }
    return this.done;
  }

  private async run(): Promise<SlowClose> {
    this.socket.on('error', (err: Error & { code?: string }) => (this.socketError ??= err));
    const ended = (how: SlowClose['how'], code: number | null, reason: string): SlowClose => {
      this.socket.destroy();
      const err = this.socketError;
      return {
        at: Date.now(),
        how: how === 'eof' && err ? 'error' : how,
        code,
        reason,
        ...(err ? { error: err.code ?? err.message } : {}),
        messages: this.messages,
        drained: this.drainedMessages,
        byClient: this.closedByClient,
      };
    };
    for (;;) {
      const started = Date.now();
      const m = await this.readMessage();
      if (!m) return ended('eof', null, '');
      if (m.opcode === 0x8) {
        const code = m.payload.length >= 2 ? m.payload.readUInt16BE(0) : null;
        const reason = m.payload.subarray(2).toString('utf8');
        if (!this.closedByClient && !this.socket.destroyed) this.socket.end(clientFrame(0x8, m.payload.subarray(0, 2)));
        return ended('close-frame', code, reason);
      }
      // What arrives after close() is the backlog being flushed, not reading: not counted.
      if (this.closedByClient) continue;
      this.count(m.payload, m.opcode);
      if (this.draining && Date.now() > this.drainUntil) {
        this.draining = false;
        this.drainsWithoutEnd++;
      }
      if (this.draining) this.drainedMessages++;
      else await this.sleep(this.intervalMs - (Date.now() - started));
    }
  }

  private count(payload: Buffer, opcode: number): void {
    this.messages++;
    this.bytes += payload.length;
    let type = opcode === 0x2 ? 'binary' : 'unparsable';
    if (opcode === 0x1) {
      try {
        const msg = JSON.parse(payload.toString('utf8')) as { type?: unknown; timestamp?: unknown };
        type = typeof msg.type === 'string' ? msg.type : 'untyped';
        if (type === 'frame' && typeof msg.timestamp === 'number') {
          this.lastFrameAgeMs = Date.now() - msg.timestamp;
          this.maxFrameAgeMs = Math.max(this.maxFrameAgeMs, this.lastFrameAgeMs);
        }
      } catch {
        // counted as unparsable
      }
    }
    this.types.set(type, (this.types.get(type) ?? 0) + 1);
  }

  /** One whole message (fragments joined); pings answered on the way; null at end of stream. */
  private async readMessage(): Promise<{ opcode: number; payload: Buffer } | null> {
    const parts: Buffer[] = [];
    let opcode = 0;
    for (;;) {
      const h = await this.reader.exactly(2);
      if (!h) return null;
      const fin = (h[0]! & 0x80) !== 0;
      const op = h[0]! & 0x0f;
      let len = h[1]! & 0x7f;
      if (len === 126) {
        const ext = await this.reader.exactly(2);
        if (!ext) return null;
        len = ext.readUInt16BE(0);
      } else if (len === 127) {
        const ext = await this.reader.exactly(8);
        if (!ext) return null;
        len = Number(ext.readBigUInt64BE(0));
      }
      // Servers never mask; a masked frame is read and unmasked all the same.
      const mask = (h[1]! & 0x80) !== 0 ? await this.reader.exactly(4) : undefined;
      if (mask === null) return null;
      const payload = await this.reader.exactly(len);
      if (!payload) return null;
      if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      if (op === 0x8) return { opcode: op, payload };
      if (op === 0x9) {
        if (!this.closedByClient) this.socket.write(clientFrame(0xa, payload));
        continue;
      }
      if (op === 0xa) continue;
      if (op !== 0x0) opcode = op;
      parts.push(payload);
      if (fin) return { opcode, payload: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.draining || this.closedByClient) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** A masked client frame (control frames: payload <= 125 bytes). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | body.length]), mask, body]);
}

/**
 * Reads from a socket in paused mode. One permanent 'readable' listener: attaching and
 * removing one per wait makes Node re-emit 'readable' on the next tick while bytes are
 * buffered, a nextTick loop that starves I/O whenever fewer than n bytes are there.
 */
class PausedReader {
  private waiter: (() => void) | undefined;

  constructor(private readonly socket: Socket) {
    const wake = (): void => {
      const w = this.waiter;
      this.waiter = undefined;
      w?.();
    };
    socket.on('readable', wake);
    socket.on('end', wake);
    socket.on('close', wake);
  }

  /** Exactly n bytes, or null when the socket ends first. */
  async exactly(n: number): Promise<Buffer | null> {
    if (n === 0) return Buffer.alloc(0);
    for (;;) {
      if (this.socket.destroyed) return null;
      const b = this.socket.read(n) as Buffer | null;
      if (b !== null) return b.length === n ? b : null;
      if (this.socket.readableEnded) return null;
      await this.more();
    }
  }

  /** Whatever is buffered (at least one byte), or null when the socket ends first. */
  async some(): Promise<Buffer | null> {
    for (;;) {
      if (this.socket.destroyed) return null;
      const b = this.socket.read() as Buffer | null;
      if (b !== null) return b;
      if (this.socket.readableEnded) return null;
      await this.more();
    }
  }

  private more(): Promise<void> {
    return new Promise((resolve) => (this.waiter = resolve));
  }
}
