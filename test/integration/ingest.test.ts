import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/index.js';
import type { CameraSource, SourceStatus } from '../../src/ingest/index.js';
import { serveFiles } from '../helpers/httpServer.js';
import { expectConsecutiveSeq, expectPicture640x480 } from '../helpers/frameChecks.js';
import { CCTV_640x480, collect, countFrames, makeClip } from '../helpers/media.js';
import { freePort, processesMatching, sleep, waitUntil } from '../helpers/processes.js';
import { sourceFactory, statesOf, statusWhere } from '../helpers/sourceStatus.js';

// Real ffmpeg against the shared 640x480 30 fps CCTV clip (frames at 640x480; the worker letterboxes them to 320x320)
// (see expectPicture640x480).
const { source, stopAll } = sourceFactory('test', { realtime: false, loop: false });

let dir: string;
/** 2 s re-encoded from the CCTV clip: 640x480, 30 fps, constant rate. */
let clip: string;
let clipFrames: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segstream-ingest-'));
  clip = join(dir, 'clip2s.mp4');
  makeClip(CCTV_640x480, clip, 2);
  clipFrames = countFrames(clip);
});

afterEach(stopAll);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Plays the 2 s clip at `url` in realtime mode to its end: every frame arrives, spread over
 * about its media duration (unpaced, the whole clip decodes in well under half a second).
 * Loose bounds: this is pacing, not a benchmark.
 */
async function playPaced(url: string): Promise<{ frames: Frame[]; states: SourceStatus[] }> {
  const s = source(url, { realtime: true });
  const states = statesOf(s);
  const got = collect(s.frames$);
  const t0 = Date.now();
  s.start();
  await got.completed;
  expect(got.frames).toHaveLength(clipFrames);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
  expect(got.frames[got.frames.length - 1]!.timestamp - got.frames[0]!.timestamp).toBeGreaterThanOrEqual(1000);
  return { frames: got.frames, states };
}

describe('CameraSource reading a file', () => {
  it('read as fast as possible delivers every frame once, in order, at its own size with its letterbox, then ends', async () => {
    expect(clipFrames).toBe(60);
    const s = source(clip);
    const states = statesOf(s);
    const got = collect(s.frames$);
    s.start();
    await got.completed;

    expect(got.frames).toHaveLength(clipFrames);
    expectConsecutiveSeq(got.frames);
    for (const f of got.frames) expectPicture640x480(f, 'test');
    expect(states.map((st) => st.state)).toEqual(['connecting', 'streaming', 'ended']);
    expect(s.status).toMatchObject({ state: 'ended', restarts: 0, stream: { width: 640, height: 480, fps: 30, codec: 'h264' } });
    expect(s.status.error).toBeUndefined();
    expect(s.framesRead).toBe(clipFrames);
  });

  it('in realtime mode is paced at the file frame rate, with pts = the frames\' media time (seq * 1000 / fps here)', async () => {
    const { frames, states } = await playPaced(clip);
    frames.forEach((f, i) => expect(f.pts).toBeCloseTo((i * 1000) / 30, 6));
    expect(states.map((st) => st.state)).toEqual(['connecting', 'streaming', 'ended']);
  });

  it('with loop starts over at the end of the file and keeps counting seq', async () => {
    const s = source(clip, { loop: true });
    const states = statesOf(s);
    const got = collect(s.frames$);
    s.start();
    await waitUntil('2.5 passes over the clip', () => got.frames.length >= clipFrames * 2.5, 30_000);

    expect(got.isComplete()).toBe(false);
    expect(states.map((st) => st.state)).toEqual(['connecting', 'streaming']);
    await s.stop();
    expect(got.frames.length).toBeGreaterThan(clipFrames * 2);
    expectConsecutiveSeq(got.frames);
    // The second pass shows the same pictures as the first.
    expect(Buffer.from(got.frames[clipFrames]!.data).equals(Buffer.from(got.frames[0]!.data))).toBe(true);
    expect(Buffer.from(got.frames[clipFrames + 1]!.data).equals(Buffer.from(got.frames[1]!.data))).toBe(true);
  });

  it('paused delivers no frames (beyond one already read) and resumed carries on without losing any', async () => {
    const s = source(clip);
    let pausedAt = -1;
    const got = collect(s.frames$, (f) => {
      if (f.seq === 4) {
        s.pause();
        pausedAt = got.frames.length;
      }
    });
    s.start();
    await waitUntil('the pause at seq 4', () => pausedAt > 0, 20_000);
    // Unpaused, the whole 2 s clip decodes in well under this.
    await sleep(1000);
    const duringPause = got.frames.length - pausedAt;
    expect(duringPause).toBeLessThanOrEqual(2);
    expect(got.isComplete()).toBe(false);
    expect(s.status.state).toBe('streaming');

    s.resume();
    await got.completed;
    expect(got.frames).toHaveLength(clipFrames);
    expectConsecutiveSeq(got.frames);
    expect(s.status.state).toBe('ended');
  });

  it('stop() while streaming kills ffmpeg, completes frames$ and ends in stopped; a second stop() is harmless', async () => {
    // A unique file name, so pgrep finds this test's ffmpeg and nobody else's.
    const name = `segstream-stop-${randomUUID()}.mp4`;
    const linkDir = mkdtempSync(join(tmpdir(), 'segstream-stop-'));
    try {
      symlinkSync(CCTV_640x480, join(linkDir, name));
      const s = source(join(linkDir, name), { realtime: true });
      const got = collect(s.frames$);
      s.start();
      await waitUntil('3 frames', () => got.frames.length >= 3, 20_000);
      expect(processesMatching(name).length).toBeGreaterThan(0);

      await s.stop();
      expect(processesMatching(name)).toEqual([]);
      expect(got.isComplete()).toBe(true);
      expect(s.status.state).toBe('stopped');
      const n = got.frames.length;
      expect(n).toBeLessThan(900);

      await s.stop();
      await sleep(300);
      expect(got.frames.length).toBe(n);
      expect(s.status.state).toBe('stopped');
    } finally {
      rmSync(linkDir, { recursive: true, force: true });
    }
  });
});

describe('CameraSource reading over HTTP', () => {
  it('reads an mp4 from http://127.0.0.1 and delivers its frames', async () => {
    const server = await serveFiles({ '/clip.mp4': clip });
    try {
      const s = source(`${server.origin}/clip.mp4`);
      const got = collect(s.frames$);
      s.start();
      await waitUntil('10 frames', () => got.frames.length >= 10, 20_000);
      await s.stop();

      expect(server.requests).toContain('/clip.mp4');
      expect(s.spec.kind).toBe('http');
      expect(s.status.stream).toMatchObject({ width: 640, height: 480, fps: 30 });
      expectConsecutiveSeq(got.frames.slice(0, 10));
      for (const f of got.frames.slice(0, 10)) expectPicture640x480(f, 'test');
    } finally {
      await server.close();
    }
  });
});

describe('CameraSource reading an http(s) file (a stream report with a duration)', () => {
  it('in realtime mode is paced at its own frame rate, like a local file, and ends without reconnecting', async () => {
    const server = await serveFiles({ '/clip.mp4': clip });
    try {
      const { states } = await playPaced(`${server.origin}/clip.mp4`);
      expect(states.map((st) => st.state)).toEqual(['connecting', 'streaming', 'ended']);
      expect(states.every((st) => st.restarts === 0)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('with loop starts over at its end as a normal event: no reconnect, no error, seq and media time go on', async () => {
    const server = await serveFiles({ '/clip.mp4': clip });
    try {
      const s = source(`${server.origin}/clip.mp4`, { loop: true });
      const states = statesOf(s);
      const got = collect(s.frames$);
      s.start();
      await waitUntil('2.5 passes over the clip', () => got.frames.length >= clipFrames * 2.5, 30_000);
      await s.stop();

      expect(states.map((st) => st.state)).toEqual(['connecting', 'streaming', 'stopped']);
      expect(states.every((st) => st.error === undefined && st.restarts === 0)).toBe(true);
      expectConsecutiveSeq(got.frames);
      for (let i = 1; i < got.frames.length; i++) expect(got.frames[i]!.pts).toBeGreaterThan(got.frames[i - 1]!.pts);
      expect(Buffer.from(got.frames[clipFrames]!.data).equals(Buffer.from(got.frames[0]!.data))).toBe(true);
      expect(server.requests.filter((r) => r === '/clip.mp4').length).toBeGreaterThanOrEqual(3);
    } finally {
      await server.close();
    }
  });
});

describe('CameraSource with an unreadable file', () => {
  const cases: [string, () => string][] = [
    ['a missing file', () => join(dir, `no-such-clip-${randomUUID()}.mp4`)],
    [
      'a text file',
      () => {
        const text = join(dir, 'notes.mp4');
        writeFileSync(text, 'this is not a video\n'.repeat(100));
        return text;
      },
    ],
  ];
  for (const [what, make] of cases) {
    it(`${what} fails with E_SOURCE_UNREADABLE naming the path, without retries, and frames$ completes empty`, async () => {
      const path = make();
      const s = source(path);
      const got = collect(s.frames$);
      s.start();
      await got.completed;

      expect(got.frames).toEqual([]);
      expect(s.status.state).toBe('failed');
      expect(s.status.error?.code).toBe('E_SOURCE_UNREADABLE');
      expect(s.status.error?.message).toContain(path);
      expect(s.status.restarts).toBe(0);
    });
  }
});

describe('CameraSource with a dead live camera', () => {
  for (const scheme of ['rtsp', 'http'] as const) {
    it(`${scheme}:// on a closed port keeps reconnecting with growing restarts, and stop() leaves no ffmpeg`, async () => {
      const port = await freePort();
      // In the URL path, so pgrep -f finds this test's ffmpeg and nobody else's.
      const marker = `segstream-dead-${randomUUID()}`;
      const s = source(`${scheme}://127.0.0.1:${port}/${marker}`, { networkTimeoutS: 1, reconnectMinMs: 50, reconnectMaxMs: 200 });
      const states = statesOf(s);
      const got = collect(s.frames$);
      s.start();

      const first = await statusWhere(s, (st) => st.state === 'reconnecting', 10_000);
      expect(['E_SOURCE_UNREADABLE', 'E_SOURCE_FAILED']).toContain(first.error?.code);
      expect(first.error?.message).toContain(String(port));
      await statusWhere(s, (st) => st.restarts >= 3, 15_000);

      const restarts = states.filter((st) => st.state === 'reconnecting').map((st) => st.restarts);
      expect(restarts.slice(0, 3)).toEqual([1, 2, 3]);
      expect(states.some((st) => st.state === 'streaming')).toBe(false);
      expect(states.some((st) => st.state === 'failed' || st.state === 'ended')).toBe(false);
      expect(got.isComplete()).toBe(false);

      await s.stop();
      expect(s.status.state).toBe('stopped');
      expect(got.isComplete()).toBe(true);
      expect(got.frames).toEqual([]);
      expect(processesMatching(marker)).toEqual([]);
    });
  }
});

describe('CameraSource stopped while connecting to a camera that never answers', () => {
  // A TCP server that accepts and then says nothing: ffmpeg waits for networkTimeoutS.
  let silent: Server;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    silent = createServer((sock) => sockets.push(sock));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  async function stopWhileConnecting(networkTimeoutS: number): Promise<{ s: CameraSource; stopMs: number; marker: string }> {
    const marker = `segstream-silent-${randomUUID()}`;
    const s = source(`rtsp://127.0.0.1:${port}/${marker}`, { networkTimeoutS, reconnectMinMs: 50 });
    s.start();
    await waitUntil('ffmpeg connected', () => processesMatching(marker).length > 0 && sockets.length > 0, 5000);
    await sleep(200);
    expect(s.status.state).toBe('connecting');
    const t0 = Date.now();
    await s.stop();
    return { s, stopMs: Date.now() - t0, marker };
  }

  it('stop() ends in stopped and leaves no ffmpeg behind', async () => {
    const { s, marker } = await stopWhileConnecting(2);
    expect(s.status.state).toBe('stopped');
    expect(s.status.error).toBeUndefined();
    expect(processesMatching(marker)).toEqual([]);
  });

  // ffmpeg would wait networkTimeoutS (5 s here) for a camera that never answers.
  it('stop() kills ffmpeg hanging on the connection instead of waiting out networkTimeoutS', async () => {
    const { stopMs } = await stopWhileConnecting(5);
    expect(stopMs).toBeLessThan(1000);
  });
});
