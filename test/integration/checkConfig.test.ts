import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesMatching } from '../helpers/processes.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/segstream.js');
const MODEL = join(ROOT, '../shared/models/yolov8n-seg-320.onnx');
const CLIP = join(ROOT, '../shared/data/videos/urban_intersection_cctv.mp4');

/** Config files, and a uniquely named copy of the clip that marks this file's ffmpeg in the process list. */
const DIR = mkdtempSync(join(tmpdir(), `segstream-check-config-${process.pid}-`));
const VIDEO = join(DIR, 'clip.mp4');
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** bin/segstream.js runs dist/: build it when a source file is newer (type errors elsewhere still emit). */
beforeAll(() => {
  copyFileSync(CLIP, VIDEO);
  const built = existsSync(join(ROOT, 'dist/cli.js')) ? statSync(join(ROOT, 'dist/cli.js')).mtimeMs : 0;
  const newest = Math.max(...readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).map((f) => statSync(join(ROOT, 'src', f)).mtimeMs));
  if (newest <= built) return;
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    // tsc exits non-zero on a type error in a file being edited, but still writes dist/.
  }
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The CLI in its own process group (so its relaunched child goes with it), killed after `timeoutMs`. */
function segstream(args: string[], timeoutMs = 15_000, until?: RegExp): Promise<Ran & { child: ChildProcess }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve) => {
    const done = (code: number | null): void => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0, child });
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (until?.test(stderr)) done(null);
    });
    child.once('exit', (code) => done(code));
  });
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The one `segstream: E_...: message` line a failed command writes. */
const errorLine = (stderr: string): string | undefined => stderr.split('\n').find((l) => l.startsWith('segstream: '));

let files = 0;
function config(text: string, name = 'segstream.yaml'): string {
  const dir = join(DIR, `c${files++}`);
  mkdirSync(dir);
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const camera = (id: string, url = VIDEO): string => `  - id: ${id}\n    url: ${url}\n`;

describe('an invalid configuration file: segstream run and check-config exit 2 naming the field, before anything starts', () => {
  it.each<[string, string, RegExp]>([
    ['a schema bound', `inference:\n  confidence: 2\ncameras:\n${camera('gate')}`, /E_CONFIG: invalid configuration: inference\.confidence: /],
    ['an unknown key', `server:\n  prot: 8080\ncameras:\n${camera('gate')}`, /E_CONFIG: invalid configuration: server\.prot: unknown key/],
    ['a syntax error', `cameras:\n${camera('gate')}\tbad: 1\n`, /E_CONFIG: .*segstream\.yaml.*: not valid YAML/],
    ['a duplicate camera id', `cameras:\n${camera('gate')}${camera('yard')}${camera('gate')}`, /E_CONFIG: invalid configuration: cameras\[2\]\.id: 'gate' is already the id of cameras\[0\]/],
    ['a refused camera URL', `cameras:\n${camera('gate')}${camera('yard')}${camera('bad', "'concat:/etc/passwd|x.mp4'")}`, /E_SOURCE_REFUSED: invalid configuration: cameras\[2\]\.url: .*concat: protocol is not allowed/],
    ['the reconnect rule', `ingest:\n  reconnectMinMs: 5000\n  reconnectMaxMs: 4000\ncameras:\n${camera('gate')}`, /E_CONFIG: invalid configuration: ingest\.reconnectMaxMs: /],
    ['a tracking rule', `tracking:\n  highScore: 0.7\n  newScore: 0.6\ncameras:\n${camera('gate')}`, /E_CONFIG: invalid configuration: tracking\.newScore: /],
    ['an unknown inference device', `inference:\n  device: cuda,gpu\ncameras:\n${camera('gate')}`, /E_CONFIG: invalid configuration: inference\.device: unknown inference device 'gpu': valid devices are cpu, cuda, tensorrt, webgpu$/],
  ])('%s', async (_, text, pattern) => {
    const file = config(text);
    const run = await segstream(['run', '--config', file, '--model', MODEL, '--port', '0', '--log-level', 'info']);
    try {
      expect(run.code, run.stderr).toBe(2);
      expect(errorLine(run.stderr)).toMatch(pattern);
      // Nothing started: no model, no server, no ffmpeg on the camera's file.
      expect(run.stderr).not.toContain('model loaded');
      expect(run.stderr).not.toContain('listening');
      expect(run.ms).toBeLessThan(10_000);
      expect(processesMatching(VIDEO)).toEqual([]);
    } finally {
      killGroup(run.child);
    }
    const check = await segstream(['check-config', file]);
    expect(check.code).toBe(2);
    expect(check.stdout).toBe('');
    expect(errorLine(check.stderr)).toBe(errorLine(run.stderr));
  });
});

describe('segstream check-config', () => {
  it('a valid file exits 0 and names its cameras, the state file beside it laid over them', async () => {
    const file = config(`inference:\n  model: ${MODEL}\ncameras:\n${camera('gate')}${camera('yard', 'rtsp://127.0.0.1:1/none')}    enabled: false\n`);
    const plain = await segstream(['check-config', file]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(`${file}: valid: 2 camera(s) (gate, yard), model ${MODEL}\n`);
    writeFileSync(join(file, '../segstream.state.json'), JSON.stringify({ version: 1, cameras: { gate: null, api1: { url: 'rtsp://127.0.0.1:1/api' } } }));
    const withState = await segstream(['check-config', file, '--no-model']);
    expect(withState.code, withState.stderr).toBe(0);
    expect(withState.stdout).toContain('valid: 2 camera(s) (yard, api1)');
    expect(withState.stdout).toContain('(not checked)');
  });

  it('an invalid state file (beside it or given by --state-file) exits 2 naming the state file and camera', async () => {
    const file = config(`cameras:\n${camera('gate')}`);
    const other = join(DIR, 'other.state.json');
    writeFileSync(other, JSON.stringify({ version: 1, cameras: { api1: { url: VIDEO } } }));
    const r = await segstream(['check-config', file, '--no-model', '--state-file', other]);
    expect(r.code).toBe(2);
    // A local file through the API needs a media root.
    expect(errorLine(r.stderr)).toMatch(new RegExp(`E_SOURCE_REFUSED: invalid configuration: ${other.replace(/[.]/g, '\\.')}: cameras\\.api1\\.url: .*media roots`));
    writeFileSync(join(file, '../segstream.state.json'), '{"version": 2}');
    const beside = await segstream(['check-config', file, '--no-model']);
    expect(beside.code).toBe(2);
    expect(errorLine(beside.stderr)).toMatch(/E_CONFIG: .*segstream\.state\.json: not a segstream state file/);
  });

  it('a missing model exits 2 unless --no-model', async () => {
    const missing = join(DIR, 'missing.onnx');
    const file = config(`inference:\n  model: ${missing}\n`);
    const r = await segstream(['check-config', file]);
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)).toContain(missing);
    expect((await segstream(['check-config', file, '--no-model'])).code).toBe(0);
  });
});

describe('segstream run --config', () => {
  it('flags override the file before it is checked: an invalid port and newScore in the file, fixed by --port 0 --track-new 0.7', async () => {
    const file = config('server:\n  port: 70000\n  host: 127.0.0.1\ntracking:\n  newScore: 0.4\n');
    // On its own the file is invalid.
    expect((await segstream(['check-config', file, '--no-model'])).code).toBe(2);
    const run = await segstream(['run', '--config', file, '--model', MODEL, '--port', '0', '--track-new', '0.7', '--threads', '1', '--log-level', 'info'], 30_000, /listening/);
    try {
      expect(run.code, run.stderr).toBeNull();
      const port = Number(/"port":(\d+)[^\n]*listening/.exec(run.stderr)?.[1]);
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(70000);
      expect(run.stderr).toContain('"host":"127.0.0.1"');
      const exited = new Promise<number | null>((resolve) => run.child.once('exit', resolve));
      run.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      killGroup(run.child);
    }
  });

  it('a file that is not a mapping exits 2 like check-config, before anything starts', async () => {
    const file = config('- server\n- cameras\n');
    expect((await segstream(['check-config', file, '--no-model'])).code).toBe(2);
    const run = await segstream(['run', '--config', file, '--model', MODEL, '--port', '0', '--host', '127.0.0.1', '--threads', '1'], 15_000, /listening/);
    try {
      expect(run.stderr).not.toContain('model loaded');
      expect(run.code).toBe(2);
    } finally {
      killGroup(run.child);
    }
  });
});
