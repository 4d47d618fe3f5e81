import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const SHARED = join(ROOT, '../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli.ts')];

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with the port from the "listening" log line (JSON on stderr). */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no listening line; stderr: ${buf}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = buf.match(/"port":(\d+)[^\n]*listening/);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function processesMatching(marker: string): string[] {
  const r = spawnSync('pgrep', ['-af', marker], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() && !l.includes('pgrep'));
}

/** bin/segstream.js runs dist/: build it when a source file is newer than the build. */
function ensureBuilt(): void {
  const built = existsSync(join(ROOT, 'dist/cli.js')) ? statSync(join(ROOT, 'dist/cli.js')).mtimeMs : 0;
  const newest = Math.max(
    ...readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).map((f) => statSync(join(ROOT, 'src', f)).mtimeMs),
  );
  if (newest > built) execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'ignore' });
}

/** Uniquely named copies of the clip live here; removed when the file's tests end. */
const COPIES = mkdtempSync(join(tmpdir(), 'segstream-cli-copies-'));
afterAll(() => rmSync(COPIES, { recursive: true, force: true }));

/**
 * `bin/segstream.js run` on a uniquely named copy of the clip (which marks its ffmpeg in the
 * process list; a link would not: ffmpeg gets the resolved path).
 */
function launch(tag: string, detached: boolean): { wrapper: ChildProcess; source: string } {
  ensureBuilt();
  const source = join(COPIES, `clip-${process.pid}-${tag}.mp4`);
  copyFileSync(CLIP, source);
  const args = [join(ROOT, 'bin/segstream.js'), 'run', '--source', source, '--model', MODEL, '--port', '0', '--host', '127.0.0.1', '--threads', '1'];
  return { wrapper: spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached }), source };
}

describe('segstream CLI', () => {
  it('mot --help documents --fps and --camera-motion', () => {
    const r = spawnSync(process.execPath, [...CLI, 'mot', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const opt of ['--det', '--out', '--include-predicted', '--fps', '--camera-motion']) expect(r.stdout).toContain(opt);
  });

  it('--help documents every run option', () => {
    const r = spawnSync(process.execPath, [...CLI, 'run', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const opt of ['--source', '--media-root', '--no-tls-verify', '--tls-ca-file', '--model', '--port', '--host', '--fast', '--loop', '--workers', '--threads', '--batch', '--conf', '--iou', '--agnostic-nms', '--max-det', '--no-tracking', '--device', '--log-level', '--track-high', '--track-new', '--track-max-age', '--target-memory', '--track-camera-motion', '--network-timeout', '--stall-timeout', '--reconnect-min', '--reconnect-max', '--max-message-bytes', '--max-buffered-bytes', '--slow-client-timeout', '--slow-client-close-grace', '--max-clients', '--clip-image', '--clip-text', '--clip-merges']) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('bin/segstream.js runs the service with glibc\'s mmap threshold fixed; Ctrl-C (SIGINT to the group, forwarded too) exits 0, no ffmpeg left', async () => {
    // Its own process group, as a terminal's foreground job.
    const { wrapper, source } = launch('bin', true);
    try {
      await listeningPort(wrapper);
      const children = spawnSync('pgrep', ['-P', String(wrapper.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
      expect(children).toHaveLength(1);
      const env = readFileSync(`/proc/${children[0]}/environ`, 'utf8').split('\0');
      expect(env).toContain('MALLOC_MMAP_THRESHOLD_=131072');
      const deadline = Date.now() + 20_000;
      while (!processesMatching(source).some((l) => l.includes('ffmpeg')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(processesMatching(source).some((l) => l.includes('ffmpeg'))).toBe(true);
      process.kill(-wrapper.pid!, 'SIGINT');
      expect(await exited(wrapper)).toBe(0);
      expect(processesMatching(source)).toEqual([]);
    } finally {
      try {
        process.kill(-wrapper.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  it('bin/segstream.js killed with SIGKILL takes its service down with it (no orphan holding the port, no ffmpeg left)', async () => {
    const { wrapper, source } = launch('orphan', false);
    await listeningPort(wrapper);
    const service = Number(spawnSync('pgrep', ['-P', String(wrapper.pid)], { encoding: 'utf8' }).stdout.trim());
    expect(service).toBeGreaterThan(0);
    wrapper.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    // Gone, or a zombie nobody reaps yet (its parent, the launcher, is dead).
    const alive = (): boolean => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${service}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
    expect(processesMatching(source)).toEqual([]);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`streams frames, then on ${signal} exits 0 leaving no ffmpeg behind`, async () => {
      // A uniquely named copy of the clip marks this run's ffmpeg in the process list.
      const source = join(COPIES, `clip-${process.pid}-${signal}.mp4`);
      copyFileSync(CLIP, source);
      const child = cli(['run', '--source', source, '--model', MODEL, '--port', '0', '--host', '127.0.0.1', '--threads', '1']);
      try {
        const port = await listeningPort(child);
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        const frame = await new Promise<{ camera: string; objects: unknown[] }>((resolve, reject) => {
          ws.on('message', (d) => {
            const m = JSON.parse(String(d)) as { type: string; camera: string; objects: unknown[] };
            if (m.type === 'frame') resolve(m);
          });
          ws.once('error', reject);
        });
        expect(frame.camera).toBe('cam0');
        expect(processesMatching(source).some((l) => l.includes('ffmpeg'))).toBe(true);
        child.kill(signal);
        expect(await exited(child)).toBe(0);
        expect(processesMatching(source)).toEqual([]);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }

  it('a corrupt model stops start-up with exit code 2 and an error naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segstream-cli-'));
    const model = join(dir, 'broken.onnx');
    writeFileSync(model, 'definitely not protobuf \u0000\u00ff'.repeat(50));
    const child = cli(['run', '--source', CLIP, '--model', model, '--port', '0']);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await exited(child)).toBe(2);
    expect(stderr).toContain('E_MODEL_CORRUPT');
    expect(stderr).toContain(model);
  });

  it('on an interactive terminal draws a live table, one line per camera, redrawn in place; not when stdout is a pipe', async () => {
    // script(1) gives the CLI a pseudo-terminal as stdout.
    const cmd = [process.execPath, ...CLI, 'run', '--source', `gate=${CLIP}`, '--model', MODEL, '--port', '0', '--host', '127.0.0.1', '--threads', '1', '--log-level', 'silent'];
    const quoted = cmd.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const child = spawn('script', ['-qfec', quoted, '/dev/null'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 40_000;
      // Several redraws with the camera streaming and frames going out.
      while (Date.now() < deadline && !(/gate\s+streaming\s+[\d.]+\s+[1-9][\d.]*/.test(out) && (out.match(/\x1b\[\d+F/g) ?? []).length >= 2)) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(out).toMatch(/camera\s+state\s+in fps\s+out fps\s+latency\s+objects\s+dropped/);
      expect(out).toMatch(/gate\s+streaming\s+[\d.]+\s+[1-9][\d.]*\s+\d+ ms\s+\d+\s+\d+/);
      // Redrawn in place: the cursor goes back over the table's 2 lines.
      expect(out).toMatch(/\x1b\[2F/);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
    // script's session ends with it: the service and its ffmpeg are gone.
    const gone = Date.now() + 10_000;
    while (processesMatching(`gate=${CLIP}`).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    expect(processesMatching(`gate=${CLIP}`)).toEqual([]);
    // With stdout a pipe (every other test here), nothing is drawn.
    const piped = cli(['run', '--source', CLIP, '--model', MODEL, '--port', '0', '--host', '127.0.0.1', '--threads', '1']);
    let stdout = '';
    piped.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      await listeningPort(piped);
      await new Promise((r) => setTimeout(r, 1500));
      expect(stdout).not.toMatch(/in fps|\x1b\[/);
    } finally {
      piped.kill('SIGTERM');
      await exited(piped);
    }
  });

  it('an invalid option value is E_CONFIG with exit code 2', async () => {
    const child = cli(['run', '--source', CLIP, '--model', MODEL, '--conf', '3']);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await exited(child)).toBe(2);
    expect(stderr).toMatch(/E_CONFIG: invalid configuration: inference\.confidence/);
  });

  it.each([
    [['--source', 'concat:/etc/passwd|x.mp4'], /E_SOURCE_REFUSED: .*concat: protocol is not allowed/],
    [['--source', '-f'], /E_SOURCE_REFUSED: .*may not begin with "-"/],
    [['--source', 'cam=/dev/zero'], /E_SOURCE_REFUSED: .*not a regular file/],
    [['--source', 'cam=rtsps://127.0.0.1:8554/s'], /E_SOURCE_REFUSED: .*--no-tls-verify/],
    [['--source', 'cam=v4l2:///etc/shadow'], /E_SOURCE_REFUSED: .*must be \/dev\/videoN/],
    [['--source', CLIP, '--media-root', tmpdir()], /E_SOURCE_REFUSED: .*outside every --media-root/],
  ])('a refused source (%j) exits 2 naming the rule, before the model or ffmpeg starts', async (args, pattern) => {
    const child = cli(['run', '--model', MODEL, ...args]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await exited(child)).toBe(2);
    expect(stderr).toMatch(pattern);
    expect(stderr).not.toContain('model loaded');
  });

  it.each([
    [['--track-max-age', '0'], /E_CONFIG: invalid configuration: tracking\.maxAge/],
    [['--track-high', '0.7', '--track-new', '0.6'], /E_CONFIG: invalid configuration: tracking\.newScore/],
    [['--target-memory', '-1'], /E_CONFIG: invalid configuration: tracking\.targetMemory/],
  ])('a tracking rule broken by %j exits 2 naming the field, before anything starts (it hung once)', async (args, pattern) => {
    const started = Date.now();
    const child = cli(['run', '--source', CLIP, '--model', MODEL, ...args]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await exited(child)).toBe(2);
    expect(stderr).toMatch(pattern);
    // No model load, no worker, no ffmpeg: the check runs first.
    expect(stderr).not.toContain('model loaded');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('segstream mot', () => {
  it('tracks a MOTChallenge detection file into MOTChallenge results', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segstream-mot-'));
    const out = join(dir, 'result.txt');
    const det = join(SHARED, 'data/mot/MOT15/TUD-Campus/det/det.txt');
    const r = spawnSync(process.execPath, [...CLI, 'mot', '--det', det, '--out', out], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => l.split(',').map(Number));
    expect(rows.length).toBeGreaterThan(100);
    for (const row of rows) {
      expect(row).toHaveLength(10);
      expect(row.slice(6)).toEqual([1, -1, -1, -1]);
      expect(row[4]).toBeGreaterThan(0);
      expect(row[5]).toBeGreaterThan(0);
    }
    // TUD-Campus has 71 frames; ids are positive.
    expect(Math.max(...rows.map((x) => x[0]!))).toBeLessThanOrEqual(71);
    expect(Math.min(...rows.map((x) => x[1]!))).toBeGreaterThanOrEqual(1);
  });

  it('--fps sets the time between frames: a track survives a gap at 60 fps that it does not at 2 fps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segstream-mot-'));
    const det = join(dir, 'det.txt');
    // One walker on frames 1-3 and 14-16 (10 frames unseen: 0.17 s at 60 fps, 5 s at 2 fps).
    const lines = [1, 2, 3, 14, 15, 16].map((f) => `${f},-1,${100 + f},50,40,100,0.95,-1,-1,-1`);
    writeFileSync(det, lines.join('\n') + '\n');
    const ids = (fps: string): Set<number> => {
      const out = join(dir, `out-${fps}.txt`);
      const r = spawnSync(process.execPath, [...CLI, 'mot', '--det', det, '--out', out, '--fps', fps], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return new Set(readFileSync(out, 'utf8').trim().split('\n').map((l) => Number(l.split(',')[1])));
    };
    expect(ids('60')).toEqual(new Set([1]));
    expect(ids('2')).toEqual(new Set([1, 2]));
    const bad = spawnSync(process.execPath, [...CLI, 'mot', '--det', det, '--out', join(dir, 'x.txt'), '--fps', '0'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/E_CONFIG: --fps/);
  });

  it('a missing detection file exits 2 with a coded error', () => {
    const r = spawnSync(process.execPath, [...CLI, 'mot', '--det', '/nonexistent/det.txt', '--out', join(tmpdir(), 'never.txt')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/E_SOURCE_UNREADABLE: .*\/nonexistent\/det\.txt/);
  });
});
