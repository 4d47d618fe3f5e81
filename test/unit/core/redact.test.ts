import { describe, expect, it } from 'vitest';
import { redactText, redactUrl, urlSecrets } from '../../../src/core/redact.js';

describe('redactUrl', () => {
  it.each([
    ['rtsp://admin:s3cret@10.0.0.7:554/s', 'rtsp://admin:***@10.0.0.7:554/s'],
    ['rtsps://u:p%40ss@cam/live?channel=1', 'rtsps://u:***@cam/live?channel=1'],
    ['http://:only-password@h/mjpeg', 'http://:***@h/mjpeg'],
    ['https://h/live.m3u8?token=abc123&x=1', 'https://h/live.m3u8?token=***&x=1'],
    ['http://h/video.cgi?user=admin&pwd=hunter2', 'http://h/video.cgi?user=admin&pwd=***'],
    ['rtmp://h/app?Password=x&key=yyy', 'rtmp://h/app?Password=***&key=***'],
    ['rtsp://admin:p@ss@host/s', 'rtsp://admin:***@host/s'],
    ['rtsp://admin:p@ss@host:554', 'rtsp://admin:***@host:554'],
    ['https://cdn/x.m3u8?X-Amz-Credential=AKIA1&X-Amz-Signature=abc&X-Amz-Security-Token=t0k', 'https://cdn/x.m3u8?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***'],
    ['http://h/v?api_key=k123&apikey=k456', 'http://h/v?api_key=***&apikey=***'],
  ])('hides the secret in %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it.each(['rtsp://admin@10.0.0.7/s', 'rtsp://10.0.0.7/s?channel=1&subtype=0', '/data/run=3/clip.mp4', 'http://h/a?keyframe=1'])(
    'leaves %s without a secret as it is',
    (url) => {
      expect(redactUrl(url)).toBe(url);
    },
  );
});

describe('redactText', () => {
  it('hides every URL password in a message and keeps the rest', () => {
    const msg = "[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized rtsp://admin:s3cret@host/s: Server returned 401 (also rtsp://b:pw@x/y)";
    expect(redactText(msg)).toBe('[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized rtsp://admin:***@host/s: Server returned 401 (also rtsp://b:***@x/y)');
  });

  it('finds a password with an @ in it as one secret', () => {
    expect(urlSecrets('rtsp://admin:p@ss-word@host/s')).toContain('p@ss-word');
  });

  it('hides a known secret wherever it appears, as written and percent-decoded', () => {
    const url = 'rtsp://admin:p%40ss-word@host/s';
    const secrets = urlSecrets(url);
    expect(secrets).toEqual(expect.arrayContaining(['p%40ss-word', 'p@ss-word']));
    expect(redactText('auth with p@ss-word failed; p%40ss-word', secrets)).toBe('auth with *** failed; ***');
  });

  it('does not replace short secrets everywhere (the URL patterns still hide them in URLs)', () => {
    expect(redactText('a b c rtsp://u:ab@h/', urlSecrets('rtsp://u:ab@h/'))).toBe('a b c rtsp://u:***@h/');
  });
});
