import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitUntil } from '../helpers/processes.js';
import { TestClient, type Msg } from '../helpers/wsClient.js';

const ROOT = join(import.meta.dirname, '../..');
const MODEL = join(ROOT, '../shared/models/yolov8n-seg-320.onnx');
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli.ts')];
const SECRET = 's3cret-Pw9';

/**
 * A camera URL's password reaches ffmpeg and nothing else: not /healthz, /readyz, hello,
 * status messages, the log on stderr (debug level: ffmpeg command lines included) nor
 * configuration errors. The cameras here fail in ways whose ffmpeg messages quote the URL
 * (an HTTP camera answering 401, an RTSP port nobody listens on).
 */
describe('camera credentials', () => {
  let auth: Server;
  let authPort: number;

  beforeAll(async () => {
    auth = createServer((_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end('no'));
    await new Promise<void>((resolve) => auth.listen(0, '127.0.0.1', resolve));
    authPort = (auth.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => auth.close(() => resolve()));
  });

  it('never appear in what the service shows or logs', async () => {
    const closed = await freePort();
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        ...CLI, 'run', '--model', MODEL, '--host', '127.0.0.1', '--port', String(port), '--threads', '1', '--log-level', 'debug',
        '--reconnect-min', '200', '--network-timeout', '2',
        '--source', `http1=http://admin:${SECRET}@127.0.0.1:${authPort}/video.mjpg?pwd=${SECRET}`,
        '--source', `rtsp1=rtsp://admin:${SECRET}@127.0.0.1:${closed}/stream1`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      await waitUntil('listening', () => /listening/.test(stderr), 60_000);
      const c = await TestClient.connect(port);
      // Both cameras fail at least twice; their errors are broadcast in status messages.
      await waitUntil('failures of both cameras', () => ['http1', 'rtsp1'].every((cam) => c.messages.filter((m) => m.type === 'status' && m['camera'] === cam && m['state'] === 'reconnecting').length >= 2), 30_000);
      const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).text();
      const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).text();
      const hello = c.messages.find((m) => m.type === 'hello')!;
      const statuses = c.messages.filter((m) => m.type === 'status');
      c.close();

      const cameras = hello['cameras'] as { id: string; url: string }[];
      expect(cameras.map((x) => x.url)).toEqual([
        `http://admin:***@127.0.0.1:${authPort}/video.mjpg?pwd=***`,
        `rtsp://admin:***@127.0.0.1:${closed}/stream1`,
      ]);
      // The errors are there and say what happened, with the URL redacted.
      const errors = statuses.map((m) => (m['error'] as { message: string } | undefined)?.message ?? '');
      expect(errors.some((e) => e.includes('401') && e.includes('admin:***@'))).toBe(true);
      expect(errors.some((e) => e.includes(`127.0.0.1:${closed}`))).toBe(true);
      expect(stderr).toContain('camera source problem');
      // A camera's log lines name it once (its child logger carries the key).
      const cameraLines = stderr.split('\n').filter((l) => l.includes('"camera":'));
      expect(cameraLines.length).toBeGreaterThan(0);
      for (const l of cameraLines) expect(l.split('"camera":').length).toBe(2);
      expect(stderr).toContain('ffmpeg started');
      for (const [what, text] of [
        ['/healthz', health],
        ['/readyz', ready],
        ['hello', JSON.stringify(hello)],
        ['status messages', JSON.stringify(statuses satisfies Msg[])],
        ['stderr', stderr],
        ['stdout', stdout],
      ] as const) {
        expect({ what, leaks: text.includes(SECRET) }).toEqual({ what, leaks: false });
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  it('never appear in a refused-source error', () => {
    const r = spawnSync(process.execPath, [...CLI, 'run', '--model', MODEL, '--source', `x=ftp://admin:${SECRET}@10.0.0.7/s`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('E_SOURCE_REFUSED');
    expect(r.stderr).toContain('ftp://admin:***@10.0.0.7/s');
    expect(r.stderr.includes(SECRET) || r.stdout.includes(SECRET)).toBe(false);
  });
});
