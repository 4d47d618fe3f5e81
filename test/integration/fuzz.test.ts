import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { jsonDepth } from '../../src/publish/index.js';
import { binaryCases, deepArray, depthOf, HOSTILE_VALUES, INVALID_UTF8, PROTOTYPE_NAMES, randomCases, rawJson, systematicCases, type Case } from '../helpers/hostile.js';
import { rng } from '../helpers/random.js';
import { TestClient, type Msg } from '../helpers/wsClient.js';

const SHARED = join(import.meta.dirname, '../../../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');
const ERRORS_MD = readFileSync(join(import.meta.dirname, '../../docs/errors.md'), 'utf8');

const SEED = 20_240_606;
const SOFT_LIMIT = 16 * 1024;
const HARD_LIMIT = 1024 * 1024;
const REPLY_TYPES = new Set(['error', 'pong', 'subscribed', 'prompt.ok', 'prompt.cleared']);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A client that counts the replies to what it sends (frames and events are not replies). */
class Attacker {
  readonly replies: Msg[] = [];
  closed: { code: number; reason: string } | null = null;
  private wake: (() => void) | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Msg;
      if (REPLY_TYPES.has(m.type)) this.replies.push(m);
      this.wake?.();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake?.();
    });
    ws.on('error', () => undefined);
  }

  static async open(port: number): Promise<Attacker> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const a = new Attacker(ws);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    // No frames to this one: only replies.
    await a.send(['{"type":"subscribe","cameras":[]}']);
    return a;
  }

  /** Sends every message, then waits until each has its reply (or the connection closed). */
  async send(messages: readonly (string | { binary: Buffer } | { text: Buffer })[]): Promise<Msg[]> {
    const start = this.replies.length;
    for (const m of messages) {
      if (typeof m === 'string') this.ws.send(m);
      else if ('binary' in m) this.ws.send(m.binary, { binary: true });
      else this.ws.send(m.text, { binary: false });
    }
    const deadline = Date.now() + 60_000;
    while (this.replies.length < start + messages.length && this.closed === null) {
      if (Date.now() > deadline) throw new Error(`${this.replies.length - start}/${messages.length} replies`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 1000);
      });
      this.wake = null;
    }
    return this.replies.slice(start);
  }

  closedNow(): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }
}

describe('fuzz: a running service under a barrage of hostile clients', () => {
  let app: App;
  let port: number;
  const logLines: Record<string, unknown>[] = [];
  const processErrors: unknown[] = [];
  const onProcessError = (err: unknown): void => void processErrors.push(err);
  /** Every error code any client was answered with, and the replies that broke a rule. */
  const codes = new Set<string>();
  const wrong: string[] = [];

  /** Checks one reply against the rules: a documented code, never E_INTERNAL, small and flat. */
  function check(reply: Msg, what: string): void {
    if (reply.type === 'error') {
      const code = String(reply['code']);
      codes.add(code);
      if (!(ERROR_CODES as readonly string[]).includes(code) || !ERRORS_MD.includes(`| \`${code}\` |`)) wrong.push(`${what}: undocumented code ${code}`);
      if (code === 'E_INTERNAL') wrong.push(`${what}: E_INTERNAL`);
      if (typeof reply['message'] !== 'string') wrong.push(`${what}: no message`);
    }
    const json = JSON.stringify(reply);
    if (json.length > 4096) wrong.push(`${what}: reply of ${json.length} chars`);
    if (jsonDepth(json) > 3) wrong.push(`${what}: reply nests ${jsonDepth(json)} deep`);
  }

  beforeAll(async () => {
    process.on('uncaughtExceptionMonitor', onProcessError);
    process.on('unhandledRejection', onProcessError);
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') logLines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const config = parseConfig({
      cameras: [{ id: 'road', url: CLIP }],
      inference: { model: MODEL, threads: 1 },
      server: { host: '127.0.0.1', port: 0 },
      ingest: { realtime: true, loop: true },
    });
    app = await startApp(config, { log: pino({ level: 'info' }, stream) });
    port = app.address.port;
  });

  afterAll(async () => {
    process.off('uncaughtExceptionMonitor', onProcessError);
    process.off('unhandledRejection', onProcessError);
    await app?.close();
  });

  async function objectsInView(c: TestClient): Promise<void> {
    for (;;) {
      const [f] = await c.frames(1, 'road');
      if (f!.objects.length > 0) return;
    }
  }

  it('regressions: a 5,000-deep ping, Object.prototype names as types, a text prompt "constructor"', async () => {
    const c = await TestClient.connect(port);
    await objectsInView(c);
    const ask = async (text: string): Promise<Msg> => {
      const before = c.messages.length;
      c.ws.send(text);
      return c.next((m) => REPLY_TYPES.has(m.type) && c.messages.indexOf(m) >= before);
    };
    expect(await ask(`{"type":"ping","id":${deepArray(5000)}}`)).toMatchObject({ type: 'error', code: 'E_MSG_INVALID' });
    for (const type of PROTOTYPE_NAMES) expect(await ask(JSON.stringify({ type })), type).toMatchObject({ type: 'error', code: 'E_MSG_UNKNOWN_TYPE', actual: type });
    // The frame has objects, so the text reaches the synonym table.
    expect(await ask(JSON.stringify({ type: 'prompt', camera: 'road', text: 'constructor' }))).toMatchObject({ code: 'E_PROMPT_NO_MATCH', message: expect.stringContaining('names no class') });
    expect(await ask(JSON.stringify({ type: 'ping', id: 1 }))).toMatchObject({ type: 'pong', id: 1 });
    c.close();
  });

  it('stays up, answers every hostile message with a documented code (never E_INTERNAL), and keeps streaming to a bystander', async () => {
    const bystander = await TestClient.connect(port);
    await bystander.frames(1, 'road');
    const framesBefore = (): number => bystander.messages.filter((m) => m.type === 'frame').length;
    const started = framesBefore();
    let sent = 0;
    /** After each phase the bystander must get a new frame: frames arrive during the barrage. */
    const phaseDone = async (): Promise<void> => void (await bystander.frames(1, 'road'));

    // 1. Every field of every message type, one at a time, so each answer can be predicted.
    const a = await Attacker.open(port);
    for (const c of systematicCases()) {
      const [reply] = await a.send([c.text]);
      sent++;
      expect(reply, c.what).toBeDefined();
      check(reply!, c.what);
      const parsedType = /^\{"type":("[^"]*"|[^,}]*)/.exec(c.text)?.[1];
      if (depthOf(c.text) > 32) expect(reply, c.what).toMatchObject({ code: 'E_MSG_INVALID', expected: '<= 32 levels' });
      else if (parsedType !== undefined && !['"ping"', '"subscribe"', '"prompt"', '"prompt.clear"'].includes(parsedType)) {
        expect(reply, c.what).toMatchObject({ code: 'E_MSG_UNKNOWN_TYPE' });
      }
    }
    await phaseDone();

    // 2. Thousands of random ones, pipelined in batches.
    const random = randomCases(SEED, 3000, 4 * SOFT_LIMIT);
    for (let i = 0; i < random.length; i += 250) {
      const batch = random.slice(i, i + 250);
      const replies = await a.send(batch.map((c: Case) => c.text));
      sent += batch.length;
      expect(replies).toHaveLength(batch.length);
      replies.forEach((r, j) => check(r, `random batch ${i}, reply ${j}`));
    }
    await phaseDone();

    // 3. Binary frames: E_MSG_INVALID each.
    const binary = binaryCases(SEED + 1, 100);
    const binReplies = await a.send(binary.map((b) => ({ binary: b })));
    sent += binary.length;
    for (const r of binReplies) expect(r).toMatchObject({ code: 'E_MSG_INVALID' });
    await phaseDone();

    // 4. Each size limit and one byte past it; point prompts as large as the limits allow.
    const pad = (prefix: string, bytes: number, suffix = '"}'): string => `${prefix}${'x'.repeat(bytes - Buffer.byteLength(prefix) - Buffer.byteLength(suffix))}${suffix}`;
    const points = (n: number, point = '[320,240,1]'): string =>
      rawJson([['type', '"prompt"'], ['camera', '"road"'], ['points', `[${Array.from({ length: n }, () => point).join(',')}]`]]);
    /** The most 12-byte points that fit in `bytes`. */
    const pointsUnder = (bytes: number): string => {
      let n = Math.floor((bytes - 100) / 12);
      while (Buffer.byteLength(points(n + 1)) <= bytes) n++;
      return points(n);
    };
    const emojiPad = (bytes: number): string => {
      // 4-byte characters: the byte count, not the string length, is what is limited.
      const prefix = '{"type":"ping","id":"';
      const room = bytes - Buffer.byteLength(prefix) - 2;
      return `${prefix}${'😀'.repeat(Math.floor(room / 4))}${'x'.repeat(room % 4)}"}`;
    };
    const sizeCases: [string, string][] = [
      [pad('{"type":"ping","id":"', SOFT_LIMIT), 'E_MSG_INVALID'],
      [pad('{"type":"ping","id":"', SOFT_LIMIT + 1), 'E_MSG_TOO_LARGE'],
      [emojiPad(SOFT_LIMIT), 'E_MSG_INVALID'],
      [emojiPad(SOFT_LIMIT + 1), 'E_MSG_TOO_LARGE'],
      [pointsUnder(SOFT_LIMIT), 'E_PROMPT_INVALID'],
      [points(64), ''],
      [points(65), 'E_PROMPT_INVALID'],
      [points(100_000, '[1,1,1]'), 'E_MSG_TOO_LARGE'], // 800 kB: over the soft limit, under the hard one
      [pointsUnder(HARD_LIMIT), 'E_MSG_TOO_LARGE'],
      [pad('{"type":"ping","id":"', HARD_LIMIT), 'E_MSG_TOO_LARGE'],
    ];
    for (const [text, code] of sizeCases) {
      const [reply] = await a.send([text]);
      sent++;
      check(reply!, `${Buffer.byteLength(text)} bytes`);
      if (code === '') expect(['prompt.ok', 'error']).toContain(reply!.type);
      else expect(reply, `${Buffer.byteLength(text)} bytes`).toMatchObject({ code });
    }
    expect(Buffer.byteLength(pointsUnder(SOFT_LIMIT))).toBe(SOFT_LIMIT - ((SOFT_LIMIT - Buffer.byteLength(points(0)) + 1) % 12));
    expect(Buffer.byteLength(points(100_000, '[1,1,1]'))).toBeLessThan(HARD_LIMIT);
    expect(a.closed).toBeNull();
    await phaseDone();

    // 5. Past the hard limit (1009) and invalid UTF-8 (1007): the connection closes, nothing else.
    const closing: [{ text: Buffer } | string, number][] = [
      [pad('{"type":"ping","id":"', HARD_LIMIT + 1), 1009],
      [points(100_000), 1009], // 100k points of 12 bytes: 1.2 MB
      ...INVALID_UTF8.map((b): [{ text: Buffer }, number] => [{ text: b }, 1007]),
    ];
    for (const [m, code] of closing) {
      const victim = await Attacker.open(port);
      const replies = await victim.send([m]);
      expect(replies).toEqual([]);
      expect((await victim.closedNow()).code).toBe(code);
    }
    await phaseDone();

    // 6. Hundreds of rapid connects and disconnects, some cut mid-handshake.
    const r = rng(SEED + 2);
    const rapid = async (kind: number): Promise<void> => {
      if (kind === 0 || kind === 1) {
        const upgrade = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
        const s = tcpConnect(port, '127.0.0.1');
        s.on('error', () => undefined);
        await new Promise((resolve) => s.once('connect', resolve));
        if (kind === 0) s.write(upgrade.slice(0, Math.floor(r() * upgrade.length)));
        else s.write(upgrade);
        await sleep(Math.floor(r() * 5));
        if (kind === 1 && r() < 0.5) s.resetAndDestroy();
        else s.destroy();
        await new Promise((resolve) => (s.closed ? resolve(undefined) : s.once('close', resolve)));
        return;
      }
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.on('error', () => undefined);
      const closed = new Promise((resolve) => ws.once('close', resolve));
      if (kind === 2) ws.terminate(); // before the handshake completes
      else {
        await new Promise((resolve) => (ws.once('open', resolve), ws.once('error', resolve)));
        if (kind === 3) ws.terminate();
        else if (kind === 4) {
          ws.send(random[Math.floor(r() * random.length)]!.text);
          ws.close();
        } else ws.close(1000);
      }
      await closed;
    };
    for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 30 }, () => rapid(Math.floor(r() * 6))));
    await phaseDone();

    // The attacker is still served after all of it.
    expect(await a.send([JSON.stringify({ type: 'ping', id: 'after' })])).toEqual([expect.objectContaining({ type: 'pong', id: 'after' })]);
    a.ws.close();

    // After the barrage: the bystander still streams, was never sent an error, and is open.
    await bystander.frames(5, 'road');
    expect(framesBefore() - started).toBeGreaterThan(10);
    expect(bystander.messages.filter((m) => m.type === 'error')).toEqual([]);
    expect(bystander.ws.readyState).toBe(WebSocket.OPEN);
    // Every socket but the bystander's is gone (the gauge counts served clients).
    const gauge = async (): Promise<number> => Number((await app.metrics.registry.getSingleMetricAsString('segstream_ws_clients')).match(/^segstream_ws_clients (\d+)$/m)?.[1]);
    for (let i = 0; (await gauge()) !== 1; i++) {
      if (i > 2000) throw new Error(`${await gauge()} clients still connected`);
      await sleep(10);
    }
    // The HTTP side serves too.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    bystander.close();

    expect(wrong).toEqual([]);
    for (const code of ['E_MSG_NOT_JSON', 'E_MSG_INVALID', 'E_MSG_UNKNOWN_TYPE', 'E_MSG_TOO_LARGE', 'E_UNKNOWN_CAMERA', 'E_PROMPT_INVALID', 'E_PROMPT_NO_MATCH']) {
      expect([...codes], code).toContain(code);
    }
    expect([...codes]).not.toContain('E_INTERNAL');
    expect(processErrors).toEqual([]);
    // No bug surfaced in the log, and rejections were aggregated, not logged one per message.
    expect(logLines.filter((l) => (l['level'] as number) >= 50)).toEqual([]);
    const oneByOne = logLines.filter((l) => l['msg'] === 'rejected client message').length;
    const summarised = logLines.filter((l) => String(l['msg']).startsWith('rejected client messages not logged')).reduce((n, l) => n + (l['total'] as number), 0);
    expect(sent).toBeGreaterThan(3000);
    expect(oneByOne).toBeLessThan(sent / 20);
    const metric = await app.metrics.registry.getSingleMetricAsString('segstream_client_errors_total');
    const counted = [...metric.matchAll(/^segstream_client_errors_total\{code="(E_\w+)"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[2]), 0);
    // The metric counts every rejection; the log accounts for every one too, one by one or in a summary.
    expect(oneByOne + summarised).toBe(counted);
  });

  it('the camera API: hostile bodies and paths get a documented code and a 4xx, the running camera is never touched', async () => {
    const road = app.cameras.require('road');
    const url = `http://127.0.0.1:${port}/api/cameras`;
    const send = async (method: string, path: string, body: string | undefined, what: string): Promise<number> => {
      const res = await fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) });
      const text = await res.text();
      if (res.status === 201) {
        // A random body that happens to be a valid camera: fine, but it goes again.
        const id = (JSON.parse(text) as { camera: { id: string } }).camera.id;
        await fetch(`${url}/${encodeURIComponent(id)}`, { method: 'DELETE' });
        return res.status;
      }
      // A PATCH that happens to be valid (`confidence: 1`) changes the camera in place.
      if (method === 'PATCH' && res.status === 200 && (JSON.parse(text) as { restarted: boolean }).restarted === false) return res.status;
      if (res.status >= 500 || res.status < 400) wrong.push(`${what}: HTTP ${res.status} ${text.slice(0, 200)}`);
      const reply = JSON.parse(text) as { error?: { code: string; message: string } };
      if (!reply.error) wrong.push(`${what}: no error object`);
      else check({ type: 'error', ...reply.error }, what);
      return res.status;
    };
    const values = [...HOSTILE_VALUES, ...PROTOTYPE_NAMES.map((n) => JSON.stringify(n))];
    for (const v of values) {
      await send('POST', '', rawJson([['id', v], ['url', '"rtsp://127.0.0.1:9/s"']]), `POST id=${v.slice(0, 40)}`);
      await send('POST', '', rawJson([['id', '"fz"'], ['url', v]]), `POST url=${v.slice(0, 40)}`);
      await send('PATCH', '/road', rawJson([['confidence', v]]), `PATCH confidence=${v.slice(0, 40)}`);
      await send('PATCH', '/road', rawJson([['url', v]]), `PATCH url=${v.slice(0, 40)}`);
    }
    for (const name of PROTOTYPE_NAMES) {
      await send('PATCH', `/${encodeURIComponent(name)}`, '{"loop":true}', `PATCH /${name}`);
      await send('DELETE', `/${encodeURIComponent(name)}`, undefined, `DELETE /${name}`);
      await send('POST', '', rawJson([['id', '"fz"'], ['url', '"rtsp://127.0.0.1:9/s"'], [name, '1']]), `POST + key ${name}`);
    }
    for (const c of randomCases(SEED + 3, 300, 4 * SOFT_LIMIT)) await send('POST', '', c.text, `POST random ${c.what}`);
    expect(await send('PATCH', '/road', '{"confidence":0.25}', 'PATCH back')).toBe(200);
    for (const path of ['/..%2f..%2fetc', '/%E0%A4%A', '/a/b', `/${'x'.repeat(5000)}`]) await send('DELETE', path, undefined, `DELETE ${path.slice(0, 40)}`);
    expect(wrong).toEqual([]);
    expect(app.cameras.ids()).toEqual(['road']);
    expect(app.cameras.require('road')).toBe(road);
    expect(road.status.restarts).toBe(0);
    expect(processErrors).toEqual([]);
    expect(logLines.filter((l) => (l['level'] as number) >= 50)).toEqual([]);
    const c = await TestClient.connect(port);
    await c.frames(2, 'road');
    c.close();
  });

  it('WHEP and the dashboard files under hostile requests: never a 5xx, the camera and the process go on', async () => {
    const road = app.cameras.require('road');
    const r = rng(SEED + 4);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const bodies = randomCases(SEED + 5, 120, 2048).map((c) => c.text);
    const garbageSdp = ['v=0', 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n', `v=0\r\n${'a=x\r\n'.repeat(500)}`, 'm=audio 9 RTP/AVP 0\r\n', '\u0000\u0001'];
    const paths = ['/whep/road', '/whep/road/', '/whep/road/nosuchsession', '/whep/nope', '/whep/', '/whep/%2e%2e/etc', '/whep/road/../../api/cameras', '/assets/', '/assets/../package.json', '/assets/%2e%2e%2fpackage.json', '/assets/x.js', '/', '/index.html'];
    const types = ['application/sdp', 'application/trickle-ice-sdpfrag', 'text/plain', 'application/json', undefined];
    for (let i = 0; i < 200; i++) {
      const method = pick(['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'PUT', 'HEAD']);
      const path = pick(paths);
      const type = pick(types);
      const body = method === 'GET' || method === 'HEAD' ? undefined : r() < 0.5 ? pick(garbageSdp) : pick(bodies);
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...(body === undefined ? {} : { body }), headers: type === undefined ? {} : { 'content-type': type } });
      await res.arrayBuffer();
      if (res.status >= 500) wrong.push(`${method} ${path} (${type}): HTTP ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(app.cameras.require('road')).toBe(road);
    expect(processErrors).toEqual([]);
    expect(logLines.filter((l) => (l['level'] as number) >= 50)).toEqual([]);
    const c = await TestClient.connect(port);
    await c.frames(2, 'road');
    c.close();
  });
});

