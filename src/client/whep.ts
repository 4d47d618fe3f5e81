import { SegstreamClientError } from './errors.js';

/**
 * WHEP playback (draft-ietf-wish-whep), as segstream's server offers it (issue 9, part 2):
 * `POST /whep/<camera>` with an SDP offer (`application/sdp`, recvonly video) answers
 * `201 Created`, the SDP answer (every ICE candidate in it: the server does not trickle) and a
 * `Location`; `DELETE <Location>` ends the session. The client does not trickle either: it
 * posts its offer once ICE gathering is complete.
 *
 * The browser objects are described structurally (the library also compiles for Node, without
 * DOM types); `RTCPeerConnection`, `fetch` and `MediaStream` come from `globalThis` unless given.
 */

export interface SessionDescriptionLike {
  type?: string;
  sdp?: string;
}

export interface PeerConnectionLike {
  readonly localDescription: SessionDescriptionLike | null;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  onicegatheringstatechange: ((ev: never) => void) | null;
  onconnectionstatechange: ((ev: never) => void) | null;
  ontrack: ((ev: never) => void) | null;
  addTransceiver(kind: 'video', init: { direction: 'recvonly' }): unknown;
  createOffer(): Promise<SessionDescriptionLike>;
  setLocalDescription(description: SessionDescriptionLike): Promise<void>;
  setRemoteDescription(description: { type: 'answer'; sdp: string }): Promise<void>;
  close(): void;
}

export type PeerConnectionConstructor = new (config: { iceServers: { urls: string | string[] }[] }) => PeerConnectionLike;

/** The part of an HTMLVideoElement that playback needs. */
export interface VideoLike {
  srcObject: unknown;
  muted: boolean;
  play(): Promise<void>;
}

export interface ResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<ResponseLike>;

/**
 * The server's URL for a camera's WHEP endpoint: `<base>/whep/<camera>` (the id encoded).
 * Camera ids `.` and `..` (valid ids) cannot be a path segment: URL parsers remove them, even
 * percent-encoded, so they are refused (E_WHEP) rather than sent to another path.
 */
export function whepEndpoint(baseUrl: string, camera: string): string {
  if (camera === '.' || camera === '..') throw new SegstreamClientError('E_WHEP', `camera id '${camera}' cannot be part of a URL path`, { actual: camera });
  const base = new URL(baseUrl);
  base.pathname = base.pathname.replace(/\/?$/, '/');
  base.search = '';
  return new URL(`whep/${encodeURIComponent(camera)}`, base).toString();
}

function authHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** The `{error: {code, message}}` body of a refusal as an error (E_WHEP when it has none). */
async function refusal(res: ResponseLike, what: string): Promise<SegstreamClientError> {
  let code = 'E_WHEP';
  let message = `${what}: HTTP ${res.status}`;
  try {
    const body = JSON.parse(await res.text()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = `${what}: HTTP ${res.status}: ${body.error.message}`;
  } catch {
    // Not JSON: the status says it.
  }
  return new SegstreamClientError(code, message, { status: res.status });
}

/**
 * Checks that an SDP answer accepts video: it has a `m=video` section with a non-zero port
 * (a rejected section has port 0). Throws E_WHEP otherwise.
 */
export function checkWhepAnswer(sdp: string): void {
  if (!/^v=0/.test(sdp.trimStart())) throw new SegstreamClientError('E_WHEP', 'the WHEP answer is not SDP', { actual: sdp.slice(0, 40) });
  const video = sdp.split(/\r?\n/).filter((l) => l.startsWith('m=video '));
  if (video.length === 0) throw new SegstreamClientError('E_WHEP', 'the WHEP answer has no video section');
  if (video.every((l) => l.split(' ')[1] === '0')) throw new SegstreamClientError('E_WHEP', 'the WHEP answer rejects the video section');
}

export interface WhepAnswer {
  /** The SDP answer. */
  answer: string;
  /** The session's URL (absolute), for DELETE. */
  location: string;
  etag?: string;
}

/** POSTs an SDP offer; resolves with the answer and the session's Location, or rejects with the server's code (E_WHEP without one). */
export async function postWhepOffer(options: { endpoint: string; sdp: string; token?: string; fetch: FetchLike }): Promise<WhepAnswer> {
  const res = await options.fetch(options.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', accept: 'application/sdp', ...authHeaders(options.token) },
    body: options.sdp,
  });
  if (res.status !== 201) throw await refusal(res, 'WHEP offer refused');
  const location = res.headers.get('location');
  if (!location) throw new SegstreamClientError('E_WHEP', 'the WHEP answer has no Location header', { status: res.status });
  const answer = await res.text();
  checkWhepAnswer(answer);
  const etag = res.headers.get('etag');
  return { answer, location: new URL(location, options.endpoint).toString(), ...(etag ? { etag } : {}) };
}

/** Ends a WHEP session (`DELETE <Location>`); a session the server no longer knows (404) counts as ended. */
export async function deleteWhepSession(options: { location: string; token?: string; fetch: FetchLike }): Promise<void> {
  const res = await options.fetch(options.location, { method: 'DELETE', headers: authHeaders(options.token) });
  if (res.status >= 300 && res.status !== 404) throw await refusal(res, 'WHEP DELETE refused');
}

/** Resolves when ICE gathering is complete, or after `timeoutMs` with what was gathered so far. */
export function iceGatheringDone(pc: PeerConnectionLike, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.onicegatheringstatechange = null;
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
  });
}

export interface WatchWhepOptions {
  token?: string;
  /** The server's base URL; default the page's origin (`location.origin`). */
  baseUrl?: string;
  /** Longest wait for ICE gathering before the offer goes with the candidates found so far, ms. */
  gatherTimeoutMs?: number;
  /** The peer connection's state as it changes (`connected`, `failed`, ...): a tile falls back on `failed`. */
  onState?: (state: string) => void;
  RTCPeerConnection?: PeerConnectionConstructor;
  fetch?: FetchLike;
  MediaStream?: new (tracks: unknown[]) => unknown;
}

export interface WhepSession {
  readonly location: string;
  readonly pc: PeerConnectionLike;
  /** Closes the peer, detaches the video and DELETEs the session. Safe twice. */
  stop(): Promise<void>;
}

interface TrackEventLike {
  track: unknown;
  streams?: readonly unknown[];
}

/**
 * Plays a camera's overlay video in `video` over WHEP: a recvonly video peer, the offer posted
 * once ICE gathering is done, the answer set; the track goes to `video.srcObject`. Rejects (and
 * closes the peer) when the server refuses (its code: E_UNAUTHORIZED, E_UNKNOWN_CAMERA, ...;
 * `status` holds the HTTP status) or WebRTC fails before the answer is set.
 */
export async function watchWhep(camera: string, video: VideoLike, options: WatchWhepOptions = {}): Promise<WhepSession> {
  const g = globalThis as { RTCPeerConnection?: PeerConnectionConstructor; fetch?: FetchLike; MediaStream?: new (tracks: unknown[]) => unknown; location?: { origin: string } };
  const Pc = options.RTCPeerConnection ?? g.RTCPeerConnection;
  const fetchFn = options.fetch ?? (g.fetch ? (url, init) => g.fetch!(url, init) : undefined);
  const baseUrl = options.baseUrl ?? g.location?.origin;
  if (!Pc) throw new SegstreamClientError('E_WHEP', 'WebRTC is not available here (no RTCPeerConnection)');
  if (!fetchFn) throw new TypeError('watchWhep needs fetch');
  if (!baseUrl) throw new TypeError('watchWhep needs baseUrl outside a page');
  const endpoint = whepEndpoint(baseUrl, camera);
  const pc = new Pc({ iceServers: [] });
  const Stream = options.MediaStream ?? g.MediaStream;
  pc.ontrack = (ev: TrackEventLike) => {
    video.srcObject = ev.streams?.[0] ?? (Stream ? new Stream([ev.track]) : null);
    video.muted = true;
    // Autoplay of a muted video is allowed; a refusal leaves the element paused, not broken.
    video.play().catch(() => {});
  };
  pc.onconnectionstatechange = () => options.onState?.(pc.connectionState);
  let location: string;
  try {
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringDone(pc, options.gatherTimeoutMs ?? 2000);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new SegstreamClientError('E_WHEP', 'the peer connection made no offer');
    const answer = await postWhepOffer({ endpoint, sdp, fetch: fetchFn, ...(options.token === undefined ? {} : { token: options.token }) });
    location = answer.location;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: answer.answer });
    } catch (err) {
      // The server holds a session for this peer: free it.
      await deleteWhepSession({ location, fetch: fetchFn, ...(options.token === undefined ? {} : { token: options.token }) }).catch(() => {});
      throw err;
    }
  } catch (err) {
    pc.close();
    throw err instanceof SegstreamClientError ? err : new SegstreamClientError('E_WHEP', `WebRTC failed: ${(err as Error).message ?? String(err)}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    location,
    pc,
    stop: () =>
      (stopping ??= (async () => {
        pc.ontrack = null;
        pc.onconnectionstatechange = null;
        pc.close();
        video.srcObject = null;
        await deleteWhepSession({ location, fetch: fetchFn, ...(options.token === undefined ? {} : { token: options.token }) });
      })()),
  };
}
