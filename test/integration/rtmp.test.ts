import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec } from '../../src/ingest/index.js';
import { collect, VIDEOS } from '../helpers/media.js';
import { freePort, processesMatching } from '../helpers/processes.js';

/**
 * A real RTMP server that serves exactly one player: ffmpeg in listen mode, run once. Many
 * cheap cameras allow one session too, so segstream must open a source once (no probe
 * connection before the decoder): a second connection would find nobody listening.
 */
describe('RTMP camera (ffmpeg -listen 1 as the server)', () => {
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `rtmp://127.0.0.1:${port}/live/segstream-rtmp-${process.pid}`;
    const clip = `${VIDEOS}urban_street_overhead_cvTrafficCam.mp4`;
    server = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy', '-f', 'flv', '-listen', '1', url], {
      stdio: 'ignore',
      detached: true,
    });
    await new Promise((r) => setTimeout(r, 500));
  });

  afterAll(() => {
    if (server.pid) process.kill(-server.pid, 'SIGKILL');
  });

  it('delivers frames from rtmp:// over its one connection, and stop() leaves no client ffmpeg behind', async () => {
    const s = new CameraSource(parseSourceSpec(`road=${url}`, 0), {
      ...DEFAULT_SOURCE_OPTIONS,
      modelWidth: 320,
      modelHeight: 320,
      reconnectMinMs: 100,
      networkTimeoutS: 5,
    });
    const got = collect(s.frames$);
    s.start();
    const deadline = Date.now() + 30_000;
    while (got.frames.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(s.spec.kind).toBe('rtmp');
    expect(got.frames.length).toBeGreaterThanOrEqual(10);
    // One connection did it: no reconnect was needed.
    expect(s.status).toMatchObject({ state: 'streaming', restarts: 0 });
    const f = got.frames[0]!;
    expect(f.letterbox).toMatchObject({ srcWidth: 640, srcHeight: 360, innerWidth: 320, innerHeight: 180, padY: 70 });
    expect(f.data.length).toBe(640 * 360 * 3);
    // The client's ffmpeg reads "-i <url>"; the server's writes to the url after "-listen 1".
    const client = `[-]i ${url}`;
    expect(processesMatching(client).length).toBeGreaterThan(0);
    await s.stop();
    expect(processesMatching(client)).toEqual([]);
  });
});
