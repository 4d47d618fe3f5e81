import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { computeLetterbox, type Frame } from '../../src/core/index.js';
import type { CameraSource, CameraSourceOptions } from '../../src/ingest/index.js';
import { expectConsecutiveSeq } from '../helpers/frameChecks.js';
import { CCTV_640x480, collect, frameIndexOf, makeCountingClip } from '../helpers/media.js';
import { processesMatching, sleep, waitUntil } from '../helpers/processes.js';
import { rtspServerUnavailable, startRtspServer, type RtspServer } from '../helpers/rtspServer.js';
import { sourceFactory, statesOf, statusWhere } from '../helpers/sourceStatus.js';

// Faults an unlucky operator meets: ffmpeg killed or frozen, files cut short, a stream that
// changes size. Each recovers or fails as docs/errors.md says, with real ffmpeg and servers.
const { source, stopAll } = sourceFactory('cam', { realtime: true, loop: false, reconnectMinMs: 200 });

let dir: string;
/** 2 s, 30 fps: frame n shows grey 16 + 3n (frameIndexOf reads it back). */
let counting: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segstream-faults-'));
  counting = join(dir, `counting-${randomUUID()}.mp4`);
  makeCountingClip(counting, 2);
});

afterEach(stopAll);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  expect(pid).toBeGreaterThan(0);
  process.kill(pid!, sig);
}

/** `times` times: wait for `framesBetween` more frames, kill -9 the source's ffmpeg, wait for the reconnect. */
async function killRepeatedly(s: CameraSource, frames: readonly Frame[], times: number, framesBetween: number): Promise<void> {
  for (let k = 1; k <= times; k++) {
    const n = frames.length;
    await waitUntil(`frames before kill ${k}`, () => frames.length >= n + framesBetween, 20_000);
    signal(s.ffmpegPid, 'SIGKILL');
    await statusWhere(s, (st) => st.restarts === k && st.state === 'reconnecting', 5000);
  }
}

/** The clip's frame indices as delivered, in order. */
const indices = (frames: readonly Frame[]): number[] => frames.map(frameIndexOf);

describe('a file camera whose ffmpeg dies', () => {
  it('killed with SIGKILL mid-file reconnects and resumes at the next frame, not at the start, then ends', async () => {
    const s = source(counting);
    const states = statesOf(s);
    const got = collect(s.frames$);
    s.start();
    await waitUntil('two thirds of a second of frames', () => got.frames.length >= 20, 20_000);
    const pid = s.ffmpegPid;
    signal(pid, 'SIGKILL');
    const broken = await statusWhere(s, (st) => st.state === 'reconnecting', 5000);
    expect(broken.error?.code).toBe('E_SOURCE_FAILED');
    expect(broken.error?.message).toContain('SIGKILL');
    await got.completed;

    expect(s.status).toMatchObject({ state: 'ended', restarts: 1 });
    expect(states.map((st) => st.state)).toEqual(['connecting', 'streaming', 'reconnecting', 'streaming', 'ended']);
    expectConsecutiveSeq(got.frames);
    // Every frame of the clip once (a frame or two in the pipe at the kill may be lost), in order.
    const seen = indices(got.frames);
    expect(seen[0]).toBe(0);
    expect(seen[seen.length - 1]).toBe(59);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]! - seen[i - 1]!).toBeGreaterThanOrEqual(1);
      expect(seen[i]! - seen[i - 1]!).toBeLessThanOrEqual(3);
    }
    expect(processesMatching(counting)).toEqual([]);
    // Media time goes on across the restart.
    for (let i = 1; i < got.frames.length; i++) expect(got.frames[i]!.pts).toBeGreaterThan(got.frames[i - 1]!.pts);
  });

  it('frozen with SIGSTOP past the stall timeout is killed and resumes where it was', async () => {
    const s = source(counting, { stallTimeoutS: 1 });
    const got = collect(s.frames$);
    s.start();
    await waitUntil('half a second of frames', () => got.frames.length >= 15, 20_000);
    const pid = s.ffmpegPid!;
    signal(pid, 'SIGSTOP');
    const stalled = await statusWhere(s, (st) => st.state === 'reconnecting', 5000);
    expect(stalled.error?.code).toBe('E_SOURCE_STALLED');
    await got.completed;

    expect(s.status.state).toBe('ended');
    const seen = indices(got.frames);
    expect(seen[seen.length - 1]).toBe(59);
    const resumedAt = got.frames.findIndex((f, i) => i > 0 && f.timestamp - got.frames[i - 1]!.timestamp > 800);
    expect(resumedAt).toBeGreaterThan(10);
    expect(seen[resumedAt]! - seen[resumedAt - 1]!).toBeGreaterThanOrEqual(1);
    expect(seen[resumedAt]! - seen[resumedAt - 1]!).toBeLessThanOrEqual(3);
    // The frozen process was killed, not left behind.
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('killed before it said anything about the file, retries instead of calling the file unreadable', async () => {
    const s = source(counting, { realtime: false, reconnectMinMs: 50 });
    const states = statesOf(s);
    const got = collect(s.frames$);
    s.start();
    await waitUntil('ffmpeg started', () => s.ffmpegPid !== undefined, 10_000);
    signal(s.ffmpegPid, 'SIGKILL');
    await got.completed;
    expect(states.some((st) => st.state === 'failed')).toBe(false);
    expect(s.status.state).toBe('ended');
    expect(indices(got.frames).slice(-1)).toEqual([59]);
  });

  it('paced (its pipe paused between frames) and killed again and again, leaves no file descriptor behind', async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    const s = source(counting, { loop: true, reconnectMinMs: 50 });
    const got = collect(s.frames$);
    s.start();
    await killRepeatedly(s, got.frames, 5, 5);
    await s.stop();
    await waitUntil('descriptors closed', () => fds() <= before, 5000);
  });

  it('looped, comes back after every kill -9 and never ends up failed', async () => {
    const s = source(counting, { loop: true, realtime: false, reconnectMinMs: 50 });
    const states = statesOf(s);
    const got = collect(s.frames$);
    s.start();
    await killRepeatedly(s, got.frames, 3, 20);
    const before = got.frames.length;
    await waitUntil('frames after the last kill', () => got.frames.length >= before + 100, 20_000);
    expect(s.status).toMatchObject({ state: 'streaming', restarts: 3 });
    expect(states.some((st) => st.state === 'failed' || st.state === 'ended')).toBe(false);
    expectConsecutiveSeq(got.frames);
  });
});

describe('a looped file that ffmpeg cannot seek back in (raw H.264: "Seek to start failed")', () => {
  it('starts over at its end as a normal event, with no reconnect and no error', async () => {
    const raw = join(dir, 'raw.h264');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', counting, '-c:v', 'libx264', '-qp', '0', '-g', '1', '-f', 'h264', raw]);
    const s = source(raw, { loop: true, realtime: false });
    const states = statesOf(s);
    const got = collect(s.frames$);
    s.start();
    await waitUntil('three passes over the clip', () => got.frames.length >= 150, 30_000);
    await s.stop();
    expect(states.map((st) => st.state)).toEqual(['connecting', 'streaming', 'stopped']);
    expect(states.every((st) => st.error === undefined && st.restarts === 0)).toBe(true);
    expectConsecutiveSeq(got.frames);
    const seen = indices(got.frames);
    expect(seen.slice(60, 70)).toEqual(seen.slice(0, 10));
  });
});

describe('a truncated file', () => {
  /** Reads the first half of `whole` to its end, as fast as possible. */
  async function playFirstHalf(whole: string): Promise<{ s: CameraSource; frames: Frame[] }> {
    const cut = join(dir, `cut-${randomUUID()}.mp4`);
    const bytes = readFileSync(whole);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.5)));
    const s = source(cut, { realtime: false });
    const got = collect(s.frames$);
    s.start();
    await got.completed;
    return { s, frames: got.frames };
  }

  it('with its index in front plays up to the cut and then ends', async () => {
    const { s, frames } = await playFirstHalf(counting);
    expect(s.status.state).toBe('ended');
    expect(frames.length).toBeGreaterThan(10);
    expect(frames.length).toBeLessThan(60);
    expect(indices(frames)).toEqual(frames.map((_, i) => i));
  });

  it('with its index at the end is unreadable: failed with E_SOURCE_UNREADABLE, no retries', async () => {
    const indexAtEnd = join(dir, 'index-at-end.mp4');
    makeCountingClip(indexAtEnd, 2, 30, '160x120', []);
    const { s, frames } = await playFirstHalf(indexAtEnd);
    expect(frames).toEqual([]);
    expect(s.status).toMatchObject({ state: 'failed', restarts: 0, error: { code: 'E_SOURCE_UNREADABLE' } });
  });
});

/** The frame is the whole red picture at its own size (capped at 1280 wide), and its letterbox says so. */
function expectWholePicture(f: Frame, srcW: number, srcH: number): void {
  const frameW = Math.min(srcW, 1280);
  const frameH = srcW > 1280 ? Math.round((srcH * 1280) / srcW) : srcH;
  expect(f.letterbox).toEqual(computeLetterbox(srcW, srcH, 320, 320, frameW, frameH));
  expect([f.width, f.height, f.data.length]).toEqual([frameW, frameH, frameW * frameH * 3]);
  let notRed = 0;
  for (let i = 0; i < f.data.length; i += 3) if (!(f.data[i]! > 200 && f.data[i + 1]! < 60 && f.data[i + 2]! < 60)) notRed++;
  expect({ srcW, srcH, notRed }).toEqual({ srcW, srcH, notRed: 0 });
}

/** A red clip of `frames` frames at `size`, 4:4:4 so odd sizes encode. */
function redClip(dest: string, size: string, frames: number, format: string[] = []): void {
  execFileSync(
    'ffmpeg',
    // format= right after the source: lavfi's colour source alone rounds odd sizes down to even.
    ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=c=red:s=${size}:r=30,format=yuv444p`, '-frames:v', String(frames),
      '-c:v', 'libx264', '-qp', '0', '-g', '10', '-pix_fmt', 'yuv444p', ...format, dest],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

describe('the picture ingest delivers', () => {
  it.each([
    [641, 359],
    [333, 777],
    [1001, 1000],
    [100, 3001],
    [1920, 1080],
  ])('is a %ix%i source whole, at its own size or scaled to the cap, with its letterbox', async (w, h) => {
    const clip = join(dir, `red-${w}x${h}.mkv`);
    redClip(clip, `${w}x${h}`, 3);
    const s = source(clip, { realtime: false });
    const got = collect(s.frames$);
    s.start();
    await got.completed;
    expect(got.frames).toHaveLength(3);
    expectWholePicture(got.frames[2]!, w, h);
  });
});

describe('a stream that changes resolution', () => {
  it('is followed at each new size by the same ffmpeg, every frame with its own size and letterbox, each size reported', async () => {
    const sizes = [
      [640, 480],
      [640, 360],
      [1281, 721],
    ] as const;
    const parts = sizes.map(([w, h]) => {
      const part = join(dir, `part-${w}x${h}.ts`);
      redClip(part, `${w}x${h}`, 20, ['-f', 'mpegts']);
      return readFileSync(part);
    });
    const changing = join(dir, 'changing.ts');
    writeFileSync(changing, Buffer.concat(parts));
    const s = source(changing, { realtime: false });
    const states = statesOf(s);
    const got = collect(s.frames$);
    s.start();
    await got.completed;

    // ffmpeg 5.1 loses the one frame inside its filter graph when it rebuilds the graph for
    // the new size; no other frame is lost, and no restart is needed.
    expect(got.frames.length).toBeGreaterThanOrEqual(58);
    expectConsecutiveSeq(got.frames);
    expect(s.status).toMatchObject({ state: 'ended', restarts: 0 });
    // Every frame's letterbox describes its own picture.
    for (const f of got.frames) expectWholePicture(f, f.letterbox.srcWidth, f.letterbox.srcHeight);
    const runs: [number, number, number][] = [];
    for (const f of got.frames) {
      const last = runs[runs.length - 1];
      if (last && last[0] === f.letterbox.srcWidth && last[1] === f.letterbox.srcHeight) last[2]++;
      else runs.push([f.letterbox.srcWidth, f.letterbox.srcHeight, 1]);
    }
    expect(runs.map(([w, h]) => [w, h])).toEqual(sizes.map(([w, h]) => [w, h]));
    for (const [, , n] of runs) expect(n).toBeGreaterThanOrEqual(19);
    const reported = states.filter((st) => st.state === 'streaming').map((st) => [st.stream?.width, st.stream?.height]);
    expect(reported).toEqual(sizes.map(([w, h]) => [w, h]));
  });
});

const rtspUnavailable = rtspServerUnavailable();

describe.skipIf(rtspUnavailable !== undefined)(`an RTSP camera (gst-rtsp-server)${rtspUnavailable ? `: ${rtspUnavailable}` : ''}`, () => {
  const servers: RtspServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  async function camera(options: Partial<CameraSourceOptions> = {}): Promise<{ s: CameraSource; got: ReturnType<typeof collect>; server: RtspServer }> {
    const server = await startRtspServer({ file: CCTV_640x480, mount: `/faults-${randomUUID()}` });
    servers.push(server);
    const s = source(server.url, { networkTimeoutS: 2, stallTimeoutS: 2, ...options });
    const got = collect(s.frames$);
    s.start();
    await waitUntil('10 frames over RTSP', () => got.frames.length >= 10, 20_000);
    return { s, got, server };
  }

  it.each([
    ['SIGKILL', 'E_SOURCE_FAILED'],
    ['SIGSTOP', 'E_SOURCE_STALLED'],
  ] as const)('whose ffmpeg gets %s reconnects (%s) and streams again', async (sig, code) => {
    const { s, got } = await camera();
    const pid = s.ffmpegPid!;
    signal(pid, sig);
    const broken = await statusWhere(s, (st) => st.state === 'reconnecting', 10_000);
    expect(broken.error?.code).toBe(code);
    const before = got.frames.length;
    await waitUntil('frames after the reconnect', () => got.frames.length >= before + 10, 20_000);
    expect(s.status.state).toBe('streaming');
    expect(s.status.restarts).toBeGreaterThanOrEqual(1);
    expect(s.ffmpegPid).not.toBe(pid);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('that is away for a few seconds streams again within 3 s of coming back (retried every second at first)', async () => {
    const { s, got, server } = await camera({ reconnectMinMs: 1000 });
    await server.stop();
    await statusWhere(s, (st) => st.state === 'reconnecting', 10_000);
    await sleep(4000);
    // Still retrying once a second: no long backoff after 4 s down.
    const restartsWhileDown = s.status.restarts;
    expect(restartsWhileDown).toBeGreaterThanOrEqual(3);
    const back = await startRtspServer({ file: CCTV_640x480, mount: new URL(server.url).pathname, port: server.port });
    servers.push(back);
    const t0 = Date.now();
    const before = got.frames.length;
    await waitUntil('a frame after the camera is back', () => got.frames.length > before, 10_000);
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
