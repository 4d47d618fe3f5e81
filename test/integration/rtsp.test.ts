import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec } from '../../src/ingest/index.js';
import { expectConsecutiveSeq, expectPicture640x480 } from '../helpers/frameChecks.js';
import { CCTV_640x480, collect } from '../helpers/media.js';
import { processesMatching, waitUntil } from '../helpers/processes.js';
import { rtspServerUnavailable, startRtspServer, type RtspServer } from '../helpers/rtspServer.js';
import { statesOf, statusWhere } from '../helpers/sourceStatus.js';

// Skips only when the system packages for the RTSP camera are missing (.ci/system-packages.txt).
const unavailable = rtspServerUnavailable();

describe.skipIf(unavailable !== undefined)(`CameraSource reading a real RTSP camera (gst-rtsp-server)${unavailable ? `: ${unavailable}` : ''}`, () => {
  const servers: RtspServer[] = [];
  const sources: CameraSource[] = [];
  afterAll(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('delivers frames, reconnects when the camera goes away, and flows again when it is back', async () => {
    // The mount path is unique, so pgrep -f on the URL finds this test's ffmpeg only.
    const mount = `/cam-${randomUUID()}`;
    const first = await startRtspServer({ file: CCTV_640x480, mount });
    servers.push(first);

    const s = new CameraSource(parseSourceSpec(`rtspcam=${first.url}`, 0), {
      ...DEFAULT_SOURCE_OPTIONS,
      modelWidth: 320,
      modelHeight: 320,
      networkTimeoutS: 2,
      stallTimeoutS: 3,
      reconnectMinMs: 100,
      reconnectMaxMs: 400,
    });
    sources.push(s);
    const states = statesOf(s);
    const got = collect(s.frames$);
    s.start();

    // 1. Frames arrive, as the file they come from.
    await waitUntil('10 frames over RTSP', () => got.frames.length >= 10, 20_000);
    expect(s.spec.kind).toBe('rtsp');
    expect(s.status).toMatchObject({ state: 'streaming', restarts: 0, stream: { width: 640, height: 480, codec: 'h264' } });
    for (const f of got.frames.slice(0, 10)) expectPicture640x480(f, 'rtspcam');

    // 2. The camera goes away: the source reports the broken stream and keeps trying.
    await first.stop();
    const downAt = performance.now();
    const broken = await statusWhere(s, (st) => st.state === 'reconnecting', 10_000);
    expect(['E_SOURCE_FAILED', 'E_SOURCE_STALLED']).toContain(broken.error?.code);
    expect(broken.restarts).toBe(1);
    await statusWhere(s, (st) => st.restarts >= 2, 10_000);
    const beforeBack = got.frames.length;

    // 3. The camera comes back on the same port: frames flow again, seq keeps counting.
    const second = await startRtspServer({ file: CCTV_640x480, mount, port: first.port });
    const backAt = performance.now();
    servers.push(second);
    await waitUntil('10 frames after the camera is back', () => got.frames.length >= beforeBack + 10, 20_000);
    expect(s.status.state).toBe('streaming');
    const streamingAgain = states.findIndex((st, i) => i > states.indexOf(broken) && st.state === 'streaming');
    expect(streamingAgain).toBeGreaterThan(0);
    expectConsecutiveSeq(got.frames);
    for (const f of got.frames.slice(beforeBack, beforeBack + 10)) expectPicture640x480(f, 'rtspcam');
    expect(states.some((st) => st.state === 'failed' || st.state === 'ended')).toBe(false);
    // Media time of a live camera is its arrival clock: it never goes back, and the outage
    // shows as the time it lasted (the stream's own pts restart at the reconnect).
    for (let i = 1; i < got.frames.length; i++) expect(got.frames[i]!.pts).toBeGreaterThan(got.frames[i - 1]!.pts);
    const gap = got.frames[beforeBack]!.pts - got.frames[beforeBack - 1]!.pts;
    expect(gap).toBeGreaterThanOrEqual(backAt - downAt - 50);

    // 4. stop() ends it: no ffmpeg for this camera is left. (The full URL, because
    // rtsp_server.py's own command line has the mount path too.)
    expect(processesMatching(first.url).length).toBeGreaterThan(0);
    await s.stop();
    expect(s.status.state).toBe('stopped');
    expect(got.isComplete()).toBe(true);
    expect(processesMatching(first.url)).toEqual([]);
  });
});
