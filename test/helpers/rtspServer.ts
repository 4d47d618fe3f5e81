import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './processes.js';

/** Debian's python: the pyenv python3 on PATH has no `gi`. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../fixtures/rtsp_server.py', import.meta.url));

/**
 * Why a gst-rtsp-server camera cannot run here, or undefined when it can: /usr/bin/python3
 * with GstRtspServer introspection and the elements the launch line uses
 * (see .ci/system-packages.txt).
 */
export function rtspServerUnavailable(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} not found`;
  const probe = spawnSync(
    SYSTEM_PYTHON,
    [
      '-c',
      [
        'import gi',
        "gi.require_version('Gst', '1.0')",
        "gi.require_version('GstRtspServer', '1.0')",
        'from gi.repository import Gst, GstRtspServer',
        'Gst.init(None)',
        "missing = [e for e in ('filesrc', 'qtdemux', 'h264parse', 'rtph264pay') if Gst.ElementFactory.find(e) is None]",
        "print(' '.join(missing))",
      ].join('\n'),
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (probe.status !== 0) return `python3-gi / GstRtspServer unavailable: ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  const missing = probe.stdout.trim();
  return missing ? `GStreamer elements missing: ${missing}` : undefined;
}

export interface RtspServer {
  readonly port: number;
  readonly url: string;
  /** SIGTERM (then SIGKILL after 2 s); resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface RtspServerOptions {
  /** H.264 mp4 to serve; each client starts at its beginning. */
  file: string;
  /** Default: a port that was free a moment ago. */
  port?: number;
  mount?: string;
  /** How long to wait for READY, ms. */
  readyTimeoutMs?: number;
}

/** Starts test/fixtures/rtsp_server.py and resolves once it prints READY (it listens then). */
export async function startRtspServer(opts: RtspServerOptions): Promise<RtspServer> {
  const port = opts.port ?? (await freePort());
  const mount = opts.mount ?? '/cam';
  const child: ChildProcess = spawn(SYSTEM_PYTHON, [SCRIPT, '--port', String(port), '--mount', mount, '--file', opts.file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rtsp_server.py not READY within ${opts.readyTimeoutMs ?? 15_000} ms: ${stderr}`));
    }, opts.readyTimeoutMs ?? 15_000);
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (/^READY /m.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`rtsp_server.py exited (${signal ?? code}) before READY: ${stderr}`));
    });
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
  };
  return { port, url: `rtsp://127.0.0.1:${port}${mount}`, stop };
}
