import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { CameraStateStore, parseConfig, type ConfigInput } from '../../src/config/index.js';
import { CCTV_640x480 } from '../helpers/media.js';
import { processesMatching, sleep, waitUntil } from '../helpers/processes.js';
import { TestClient, type Msg } from '../helpers/wsClient.js';

const MODEL = join(import.meta.dirname, '../../../shared/models/yolov8n-seg-320.onnx');

/** Real-time looped copies of the clip, one per camera (so each camera's ffmpeg is findable). */
const ROOT = mkdtempSync(join(tmpdir(), 'segstream-cameras-'));
const clip = (name: string): string => {
  const p = join(ROOT, `${name}.mp4`);
  if (!existsSync(p)) copyFileSync(CCTV_640x480, p);
  return p;
};
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const seqs = (c: TestClient, camera: string): number[] => c.messages.filter((m) => m.type === 'frame' && m['camera'] === camera).map((m) => m['seq'] as number);

describe('cameras added, changed and removed at run time (API and reload) while two others stream', () => {
  let app: App;
  let client: TestClient;
  const statePath = join(ROOT, 'segstream.state.json');
  const base = (cameras: ConfigInput['cameras']): ConfigInput => ({
    cameras,
    inference: { model: MODEL, threads: 1 },
    server: { host: '127.0.0.1', port: 0 },
    ingest: { realtime: true, loop: true, mediaRoots: [ROOT] },
  });
  const steady = [
    { id: 'a', url: clip('a') },
    { id: 'b', url: clip('b') },
  ];
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`http://127.0.0.1:${app.address.port}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  /** The steady cameras keep running: same objects, never restarted, seq still counting. */
  let steadyCams: unknown[];
  const expectSteadyUntouched = async (): Promise<void> => {
    expect(['a', 'b'].map((id) => app.cameras.get(id))).toEqual(steadyCams);
    for (const id of ['a', 'b']) {
      const cam = app.cameras.require(id);
      expect(cam.status.restarts, id).toBe(0);
      expect(cam.status.state, id).toBe('streaming');
      const before = Math.max(...seqs(client, id));
      await client.frames(2, id);
      expect(Math.max(...seqs(client, id)), `${id} seq keeps counting`).toBeGreaterThan(before);
    }
  };

  beforeAll(async () => {
    app = await startApp(parseConfig(base(steady)), { state: new CameraStateStore(statePath) });
    client = await TestClient.connect(app.address.port);
    await client.frames(3, 'a');
    await client.frames(3, 'b');
    steadyCams = ['a', 'b'].map((id) => app.cameras.get(id));
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it('POST adds a camera that streams within 5 s, and the others keep their share of inference', async () => {
    const posted = Date.now();
    const r = await api('POST', '/api/cameras', { id: 'c', url: clip('c') });
    expect(r.status).toBe(201);
    expect(r.json['camera']).toMatchObject({ id: 'c', origin: 'api' });
    await client.next((m) => m.type === 'frame' && m['camera'] === 'c', 5000);
    expect(Date.now() - posted).toBeLessThan(5000);
    // Three real-time cameras on a model that cannot keep up with all of them: each keeps a
    // fair share of what inference does.
    const start = { a: seqs(client, 'a').length, b: seqs(client, 'b').length, c: seqs(client, 'c').length };
    await sleep(3000);
    const got = { a: seqs(client, 'a').length - start.a, b: seqs(client, 'b').length - start.b, c: seqs(client, 'c').length - start.c };
    const total = got.a + got.b + got.c;
    for (const id of ['a', 'b', 'c'] as const) expect(got[id], `${id}: ${JSON.stringify(got)}`).toBeGreaterThan(total / 6);
    await expectSteadyUntouched();
    const listed = await api('GET', '/api/cameras');
    expect((listed.json['cameras'] as { id: string }[]).map((c) => c.id)).toEqual(['a', 'b', 'c']);
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { cameras: Record<string, unknown> };
    expect(state.cameras['c']).toMatchObject({ id: 'c', url: clip('c') });
  });

  it('GET lists each camera with its state, size, counters and frame age; credentials redacted', async () => {
    const r = await api('POST', '/api/cameras', { id: 'secret', url: 'rtsp://admin:hunter22@127.0.0.1:9/stream', reconnectMinMs: 10_000 });
    expect(r.status).toBe(201);
    const listed = await api('GET', '/api/cameras');
    const text = JSON.stringify(listed.json);
    expect(text).not.toContain('hunter22');
    const cams = listed.json['cameras'] as Record<string, unknown>[];
    expect(cams.find((c) => c['id'] === 'secret')!['url']).toBe('rtsp://admin:***@127.0.0.1:9/stream');
    const a = cams.find((c) => c['id'] === 'a')!;
    expect(a).toMatchObject({ state: 'streaming', width: 640, height: 480, kind: 'file', origin: 'config' });
    for (const k of ['framesRead', 'framesProcessed', 'framesDropped', 'frameAgeS']) expect(typeof a[k], k).toBe('number');
    expect(a['framesRead'] as number).toBeGreaterThanOrEqual(a['framesProcessed'] as number);
    expect(a['frameAgeS'] as number).toBeLessThan(5);
    const hello = await TestClient.connect(app.address.port);
    const h = await hello.next((m) => m.type === 'hello');
    hello.close();
    expect((h['cameras'] as { id: string }[]).map((c) => c.id)).toContain('secret');
    expect(JSON.stringify(h)).not.toContain('hunter22');
    // /readyz: a camera that cannot connect is down, by name.
    const ready = await fetch(`http://127.0.0.1:${app.address.port}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { down: { id: string }[] }).down.map((d) => d.id)).toEqual(['secret']);
    expect((await api('DELETE', '/api/cameras/secret')).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${app.address.port}/readyz`)).status).toBe(200);
  });

  it('refuses bad requests with the right status and code, and changes nothing', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/api/cameras', { id: 'a', url: clip('a') }, 409, 'E_CAMERA_EXISTS'],
      ['POST', '/api/cameras', { id: 'x', url: 'concat:/etc/passwd' }, 400, 'E_SOURCE_REFUSED'],
      ['POST', '/api/cameras', { id: 'x', url: '/etc/passwd' }, 400, 'E_SOURCE_REFUSED'],
      ['POST', '/api/cameras', { id: 'x', url: clip('a'), confidence: 0.1 }, 400, 'E_CONFIG'],
      ['POST', '/api/cameras', { id: 'bad id!', url: clip('a') }, 400, 'E_CONFIG'],
      ['POST', '/api/cameras', { id: 'x', url: clip('a'), extra: 1 }, 400, 'E_CONFIG'],
      ['POST', '/api/cameras', [1, 2], 400, 'E_CONFIG'],
      ['PATCH', '/api/cameras/nope', { loop: false }, 404, 'E_UNKNOWN_CAMERA'],
      ['PATCH', '/api/cameras/a', { id: 'z' }, 400, 'E_CONFIG'],
      ['PATCH', '/api/cameras/a', { reconnectMinMs: 5 }, 400, 'E_CONFIG'],
      ['DELETE', '/api/cameras/nope', undefined, 404, 'E_UNKNOWN_CAMERA'],
      ['PUT', '/api/cameras/a', {}, 405, 'E_MSG_INVALID'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await api(method, path, body);
      expect([r.status, (r.json['error'] as { code: string }).code], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, code]);
    }
    const url = `http://127.0.0.1:${app.address.port}/api/cameras`;
    const notJson = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":' });
    expect([notJson.status, ((await notJson.json()) as { error: { code: string } }).error.code]).toEqual([400, 'E_MSG_NOT_JSON']);
    const form = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"id":"x","url":"rtsp://h/s"}' });
    expect(form.status).toBe(400);
    const big = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x', url: `rtsp://h/${'a'.repeat(70_000)}` }) });
    expect([big.status, ((await big.json()) as { error: { code: string } }).error.code]).toEqual([413, 'E_MSG_TOO_LARGE']);
    expect(app.cameras.ids()).toEqual(['a', 'b', 'c']);
    await expectSteadyUntouched();
  });

  it('PATCH changes a score threshold in place and restarts a camera only when its source changes', async () => {
    const camC = app.cameras.get('c');
    const inPlace = await api('PATCH', '/api/cameras/c', { confidence: 0.6 });
    expect([inPlace.status, inPlace.json['restarted']]).toEqual([200, false]);
    expect(app.cameras.get('c')).toBe(camC);
    // Detections below the new threshold are gone (a predicted object carries its track's last
    // score). Frames until some object scores above it (the clip's cars score 0.3-0.9).
    const frames = await client.frames(5, 'c');
    while (frames.flatMap((f) => f.objects.filter((o) => !o.predicted)).length === 0 && frames.length < 150) frames.push(...(await client.frames(5, 'c')));
    const detected = frames.flatMap((f) => f.objects.filter((o) => !o.predicted));
    expect(detected.length).toBeGreaterThan(0);
    for (const o of detected) expect(o.score).toBeGreaterThanOrEqual(0.6);
    // The newest seq of this camera's current instance (not the highest ever: an earlier camera
    // of this id may have counted further).
    const lastSeq = seqs(client, 'c').at(-1)!;
    const before = client.messages.length;
    const restarted = await api('PATCH', '/api/cameras/c', { realtime: false, loop: false });
    expect([restarted.status, restarted.json['restarted']]).toEqual([200, true]);
    expect(app.cameras.get('c')).not.toBe(camC);
    // The restarted camera is a new stream: its frames count from 0 again (a frame of the old one
    // may still be on its way over the socket).
    await client.next((m) => m.type === 'frame' && m['camera'] === 'c' && (m['seq'] as number) < lastSeq && client.messages.indexOf(m) >= before, 5000);
    await expectSteadyUntouched();
  });

  it('DELETE ends the camera: its ffmpeg is gone, clients get status removed, the others go on', async () => {
    const pid = app.cameras.require('c').source!.ffmpegPid;
    expect(await (await fetch(`http://127.0.0.1:${app.address.port}/metrics`)).text()).toMatch(/segstream_frame_age_seconds\{camera="c"\}/);
    const r = await api('DELETE', '/api/cameras/c');
    expect(r.status).toBe(200);
    const removed = await client.next((m: Msg) => m.type === 'status' && m['camera'] === 'c' && m['state'] === 'removed', 5000);
    expect(removed).toBeTruthy();
    expect(pid).toBeDefined();
    await waitUntil("the removed camera's ffmpeg to exit", () => !alive(pid!), 5000);
    expect(app.cameras.get('c')).toBeUndefined();
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { cameras: Record<string, unknown> };
    expect(Object.keys(state.cameras)).toEqual([]);
    const metrics = await (await fetch(`http://127.0.0.1:${app.address.port}/metrics`)).text();
    expect(metrics).not.toMatch(/camera="c"/);
    await expectSteadyUntouched();
  });

  it('a reload applies the difference only: added within 5 s, removed ones end, API cameras stay, the rest untouched', async () => {
    expect((await api('POST', '/api/cameras', { id: 'viaapi', url: clip('viaapi') })).status).toBe(201);
    const reloaded = Date.now();
    const diff = await app.reload(parseConfig(base([...steady, { id: 'd', url: clip('d') }])));
    expect(diff).toMatchObject({ added: ['d'], removed: [], restarted: [], updated: [] });
    await client.next((m) => m.type === 'frame' && m['camera'] === 'd', 5000);
    expect(Date.now() - reloaded).toBeLessThan(5000);
    // The camera the API added is not undone by reloading a file that does not list it.
    expect(app.cameras.ids().sort()).toEqual(['a', 'b', 'd', 'viaapi']);
    const pid = app.cameras.require('d').source!.ffmpegPid!;
    const again = await app.reload(parseConfig(base(steady)));
    expect(again.removed).toEqual(['d']);
    await waitUntil('d\'s ffmpeg to exit', () => !alive(pid), 5000);
    await client.next((m) => m.type === 'status' && m['camera'] === 'd' && m['state'] === 'removed', 5000);
    // A setting that needs a restart is named, not applied.
    const port = await app.reload(parseConfig({ ...base(steady), server: { host: '127.0.0.1', port: 1 } }));
    expect(port.needsRestart).toEqual(['server']);
    await expectSteadyUntouched();
    expect((await api('DELETE', '/api/cameras/viaapi')).status).toBe(200);
  });
});

describe('segstream run --config: SIGHUP reloads the file and applies the difference', () => {
  const CLI = ['--import', 'tsx', join(import.meta.dirname, '../../src/cli.ts')];
  const dir = mkdtempSync(join(tmpdir(), 'segstream-reload-'));
  const file = join(dir, 'segstream.yaml');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const yamlFor = (ids: string[]): string =>
    [
      'server: { host: 127.0.0.1, port: 0 }',
      `inference: { model: ${JSON.stringify(MODEL)}, threads: 1 }`,
      `ingest: { realtime: true, loop: true, mediaRoots: [${JSON.stringify(ROOT)}] }`,
      'cameras:',
      ...ids.map((id) => `  - { id: ${id}, url: ${JSON.stringify(clip(`hup-${id}`))} }`),
      '',
    ].join('\n');

  it('adds and removes cameras on SIGHUP without touching the others; an invalid file changes nothing; API cameras survive it', async () => {
    writeFileSync(file, yamlFor(['a', 'b']));
    const child = spawn(process.execPath, [...CLI, 'run', '--config', file, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitUntil('the listening line', () => /"port":\d+[^\n]*listening/.test(stderr), 60_000);
      const port = Number(/"port":(\d+)[^\n]*listening/.exec(stderr)![1]);
      const c = await TestClient.connect(port);
      await c.frames(2, 'a');
      await c.frames(2, 'b');
      const cameras = async (): Promise<Record<string, { restarts: number; framesRead: number }>> =>
        Object.fromEntries(((await (await fetch(`http://127.0.0.1:${port}/api/cameras`)).json()) as { cameras: { id: string; restarts: number; framesRead: number }[] }).cameras.map((x) => [x.id, x]));

      writeFileSync(file, yamlFor(['a', 'b', 'c']));
      const hup = Date.now();
      child.kill('SIGHUP');
      await c.next((m) => m.type === 'frame' && m['camera'] === 'c', 5000);
      expect(Date.now() - hup).toBeLessThan(5000);
      expect(processesMatching(clip('hup-c'))).toHaveLength(1);

      const before = Math.max(...seqs(c, 'a'));
      writeFileSync(file, yamlFor(['a', 'b']));
      child.kill('SIGHUP');
      await c.next((m) => m.type === 'status' && m['camera'] === 'c' && m['state'] === 'removed', 5000);
      await waitUntil("c's ffmpeg to exit", () => processesMatching(clip('hup-c')).length === 0, 5000);
      await c.frames(2, 'a');
      expect(Math.max(...seqs(c, 'a'))).toBeGreaterThan(before);

      // An invalid file: logged, nothing changes, the process serves on.
      writeFileSync(file, `${yamlFor(['a', 'b'])}bogus: 1\n`);
      child.kill('SIGHUP');
      await waitUntil('the refusal in the log', () => stderr.includes('reload refused'), 5000);
      const refusal = stderr.split('\n').find((l) => l.includes('reload refused'))!;
      expect(JSON.parse(refusal)).toMatchObject({ code: 'E_CONFIG', err: expect.stringContaining('bogus: unknown key') });
      await c.frames(2, 'b');
      const kept = await cameras();
      expect(Object.keys(kept).sort()).toEqual(['a', 'b']);
      expect([kept['a']!.restarts, kept['b']!.restarts]).toEqual([0, 0]);

      // A camera added through the API is kept in the state file beside the configuration and a
      // reload of the (unchanged) file does not undo it.
      const posted = await fetch(`http://127.0.0.1:${port}/api/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'viaapi', url: clip('hup-viaapi') }),
      });
      expect(posted.status).toBe(201);
      expect(JSON.parse(readFileSync(join(dir, 'segstream.state.json'), 'utf8'))).toMatchObject({ version: 1, cameras: { viaapi: { url: clip('hup-viaapi') } } });
      writeFileSync(file, yamlFor(['a', 'b']));
      child.kill('SIGHUP');
      await waitUntil('the reload', () => (stderr.match(/configuration reloaded/g) ?? []).length >= 3, 5000);
      const now = await cameras();
      expect(Object.keys(now).sort()).toEqual(['a', 'b', 'viaapi']);
      expect([now['a']!.restarts, now['b']!.restarts]).toEqual([0, 0]);
      // The state file is read again on SIGHUP: an entry deleted by hand undoes the API change.
      writeFileSync(join(dir, 'segstream.state.json'), '{"version":1,"cameras":{}}\n');
      child.kill('SIGHUP');
      await c.next((m) => m.type === 'status' && m['camera'] === 'viaapi' && m['state'] === 'removed', 5000);
      expect(Object.keys(await cameras()).sort()).toEqual(['a', 'b']);
      c.close();
      child.kill('SIGTERM');
      expect(await new Promise((r) => child.once('exit', r))).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
