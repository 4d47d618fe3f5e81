/**
 * npm run bench:scale [-- --cameras 4 --seconds 20 --warmup 8 --workers 1 --threads 1]
 *
 * Frames a second delivered to a WebSocket client, and capture -> received latency (p50/p95),
 * for the same cameras (one clip, read as fast as possible, looped) served three ways in one
 * run: `segstream run` alone (the baseline), one `segstream node` behind a `segstream gateway`,
 * and two nodes behind the gateway. Everything runs on this machine over a real nats-server on
 * loopback, so the nodes share its cores: the ratios show what the broker hop costs, not what
 * more machines add (see the README for what a multi-machine deployment should expect).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { startNats } from '../test/helpers/nats.js';
import { freePort, sleep } from '../test/helpers/processes.js';

const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '8' },
    workers: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    clip: { type: 'string', default: fileURLToPath(new URL('../../shared/data/videos/urban_intersection_cctv.mp4', import.meta.url)) },
  },
});
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const cameras = Number(values.cameras);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const clip = values.clip;
const clipDir = clip.slice(0, clip.lastIndexOf('/'));
const inference = ['--workers', values.workers, '--threads', values.threads];

interface Result {
  fps: number;
  p50: number;
  p95: number;
  frames: number;
}

function spawnCli(args: string[]): ChildProcess {
  const p = spawn(process.execPath, [CLI, ...args, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return p;
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}

/** Connects (retrying while the server starts), skips `warmup` s, then counts frames for `seconds` s. */
async function measure(port: number, expectCameras: number): Promise<Result> {
  let ws: WebSocket | undefined;
  for (let i = 0; i < 200 && !ws; i++) {
    try {
      ws = await new Promise<WebSocket>((resolve, reject) => {
        const w = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        w.once('open', () => resolve(w));
        w.once('error', reject);
      });
    } catch {
      await sleep(100);
    }
  }
  if (!ws) throw new Error(`no server on ${port}`);
  const seen = new Set<string>();
  let counting = false;
  const lat: number[] = [];
  ws.on('message', (data, binary) => {
    if (binary) return;
    const text = String(data);
    if (!text.startsWith('{"type":"frame"') && !text.includes('"type":"frame"')) return;
    const m = JSON.parse(text) as { type: string; camera: string; timestamp: number };
    if (m.type !== 'frame') return;
    seen.add(m.camera);
    if (counting) lat.push(Date.now() - m.timestamp);
  });
  const until = Date.now() + 120_000;
  while (seen.size < expectCameras && Date.now() < until) await sleep(100);
  await sleep(warmup * 1000);
  counting = true;
  const t0 = Date.now();
  await sleep(seconds * 1000);
  counting = false;
  const dt = (Date.now() - t0) / 1000;
  ws.close();
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { fps: lat.length / dt, p50: q(0.5), p95: q(0.95), frames: lat.length };
}

async function alone(): Promise<Result> {
  const port = await freePort();
  const sources = Array.from({ length: cameras }, (_, i) => ['-s', `cam${i}=${clip}`]).flat();
  const p = spawnCli(['run', '--fast', '--loop', '--host', '127.0.0.1', '-p', String(port), '--events-db', ':memory:', ...inference, ...sources]);
  try {
    return await measure(port, cameras);
  } finally {
    await stop(p);
  }
}

async function cluster(nodeCount: number): Promise<Result> {
  const nats = await startNats();
  const port = await freePort();
  const procs: ChildProcess[] = [];
  try {
    procs.push(spawnCli(['gateway', '--broker', nats.url, '--host', '127.0.0.1', '-p', String(port)]));
    for (let i = 0; i < nodeCount; i++) procs.push(spawnCli(['node', '--broker', nats.url, '--name', `n${i}`, '--host', '127.0.0.1', '--media-root', clipDir, ...inference]));
    // The gateway's API writes the pool once it listens.
    for (let i = 0; i < cameras; i++) {
      for (let tries = 0; ; tries++) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: `cam${i}`, url: clip, loop: true, realtime: false }) });
          if (res.status === 201) break;
          throw new Error(`POST /api/cameras: ${res.status} ${await res.text()}`);
        } catch (err) {
          if (tries > 300) throw err;
          await sleep(100);
        }
      }
    }
    return await measure(port, cameras);
  } finally {
    for (const p of procs.reverse()) await stop(p);
    await nats.dispose();
  }
}

const fmt = (r: Result): string => `${r.fps.toFixed(1).padStart(6)} fps  latency p50 ${String(Math.round(r.p50)).padStart(5)} ms  p95 ${String(Math.round(r.p95)).padStart(5)} ms  (${r.frames} frames)`;
console.log(`bench:scale: ${cameras} cameras of ${clip.split('/').pop()}, read fast; ${seconds} s measured after ${warmup} s; per process ${inference.join(' ')}`);
console.log(`machine: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores, node ${process.version}`);
const base = await alone();
console.log(`run alone (baseline)   ${fmt(base)}`);
const one = await cluster(1);
console.log(`gateway + 1 node       ${fmt(one)}   ratio ${(one.fps / base.fps).toFixed(2)}   added p50 ${Math.round(one.p50 - base.p50)} ms, p95 ${Math.round(one.p95 - base.p95)} ms`);
const two = await cluster(2);
console.log(`gateway + 2 nodes      ${fmt(two)}   ratio ${(two.fps / base.fps).toFixed(2)}   added p50 ${Math.round(two.p50 - base.p50)} ms, p95 ${Math.round(two.p95 - base.p95)} ms`);
