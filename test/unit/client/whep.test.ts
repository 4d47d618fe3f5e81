import { describe, expect, it } from 'vitest';
import { checkWhepAnswer, postWhepOffer, watchWhep, whepEndpoint, type FetchLike, type PeerConnectionLike, type ResponseLike } from '../../../src/client/index.js';

const ANSWER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function response(status: number, body = '', headers: Record<string, string> = {}): ResponseLike {
  const h = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { status, headers: { get: (n) => h.get(n.toLowerCase()) ?? null }, text: async () => body };
}

/** A fetch that records its calls and answers from a list. */
function fakeFetch(...answers: ResponseLike[]): FetchLike & { calls: Call[] } {
  const calls: Call[] = [];
  const f = async (url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<ResponseLike> => {
    calls.push({ url, ...init });
    const a = answers.shift();
    if (!a) throw new Error('no more answers');
    return a;
  };
  return Object.assign(f, { calls });
}

class FakePeer implements PeerConnectionLike {
  static last: FakePeer | undefined;
  localDescription: { type: string; sdp: string } | null = null;
  iceGatheringState = 'new';
  connectionState = 'new';
  onicegatheringstatechange: ((ev: never) => void) | null = null;
  onconnectionstatechange: ((ev: never) => void) | null = null;
  ontrack: ((ev: never) => void) | null = null;
  transceivers: unknown[] = [];
  remote: unknown;
  closed = 0;
  constructor(readonly config: unknown) {
    FakePeer.last = this;
  }
  addTransceiver(kind: 'video', init: { direction: 'recvonly' }): unknown {
    this.transceivers.push([kind, init]);
    return {};
  }
  async createOffer() {
    return { type: 'offer', sdp: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\n' };
  }
  async setLocalDescription(d: { type?: string; sdp?: string }) {
    this.iceGatheringState = 'gathering';
    // Candidates gathered a little later, as a browser does.
    setTimeout(() => {
      this.localDescription = { type: 'offer', sdp: `${d.sdp}a=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\n` };
      this.iceGatheringState = 'complete';
      (this.onicegatheringstatechange as (() => void) | null)?.();
    }, 5);
  }
  async setRemoteDescription(d: unknown) {
    this.remote = d;
  }
  close() {
    this.closed++;
  }
  fireTrack(ev: { track: unknown; streams: unknown[] }) {
    (this.ontrack as ((e: typeof ev) => void) | null)?.(ev);
  }
}

function video() {
  return { srcObject: null as unknown, muted: false, played: 0, async play() { this.played++; } };
}

describe('WHEP (client side)', () => {
  it('whepEndpoint puts the encoded camera id under /whep/ of the base, whatever the base path or query', () => {
    expect(whepEndpoint('http://h:8080', 'cam0')).toBe('http://h:8080/whep/cam0');
    expect(whepEndpoint('http://h:8080/?token=x', 'a b/c')).toBe('http://h:8080/whep/a%20b%2Fc');
    expect(whepEndpoint('https://h/segstream', 'gate.1')).toBe('https://h/segstream/whep/gate.1');
    // Valid camera ids, but URL parsers drop them from a path (%2E%2E too): never sent to another path.
    expect(() => whepEndpoint('https://h/segstream', '..')).toThrow(/cannot be part of a URL path/);
    expect(() => whepEndpoint('https://h/', '.')).toThrow(/cannot be part of a URL path/);
  });

  it('postWhepOffer POSTs application/sdp with the token as a Bearer header and resolves the Location against the endpoint', async () => {
    const f = fakeFetch(response(201, ANSWER, { location: '/whep/cam0/sessions/abc', etag: '"1"', 'content-type': 'application/sdp' }));
    const got = await postWhepOffer({ endpoint: 'http://h:8080/whep/cam0', sdp: 'v=0 offer', token: 's3cret', fetch: f });
    expect(got).toEqual({ answer: ANSWER, location: 'http://h:8080/whep/cam0/sessions/abc', etag: '"1"' });
    expect(f.calls).toEqual([
      {
        url: 'http://h:8080/whep/cam0',
        method: 'POST',
        headers: { 'content-type': 'application/sdp', accept: 'application/sdp', authorization: 'Bearer s3cret' },
        body: 'v=0 offer',
      },
    ]);
  });

  it('postWhepOffer rejects with the server code and the HTTP status (401, 404, 503), E_WHEP without a JSON body or without Location', async () => {
    const refused = (status: number, body: string) => postWhepOffer({ endpoint: 'http://h/whep/x', sdp: 'v=0', fetch: fakeFetch(response(status, body)) }).catch((e: unknown) => e);
    expect(await refused(401, '{"error":{"code":"E_UNAUTHORIZED","message":"the access token is wrong"}}')).toMatchObject({ code: 'E_UNAUTHORIZED', status: 401 });
    expect(await refused(404, '{"error":{"code":"E_UNKNOWN_CAMERA","message":"no"}}')).toMatchObject({ code: 'E_UNKNOWN_CAMERA', status: 404 });
    expect(await refused(503, 'busy')).toMatchObject({ code: 'E_WHEP', status: 503, message: 'WHEP offer refused: HTTP 503' });
    expect(await refused(201, ANSWER)).toMatchObject({ code: 'E_WHEP', message: /no Location/ });
  });

  it('checkWhepAnswer refuses an answer without video or with the video section rejected (port 0)', () => {
    expect(() => checkWhepAnswer(ANSWER)).not.toThrow();
    expect(() => checkWhepAnswer('<html>')).toThrow(/not SDP/);
    expect(() => checkWhepAnswer('v=0\r\nm=audio 9 RTP/AVP 0\r\n')).toThrow(/no video section/);
    expect(() => checkWhepAnswer('v=0\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\n')).toThrow(/rejects the video/);
  });

  it('watchWhep: one recvonly video transceiver, the offer posted after ICE gathering, the answer set, the track shown; stop() closes and DELETEs once', async () => {
    const f = fakeFetch(response(201, ANSWER, { location: 'sessions/1' }), response(200));
    const v = video();
    const states: string[] = [];
    const session = await watchWhep('cam 1', v, { token: 't', baseUrl: 'http://h:8080', fetch: f, RTCPeerConnection: FakePeer, onState: (s) => states.push(s) });
    const pc = FakePeer.last!;
    expect(pc.transceivers).toEqual([['video', { direction: 'recvonly' }]]);
    expect(f.calls[0]!.url).toBe('http://h:8080/whep/cam%201');
    expect(f.calls[0]!.body).toContain('a=candidate:1'); // gathered before posting: no trickle
    expect(pc.remote).toEqual({ type: 'answer', sdp: ANSWER });
    expect(session.location).toBe('http://h:8080/whep/sessions/1');
    const stream = { id: 'stream' };
    pc.fireTrack({ track: {}, streams: [stream] });
    expect(v.srcObject).toBe(stream);
    expect(v.muted).toBe(true);
    expect(v.played).toBe(1);
    pc.connectionState = 'failed';
    (pc.onconnectionstatechange as (() => void) | null)?.();
    expect(states).toEqual(['failed']);
    await Promise.all([session.stop(), session.stop()]);
    expect(pc.closed).toBe(1);
    expect(v.srcObject).toBeNull();
    expect(f.calls.slice(1)).toEqual([{ url: 'http://h:8080/whep/sessions/1', method: 'DELETE', headers: { authorization: 'Bearer t' } }]);
  });

  it('watchWhep closes the peer and rejects when the server refuses; DELETEs the session when the answer cannot be set', async () => {
    const f = fakeFetch(response(404, '{"error":{"code":"E_UNKNOWN_CAMERA","message":"no such camera"}}'));
    await expect(watchWhep('nope', video(), { baseUrl: 'http://h', fetch: f, RTCPeerConnection: FakePeer })).rejects.toMatchObject({ code: 'E_UNKNOWN_CAMERA', status: 404 });
    expect(FakePeer.last!.closed).toBe(1);

    class BadAnswerPeer extends FakePeer {
      override async setRemoteDescription(): Promise<void> {
        throw new Error('Failed to parse SessionDescription');
      }
    }
    const f2 = fakeFetch(response(201, ANSWER, { location: '/whep/x/1' }), response(200));
    await expect(watchWhep('x', video(), { baseUrl: 'http://h', fetch: f2, RTCPeerConnection: BadAnswerPeer })).rejects.toMatchObject({ code: 'E_WHEP', message: /Failed to parse/ });
    expect(f2.calls.map((c) => c.method)).toEqual(['POST', 'DELETE']);
    expect(FakePeer.last!.closed).toBe(1);
  });

  it('watchWhep without WebRTC rejects with E_WHEP (a tile then falls back to the canvas)', async () => {
    await expect(watchWhep('x', video(), { baseUrl: 'http://h', fetch: fakeFetch() })).rejects.toMatchObject({ code: 'E_WHEP', message: /not available/ });
  });
});
