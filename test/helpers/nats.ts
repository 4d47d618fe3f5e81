import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitUntil } from './processes.js';

/** A real nats-server with JetStream on 127.0.0.1, its store in a temp directory. */
export interface NatsServer {
  readonly port: number;
  readonly url: string;
  /** Stops it (SIGTERM, waited for); `start` brings it back on the same port and store. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

export async function startNats(opts: { args?: string[] } = {}): Promise<NatsServer> {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'segstream-nats-'));
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const p = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store, ...(opts.args ?? [])], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = p;
    let log = '';
    p.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    await waitUntil(`nats-server on ${port} (${log})`, () => /Server is ready/.test(log) || p.exitCode !== null, 15_000);
    if (p.exitCode !== null) throw new Error(`nats-server exited: ${log}`);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(store, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP relay in front of a server: `cut()` resets every connection through it and refuses new
 * ones (a client cut off from the broker), `restore()` lets them through again.
 */
export interface CutProxy {
  readonly port: number;
  readonly url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function cutProxy(targetPort: number): Promise<CutProxy> {
  const port = await freePort();
  const pairs = new Set<[Socket, Socket]>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    cut: () => {
      cut = true;
      for (const [a, b] of pairs) {
        a.resetAndDestroy();
        b.destroy();
      }
      pairs.clear();
    },
    restore: () => {
      cut = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => r());
      }),
  };
}
