import { WebSocket } from 'ws';
import type { FrameMessage } from '../../src/publish/index.js';

export interface Msg {
  type: string;
  [k: string]: unknown;
}

/** A WebSocket client that keeps every message and can wait for one that matches. */
export class TestClient {
  readonly messages: Msg[] = [];
  /** Binary messages (JPEG frames), with when they came (ms epoch). */
  readonly binary: { data: Buffer; at: number }[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.binary.push({ data: Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]), at: Date.now() });
        return;
      }
      const m = JSON.parse(String(data)) as Msg;
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
    });
  }
  static async connect(port: number): Promise<TestClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const c = new TestClient(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return c;
  }
  next(pred: (m: Msg) => boolean, timeoutMs = 30_000): Promise<Msg> {
    const found = this.messages.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
    });
  }
  /** Sends `msg` (as JSON) and waits for the first message after it that `answer` accepts. */
  request(msg: unknown, answer: (m: Msg) => boolean, timeoutMs = 30_000): Promise<Msg> {
    const before = this.messages.length;
    this.ws.send(JSON.stringify(msg));
    return this.next((m) => answer(m) && this.messages.indexOf(m) >= before, timeoutMs);
  }

  /** Waits for `n` more frame messages than seen so far. */
  async frames(n: number, camera?: string): Promise<FrameMessage[]> {
    const isFrame = (m: Msg): boolean => m.type === 'frame' && (camera === undefined || m['camera'] === camera);
    const start = this.messages.filter(isFrame).length;
    let got = start;
    while (got < start + n) {
      await new Promise<Msg>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out after ${got - start}/${n} frames`)), 30_000);
        this.waiters.push({ pred: isFrame, resolve: (m) => (clearTimeout(t), resolve(m)) });
      });
      got++;
    }
    return this.messages.filter(isFrame).slice(start, start + n) as unknown as FrameMessage[];
  }
  close(): void {
    this.ws.close();
  }
}

