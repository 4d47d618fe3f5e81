import { execFileSync } from 'node:child_process';
import { copyFileSync, createReadStream, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, FORMATS, PROTOCOLS, type CameraSourceOptions, type SourceSpec } from '../../src/ingest/index.js';
import { parseConfig, resolveCameras } from '../../src/config/index.js';
import { CCTV_640x480, collect, makeClip } from '../helpers/media.js';
import { processesMatching } from '../helpers/processes.js';
import { statusWhere } from '../helpers/sourceStatus.js';

/**
 * Sources that point ffmpeg somewhere else than they say: an HTTP camera that redirects to a
 * local file, an HLS playlist that lists local files. ffmpeg must open neither: its input is
 * restricted to the protocols its kind of source needs (-protocol_whitelist). The local target
 * is a real video, so without the restriction the playlist's frames would flow (checked: the same
 * source with the file protocol allowed delivers them; ffmpeg's own http client already refuses
 * a redirect to file:, which the whitelist backs up).
 */

let dir: string;
let clip: string;
let segment: string;
let server: Server;
let origin: string;
const open: CameraSource[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'segstream-hostile-'));
  clip = join(dir, 'local.mp4');
  makeClip(CCTV_640x480, clip, 1);
  segment = join(dir, 'local.ts');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', clip, '-c', 'copy', '-f', 'mpegts', segment]);
  const playlist = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXTINF:1.0,', `file://${segment}`, '#EXT-X-ENDLIST', ''].join('\n');
  writeFileSync(join(dir, 'list.m3u8'), playlist);
  server = createServer((req, res) => {
    if (req.url === '/redirect.mp4') res.writeHead(302, { Location: `file://${clip}` }).end();
    else if (req.url === '/list.m3u8') res.writeHead(200, { 'Content-Type': 'application/vnd.apple.mpegurl' }).end(playlist);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function source(spec: SourceSpec): CameraSource {
  const s = new CameraSource(spec, { ...DEFAULT_SOURCE_OPTIONS, modelWidth: 320, modelHeight: 320, realtime: false, loop: false, reconnectMinMs: 200, reconnectMaxMs: 400 });
  open.push(s);
  return s;
}

describe('ffmpeg opens only the protocols a source needs', () => {
  it.each([
    ['an HTTP camera that redirects to a local video file', '/redirect.mp4'],
    ['an HLS playlist that lists a local segment', '/list.m3u8'],
  ])('%s delivers nothing and reports the refusal', async (_, path) => {
    const s = source({ id: 'cam', url: `${origin}${path}`, kind: 'http' });
    const got = collect(s.frames$);
    s.start();
    const failed = await statusWhere(s, (st) => st.error !== undefined, 15_000);
    expect(['E_SOURCE_UNREADABLE', 'E_SOURCE_FAILED']).toContain(failed.error?.code);
    await s.stop();
    expect(got.frames).toHaveLength(0);
  });

  it('the playlist with the file protocol allowed does play: the restriction is what stops it', async () => {
    const path = '/list.m3u8';
    const original = PROTOCOLS.http;
    (PROTOCOLS as Record<string, string>)['http'] = `${original},file`;
    try {
      const s = source({ id: 'cam', url: `${origin}${path}`, kind: 'http' });
      const got = collect(s.frames$);
      s.start();
      await got.completed;
      expect(got.frames.length).toBeGreaterThan(10);
    } finally {
      (PROTOCOLS as Record<string, string>)['http'] = original;
    }
  });
});

describe('local files are read as containers only', () => {
  it('a local "clip" that is an HLS playlist of another file delivers nothing; with hls allowed it would play', async () => {
    const fake = join(dir, 'fake.mp4');
    writeFileSync(fake, ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXTINF:1.0,', segment, '#EXT-X-ENDLIST', ''].join('\n'));
    const run = async (): Promise<{ frames: number; code: string | undefined }> => {
      const s = source({ id: 'cam', url: fake, kind: 'file' });
      const got = collect(s.frames$);
      s.start();
      const end = await Promise.race([got.completed.then(() => undefined), statusWhere(s, (st) => st.error !== undefined, 15_000)]);
      await s.stop();
      return { frames: got.frames.length, code: end?.error?.code };
    };
    const refused = await run();
    expect(refused.frames).toBe(0);
    expect(refused.code).toBe('E_SOURCE_UNREADABLE');
    const original = FORMATS.file;
    (FORMATS as { file: string }).file = `${original},hls`;
    try {
      expect((await run()).frames).toBeGreaterThan(10);
    } finally {
      (FORMATS as { file: string }).file = original;
    }
  });
});

describe('TLS sources are verified', () => {
  let tls: { origin: string; cert: string; close(): Promise<void> };

  beforeAll(async () => {
    // A self-signed certificate for 127.0.0.1: unknown to the system store.
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': statSync(clip).size });
      createReadStream(clip).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tls = {
      origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      cert,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  });

  afterAll(async () => {
    await tls.close();
  });

  const play = async (options: Partial<CameraSourceOptions>): Promise<{ frames: number; code: string | undefined }> => {
    const s = new CameraSource({ id: 'tls', url: `${tls.origin}/clip.mp4`, kind: 'http' }, { ...DEFAULT_SOURCE_OPTIONS, modelWidth: 320, modelHeight: 320, realtime: false, loop: false, reconnectMinMs: 200, reconnectMaxMs: 400, ...options });
    open.push(s);
    const got = collect(s.frames$);
    s.start();
    const end = await Promise.race([got.completed.then(() => undefined), statusWhere(s, (st) => st.error !== undefined, 15_000)]);
    await s.stop();
    return { frames: got.frames.length, code: end?.error?.code };
  };

  it('an https camera with a certificate the system does not trust delivers nothing', async () => {
    const r = await play({});
    expect(r.frames).toBe(0);
    expect(['E_SOURCE_UNREADABLE', 'E_SOURCE_FAILED']).toContain(r.code);
  });

  it('plays with the CA file that signed it, and with verification turned off explicitly', async () => {
    expect((await play({ caFile: tls.cert })).frames).toBeGreaterThan(10);
    expect((await play({ tlsVerify: false })).frames).toBeGreaterThan(10);
  });

  it('per camera in a configuration: its own CA file, its own verification off, the others still verified', async () => {
    const url = `${tls.origin}/clip.mp4`;
    const config = parseConfig({
      ingest: { realtime: false },
      cameras: [
        { id: 'ca', url, tlsCaFile: tls.cert },
        { id: 'off', url, tlsVerify: false },
        { id: 'default', url },
      ],
    });
    const cams = resolveCameras(config);
    expect(cams.map((c) => [c.source.caFile, c.source.tlsVerify])).toEqual([[tls.cert, true], [undefined, false], [undefined, true]]);
    const results = [];
    for (const c of cams) results.push(await play({ ...c.source, reconnectMinMs: 200, reconnectMaxMs: 400 }));
    expect(results.map((r) => r.frames > 10)).toEqual([true, true, false]);
  });
});

describe('a local file is judged again at every ffmpeg start', () => {
  it('a link inside the media root changed to point outside it while the camera runs: the restart is refused, not opened', async () => {
    const root = mkdtempSync(join(tmpdir(), 'segstream-root-'));
    const outside = mkdtempSync(join(tmpdir(), 'segstream-outside-'));
    try {
      const inside = join(root, 'inside.mp4');
      const secret = join(outside, 'secret.mp4');
      copyFileSync(clip, inside);
      copyFileSync(clip, secret);
      const link = join(root, 'camera.mp4');
      symlinkSync(inside, link);
      const config = parseConfig({ ingest: { mediaRoots: [root], realtime: true, loop: true }, cameras: [{ id: 'link', url: link }] });
      const cam = resolveCameras(config)[0]!;
      expect(cam.spec.url).toBe(realpathSync(inside));
      const s = new CameraSource(cam.spec, { ...cam.source, modelWidth: 320, modelHeight: 320, reconnectMinMs: 100, recheck: cam.recheck });
      open.push(s);
      const got = collect(s.frames$);
      s.start();
      await statusWhere(s, (st) => st.state === 'streaming', 10_000);
      rmSync(link);
      symlinkSync(secret, link);
      const n = got.frames.length;
      process.kill(s.ffmpegPid!, 'SIGKILL');
      const failed = await statusWhere(s, (st) => st.state === 'failed', 10_000);
      expect(failed.error?.code).toBe('E_SOURCE_REFUSED');
      expect(failed.error?.message).toMatch(/outside every --media-root/);
      expect(processesMatching(secret)).toEqual([]);
      expect(got.frames.length - n).toBeLessThan(3);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
