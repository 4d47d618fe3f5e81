import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSourceSpec, resolveSource } from '../../../src/ingest/index.js';
import { thrownSegstreamError } from '../../helpers/errors.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'segstream-policy-')));
const root = join(dir, 'media');
const outside = join(dir, 'elsewhere');
mkdirSync(root);
mkdirSync(outside);
writeFileSync(join(root, 'clip.mp4'), 'x');
writeFileSync(join(outside, 'secret.mp4'), 'x');
symlinkSync(join(outside, 'secret.mp4'), join(root, 'link.mp4'));
symlinkSync(join(root, 'clip.mp4'), join(outside, 'into-root.mp4'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (url: string) => parseSourceSpec(`cam=${url}`, 0);
const refused = (url: string, mediaRoots: string[] = [root]) => thrownSegstreamError(() => resolveSource(spec(url), { mediaRoots }));

describe('resolveSource', () => {
  it('gives ffmpeg the resolved path of a file inside a media root', () => {
    expect(resolveSource(spec(join(root, 'clip.mp4')), { mediaRoots: [root] }).url).toBe(join(root, 'clip.mp4'));
    // A link from outside that points into the root is judged (and opened) where it leads.
    expect(resolveSource(spec(join(outside, 'into-root.mp4')), { mediaRoots: [root] }).url).toBe(join(root, 'clip.mp4'));
  });

  it('refuses a file outside every media root, also through a symbolic link inside one', () => {
    expect(refused(join(outside, 'secret.mp4'))).toMatchObject({ code: 'E_SOURCE_REFUSED', message: expect.stringContaining('outside every --media-root') });
    const viaLink = refused(join(root, 'link.mp4'));
    expect(viaLink.code).toBe('E_SOURCE_REFUSED');
    expect(viaLink.actual).toBe(join(outside, 'secret.mp4'));
    expect(refused(join(root, '..', 'elsewhere', 'secret.mp4')).code).toBe('E_SOURCE_REFUSED');
  });

  it('refuses what is not a regular file (a device, a directory), with or without roots', () => {
    expect(refused('/dev/zero', [])).toMatchObject({ code: 'E_SOURCE_REFUSED', message: expect.stringContaining('not a regular file') });
    expect(refused(root, []).code).toBe('E_SOURCE_REFUSED');
  });

  it('leaves a missing file to fail at run time (like a camera that is down), but not outside the roots', () => {
    expect(resolveSource(spec(join(root, 'later.mp4')), { mediaRoots: [root] }).url).toBe(join(root, 'later.mp4'));
    expect(resolveSource(spec('/nonexistent/camera.mp4'), { mediaRoots: [] }).url).toBe('/nonexistent/camera.mp4');
    expect(refused('/nonexistent/camera.mp4').code).toBe('E_SOURCE_REFUSED');
  });

  it('refuses rtsps:// unless TLS verification is off (ffmpeg 5.1 cannot verify an RTSP server)', () => {
    const err = thrownSegstreamError(() => resolveSource(spec('rtsps://cam/s'), { mediaRoots: [] }));
    expect(err).toMatchObject({ code: 'E_SOURCE_REFUSED', message: expect.stringContaining('--no-tls-verify') });
    expect(resolveSource(spec('rtsps://cam/s'), { mediaRoots: [], tlsVerify: false }).url).toBe('rtsps://cam/s');
  });

  it('accepts a file whose name begins with two dots inside a root', () => {
    writeFileSync(join(root, '..clip.mp4'), 'x');
    expect(resolveSource(spec(join(root, '..clip.mp4')), { mediaRoots: [root] }).url).toBe(join(root, '..clip.mp4'));
  });

  it('passes network and webcam sources unchanged', () => {
    for (const url of ['rtsp://h/s', 'https://h/live.m3u8', 'rtmps://h/app/key', '/dev/video0']) {
      expect(resolveSource(spec(url), { mediaRoots: [root] }).url).toBe(url);
    }
  });
});
