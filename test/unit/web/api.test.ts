import { describe, expect, it } from 'vitest';
import { Api, ApiError, dataUrl, errorOf, errorText, type CallInit } from '../../../web/api.js';

describe('dashboard API calls', () => {
  it('errorOf takes the server\'s {error: {code, message}}, else the status and the body\'s start', () => {
    const e = errorOf(400, JSON.stringify({ error: { code: 'E_CONFIG', message: 'zones[0].polygon: too few points' } }));
    expect(e).toMatchObject({ status: 400, code: 'E_CONFIG', message: 'zones[0].polygon: too few points' });
    expect(errorText(e)).toBe('zones[0].polygon: too few points (E_CONFIG)');
    expect(errorOf(502, '<html>bad gateway</html>')).toMatchObject({ code: 'HTTP 502', message: 'HTTP 502: <html>bad gateway</html>' });
    expect(errorText(errorOf(500, ''))).toBe('HTTP 500');
    expect(errorText(new Error('x'))).toBe('x');
  });

  it('sends the token as a Bearer header (never in the URL) and JSON bodies with their type', async () => {
    const calls: { url: string; init: CallInit }[] = [];
    const api = new Api('tok', async (url, init) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ zones: [] }), { status: 200, headers: { 'content-type': 'application/json' } });
    });
    expect(await api.getJson('/api/cameras/road/zones')).toEqual({ zones: [] });
    await api.putJson('/api/cameras/road/zones', [{ name: 'a' }]);
    expect(calls[0]!.url).toBe('/api/cameras/road/zones');
    expect(calls[0]!.init.headers).toMatchObject({ authorization: 'Bearer tok' });
    expect(calls[1]!.init).toMatchObject({ method: 'PUT', body: '[{"name":"a"}]', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' } });
    const open = new Api(undefined, async (_url, init) => {
      calls.push({ url: _url, init });
      return new Response('{}');
    });
    await open.getJson('/events');
    expect(calls[2]!.init.headers).not.toHaveProperty('authorization');
  });

  it('a refusal rejects with its code and message; no answer at all with E_NETWORK', async () => {
    const refused = new Api('t', async () => new Response(JSON.stringify({ error: { code: 'E_CONFIG', message: 'rules[0].seconds: too big' } }), { status: 400 }));
    await expect(refused.putJson('/api/cameras/road/zones', [])).rejects.toMatchObject({ status: 400, code: 'E_CONFIG', message: 'rules[0].seconds: too big' });
    const down = new Api('t', async () => {
      throw new TypeError('Failed to fetch');
    });
    const err = await down.getJson('/events?limit=1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 0, code: 'E_NETWORK', message: 'GET /events: no answer (Failed to fetch)' });
  });

  it('images come as data: URLs of their bytes (the CSP allows data:); a body that is not an image is refused', async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => i % 251);
    expect(dataUrl('image/jpeg', bytes)).toBe(`data:image/jpeg;base64,${Buffer.from(bytes).toString('base64')}`);
    const api = new Api('t', async () => new Response(bytes, { headers: { 'content-type': 'image/jpeg' } }));
    expect(await api.imageDataUrl('/events/e1/snapshot.jpg')).toBe(`data:image/jpeg;base64,${Buffer.from(bytes).toString('base64')}`);
    const html = new Api('t', async () => new Response('<p>', { headers: { 'content-type': 'text/html' } }));
    await expect(html.imageDataUrl('/events/e1/snapshot.jpg')).rejects.toMatchObject({ code: 'E_NOT_IMAGE' });
  });
});
