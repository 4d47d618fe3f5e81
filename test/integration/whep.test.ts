import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import type { FrameMessage } from '../../src/publish/index.js';
import { postOffer, WhepViewer } from '../helpers/whepClient.js';

// WHEP with real ffmpeg, the real model and real @roamhq/wrtc peers on loopback. Vitest runs
// this file in its own forked process (the integration project's pool), as wrtc has crashed
// at process exit once a video track existed.
const SHARED = join(import.meta.dirname, '../../../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');

let app: App;
let port: number;
let dir: string;
let still: string;
/** The still camera's picture as I420 at its display size (640x480): what the video shows under the overlay. */
let clean: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'segstream-whep-'));
  still = join(dir, 'still.png');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-ss', '5', '-i', CLIP, '-frames:v', '1', still]);
  clean = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', still, '-vf', 'scale=640:480:flags=bilinear,format=yuv420p', '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 1 << 22 });
  const config = parseConfig({
    cameras: [
      { id: 'road', url: CLIP, loop: true },
      { id: 'still', url: still, loop: true },
    ],
    inference: { model: MODEL, threads: 1 },
    server: { host: '127.0.0.1', port: 0, whepMaxViewersPerCamera: 2, whepMaxViewers: 3, allowOrigins: ['http://player.example'] },
    ingest: { realtime: true },
  });
  app = await startApp(config);
  port = app.address.port;
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

function offerWithAudio(): string {
  // A browser-like offer (what WhepViewer sends, with audio), for requests made by hand.
  return ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=recvonly', 'a=rtpmap:96 VP8/90000', ''].join('\r\n');
}

describe('WHEP: POST /whep/<camera>', () => {
  it('answers an offer (video and audio recvonly) with 201, the full SDP answer, a Location and an ETag; the audio section is rejected; the peer decodes the camera at display size', async () => {
    const v = await WhepViewer.connect(port, 'road', { audio: true });
    try {
      const a = v.answer!;
      expect(a.status).toBe(201);
      expect(a.headers.get('content-type')).toBe('application/sdp');
      expect(a.headers.get('location')).toMatch(/^\/whep\/road\/[A-Za-z0-9_-]+$/);
      expect(a.headers.get('etag')).toMatch(/^".+"$/);
      // No server trickle: the answer carries its candidates.
      expect(a.body).toMatch(/^a=candidate:/m);
      const sections = a.body.split(/\r\n(?=m=)/);
      const videoSection = sections.find((s) => s.startsWith('m=video'))!;
      const audioSection = sections.find((s) => s.startsWith('m=audio'))!;
      expect(videoSection).toMatch(/^a=sendonly/m);
      expect(/^m=audio 0 /.test(audioSection) || /^a=inactive/m.test(audioSection)).toBe(true);
      await v.waitFrames(10);
      for (const f of v.frames) expect([f.width, f.height]).toEqual([640, 480]);
      expect(app.whep!.sessionCount).toBe(1);
      expect(app.cameras.require('road').video!.viewerCount).toBe(1);
    } finally {
      expect(await v.close(port)).toBe(200);
    }
    expect(app.whep!.sessionCount).toBe(0);
    expect(app.cameras.require('road').video!.viewerCount).toBe(0);
  });

  it('burns the overlay into the picture where the objects are, and leaves the rest of the picture as the camera shows it', async () => {
    const msg = (await firstValueFrom(app.published$.pipe(filter((p) => p.message.camera === 'still' && p.message.objects.length > 0)))).message as FrameMessage;
    const v = await WhepViewer.connect(port, 'still');
    try {
      // Frames after the encoder's first, blurrier ones.
      await v.waitFrames(40);
      const got = v.frames[v.frames.length - 1]!;
      expect([got.width, got.height]).toEqual([640, 480]);
      const W = 640;
      const H = 480;
      const boxes = msg.objects.map((o) => o.box);
      const inBox = (x: number, y: number, m: number): boolean => boxes.some(([x1, y1, x2, y2]) => x >= x1 - m && x < x2 + m && y >= y1 - m - 24 && y < y2 + m);
      // Mean absolute difference from the clean picture, chroma (U, V): the tint and the
      // boxes change the colour; the encoder barely does.
      let inside = 0;
      let nIn = 0;
      let outside = 0;
      let nOut = 0;
      const cw = W / 2;
      for (let cy = 0; cy < H / 2; cy++) {
        for (let cx = 0; cx < cw; cx++) {
          const [x, y] = [cx * 2, cy * 2];
          const u = W * H + cy * cw + cx;
          const vv = W * H + (W * H) / 4 + cy * cw + cx;
          const d = Math.abs(got.data[u]! - clean[u]!) + Math.abs(got.data[vv]! - clean[vv]!);
          if (inBox(x, y, 0)) {
            inside += d;
            nIn++;
          } else if (!inBox(x, y, 48)) {
            outside += d;
            nOut++;
          }
        }
      }
      expect(nIn).toBeGreaterThan(100);
      expect(nOut).toBeGreaterThan(1000);
      const [mIn, mOut] = [inside / nIn, outside / nOut];
      expect(mIn).toBeGreaterThan(6);
      expect(mIn).toBeGreaterThan(3 * mOut);
      expect(mOut).toBeLessThan(3);
    } finally {
      await v.close(port);
    }
  });

  it('refuses what it cannot serve: 415 for another content type, 404 for an unknown camera, 400 for a malformed offer or one without video, and goes on serving', async () => {
    const wrong = await postOffer(port, 'road', offerWithAudio(), 'text/plain');
    expect(wrong.status).toBe(415);
    expect(wrong.headers.get('accept-post')).toBe('application/sdp');
    expect(JSON.parse(wrong.body).error.code).toBe('E_MSG_INVALID');
    const unknown = await postOffer(port, 'nope', offerWithAudio());
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe('E_UNKNOWN_CAMERA');
    for (const garbage of ['', 'hello', 'v=0\r\nm=video x\r\n', 'm=video 9 RTP/AVP 0\r\n', `${offerWithAudio()}a=fingerprint:sha-256 zz\r\n`]) {
      const r = await postOffer(port, 'road', garbage);
      expect(r.status).toBe(400);
    }
    const huge = await postOffer(port, 'road', `m=video 9\r\n${'a=x\r\n'.repeat(20_000)}`).catch(() => ({ status: 413 }));
    expect(huge.status).toBe(413);
    expect(app.whep!.sessionCount).toBe(0);
    const v = await WhepViewer.connect(port, 'road');
    await v.waitFrames(3);
    await v.close(port);
  });

  it('answers OPTIONS with CORS and Accept-Post, PATCH with 204, and 404 for unknown sessions', async () => {
    const opt = await fetch(`http://127.0.0.1:${port}/whep/road`, { method: 'OPTIONS', headers: { origin: 'http://player.example' } });
    expect(opt.status).toBe(204);
    expect(opt.headers.get('accept-post')).toBe('application/sdp');
    expect(opt.headers.get('access-control-allow-origin')).toBe('http://player.example');
    expect(opt.headers.get('access-control-allow-methods')).toContain('POST');
    expect(opt.headers.get('access-control-expose-headers')).toContain('location');
    const v = await WhepViewer.connect(port, 'road');
    try {
      const url = `http://127.0.0.1:${port}${v.location}`;
      const frag = 'a=ice-ufrag:abcd\r\na=ice-pwd:efghijklmnopqrstuvwxyz12\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n';
      const patch = await fetch(url, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': v.answer!.headers.get('etag')! }, body: frag });
      expect(patch.status).toBe(204);
      expect((await fetch(url, { method: 'PATCH', headers: { 'content-type': 'application/sdp' }, body: frag })).status).toBe(415);
      expect((await fetch(url, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '"other"' }, body: frag })).status).toBe(412);
      expect((await fetch(`http://127.0.0.1:${port}/whep/road/nosuchsession`, { method: 'DELETE' })).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/whep/road/nosuchsession`, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag' }, body: frag })).status).toBe(404);
      // A session is only found under its own camera.
      expect((await fetch(url.replace('/whep/road/', '/whep/still/'), { method: 'DELETE' })).status).toBe(404);
      await v.waitFrames(3);
    } finally {
      expect(await v.close(port)).toBe(200);
    }
    // Deleted: gone.
    expect((await fetch(`http://127.0.0.1:${port}${v.location}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers 503 past the viewer limits (per camera, then in all), and serves again once a viewer leaves', async () => {
    const a = await WhepViewer.connect(port, 'road');
    const b = await WhepViewer.connect(port, 'road');
    const c = await WhepViewer.connect(port, 'road');
    expect([a.answer!.status, b.answer!.status, c.answer!.status]).toEqual([201, 201, 503]);
    expect(JSON.parse(c.answer!.body).error.code).toBe('E_TOO_MANY_CLIENTS');
    const d = await WhepViewer.connect(port, 'still');
    const e = await WhepViewer.connect(port, 'still');
    expect([d.answer!.status, e.answer!.status]).toEqual([201, 503]);
    await Promise.all([a, c, d, e].map((x) => x.close(port)));
    const f = await WhepViewer.connect(port, 'road');
    expect(f.answer!.status).toBe(201);
    await Promise.all([b, f].map((x) => x.close(port)));
    expect(app.whep!.sessionCount).toBe(0);
  });

  it('frees every peer on DELETE: 20 connect / watch / disconnect cycles leave no session, no threads, no file descriptors, and RSS where it was', async () => {
    const threads = (): number => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    const fds = (): number => readdirSync('/proc/self/fd').length;
    // One cycle first: wrtc's own threads and pools start with the first peer.
    const warm = await WhepViewer.connect(port, 'road');
    await warm.waitFrames(2);
    await warm.close(port);
    await new Promise((r) => setTimeout(r, 500));
    const before = { rss: process.memoryUsage().rss, threads: threads(), fds: fds() };
    for (let i = 0; i < 20; i++) {
      const v = await WhepViewer.connect(port, i % 2 ? 'road' : 'still', { audio: i % 3 === 0 });
      expect(v.answer!.status).toBe(201);
      await v.waitFrames(2);
      expect(await v.close(port)).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(app.whep!.sessionCount).toBe(0);
    expect(app.cameras.list().map((c) => c.video!.viewerCount)).toEqual([0, 0]);
    const after = { rss: process.memoryUsage().rss, threads: threads(), fds: fds() };
    expect(after.threads - before.threads).toBeLessThanOrEqual(4);
    expect(after.fds - before.fds).toBeLessThanOrEqual(8);
    expect(after.rss - before.rss).toBeLessThan(150 * 1024 * 1024);
  });

  it('counts display frames whose result never came, and the video latency and sessions, on /metrics', async () => {
    const road = app.cameras.require('road');
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^segstream_whep_sessions 0$/m);
    expect(text).toMatch(/^segstream_video_latency_seconds_count\{camera="road"\} [1-9]/m);
    // Every frame the scheduler dropped lost its display frame at once; no other display
    // frame was lost (a frame in inference now, or one whose inference failed, at most).
    expect(road.framesDropped).toBeGreaterThan(0);
    expect(text).toMatch(/^segstream_display_frames_dropped_total\{camera="road"\} [1-9]/m);
    expect(road.displayFramesDropped - road.framesDropped).toBeGreaterThanOrEqual(0);
    expect(road.displayFramesDropped - road.framesDropped).toBeLessThanOrEqual(2);
    // What waits: the frames in the scheduler slot and in inference.
    expect(road.displayFramesHeld).toBeLessThanOrEqual(3);
  });

  it("ends a removed camera's sessions (peers closed) and answers 404 for it afterwards", async () => {
    const v = await WhepViewer.connect(port, 'still');
    await v.waitFrames(2);
    expect(app.whep!.sessionCount).toBe(1);
    await app.cameras.remove('still');
    expect(app.whep!.sessionCount).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}${v.location}`, { method: 'DELETE' })).status).toBe(404);
    expect((await postOffer(port, 'still', offerWithAudio())).status).toBe(404);
    v.pc.close();
  });
});
