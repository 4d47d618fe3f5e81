import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SegstreamError, summariseString, type Logger } from '../core/index.js';
import type { CameraVideo, Viewer } from './cameraVideo.js';
import type { PeerConnection, Wrtc } from './wrtc.js';

export interface WhepOptions {
  /** Most viewers (WHEP sessions) of one camera; more get 503. */
  maxViewersPerCamera: number;
  /** Most viewers of all cameras together; more get 503. */
  maxViewers: number;
  /** Largest SDP offer or PATCH body, bytes; larger get 413. */
  maxBodyBytes: number;
  /** The answer waits this long for ICE gathering to complete, then goes with what it has, ms. */
  iceGatheringTimeoutMs: number;
  /** A session whose peer has not connected after this long is ended, ms. */
  connectTimeoutMs: number;
}

export const DEFAULT_WHEP_OPTIONS: WhepOptions = {
  maxViewersPerCamera: 16,
  maxViewers: 64,
  maxBodyBytes: 64 * 1024,
  iceGatheringTimeoutMs: 5000,
  connectTimeoutMs: 30_000,
};

/** The route prefix: POST /whep/<camera>, PATCH / DELETE /whep/<camera>/<session>. */
export const WHEP_PREFIX = '/whep/';

/** One viewer: a peer connection receiving one camera's video. */
class WhepSession implements Viewer {
  readonly etag: string;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    readonly camera: string,
    readonly pc: PeerConnection,
    private readonly onEnd: (s: WhepSession) => void,
  ) {
    this.etag = `"${id}"`;
  }

  get location(): string {
    return `${WHEP_PREFIX}${encodeURIComponent(this.camera)}/${this.id}`;
  }

  /** Ends the session when its peer fails or never connects. */
  watch(connectTimeoutMs: number): void {
    this.timer = setTimeout(() => {
      if (this.pc.connectionState !== 'connected') this.close();
    }, connectTimeoutMs);
    this.timer.unref();
    this.pc.onconnectionstatechange = () => {
      const st = this.pc.connectionState;
      if (st === 'failed' || st === 'closed') this.close();
    };
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.pc.onconnectionstatechange = null;
    this.pc.onicegatheringstatechange = null;
    try {
      this.pc.close();
    } catch {
      // Already closed by wrtc.
    }
    this.onEnd(this);
  }
}

/**
 * WHEP (WebRTC-HTTP Egress Protocol, RFC 9725 draft) for the cameras' overlay video: an SDP
 * offer in, the full answer out (ICE gathered, no server-side trickle), one session per
 * viewer. Nothing a request sends can throw out of here: a malformed offer is 400.
 */
export class WhepServer {
  private readonly options: WhepOptions;
  private readonly sessions = new Map<string, WhepSession>();
  /** Offers being answered now, per camera (counted against the limits). */
  private readonly pending = new Map<string, number>();
  /** Offers being set up, all cameras (each until its session is listed in `sessions`). */
  private settingUp = 0;
  private closed = false;

  constructor(
    options: Partial<WhepOptions>,
    private readonly videoOf: (camera: string) => CameraVideo | undefined,
    private readonly wrtc: () => Wrtc,
    private readonly log?: Logger,
    /** Told the number of open sessions whenever it changes (a metric). */
    private readonly onSessions?: (open: number) => void,
  ) {
    this.options = { ...DEFAULT_WHEP_OPTIONS, ...options };
  }

  /** Open sessions (all cameras). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The route to register on the HTTP server (PublishServer.route). */
  route(): { path: string; prefix: true; handle: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void> } {
    return { path: WHEP_PREFIX, prefix: true, handle: (req, res, path) => this.handle(req, res, path) };
  }

  /** Ends every session. */
  close(): void {
    this.closed = true;
    for (const s of [...this.sessions.values()]) s.close();
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const cors = corsHeaders(req);
    const fail = (status: number, err: SegstreamError, extra: Record<string, string> = {}): void => {
      if (res.headersSent) return void res.end();
      res.writeHead(status, { ...cors, ...extra, 'content-type': 'application/json' }).end(JSON.stringify({ error: err.toJSON() }));
    };
    const parts = path.slice(WHEP_PREFIX.length).split('/');
    let camera: string;
    let sessionId: string | undefined;
    try {
      camera = decodeURIComponent(parts[0] ?? '');
      sessionId = parts[1] === undefined ? undefined : decodeURIComponent(parts[1]);
    } catch {
      return fail(404, new SegstreamError('E_MSG_INVALID', 'not a WHEP resource', { expected: '/whep/<camera>[/<session>]' }));
    }
    if (camera === '' || parts.length > 2 || sessionId === '') {
      return fail(404, new SegstreamError('E_MSG_INVALID', 'not a WHEP resource', { expected: '/whep/<camera>[/<session>]', actual: summariseString(path, 80) }));
    }
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, { ...cors, ...(sessionId === undefined ? { 'accept-post': 'application/sdp' } : { 'accept-patch': 'application/trickle-ice-sdpfrag' }) }).end();
      return;
    }
    try {
      if (sessionId === undefined) {
        if (method !== 'POST') return fail(405, new SegstreamError('E_MSG_INVALID', `${summariseString(method, 16)} is not allowed on a WHEP endpoint`, { expected: 'POST, OPTIONS' }), { allow: 'POST, OPTIONS' });
        return await this.post(req, res, camera, cors, fail);
      }
      const session = this.sessions.get(sessionId);
      if (!session || session.camera !== camera) return fail(404, new SegstreamError('E_MSG_INVALID', 'no such WHEP session', { actual: summariseString(sessionId, 40) }));
      if (method === 'DELETE') {
        session.close();
        res.writeHead(200, cors).end();
        return;
      }
      if (method === 'PATCH') {
        if (mediaType(req) !== 'application/trickle-ice-sdpfrag') {
          return fail(415, new SegstreamError('E_MSG_INVALID', 'a WHEP PATCH carries application/trickle-ice-sdpfrag', { expected: 'application/trickle-ice-sdpfrag', actual: summariseString(mediaType(req), 80) }));
        }
        const match = req.headers['if-match'];
        if (match !== undefined && match !== '*' && match !== session.etag) return fail(412, new SegstreamError('E_MSG_INVALID', 'If-Match does not match the session', { expected: session.etag }));
        await readBody(req, this.options.maxBodyBytes);
        // Candidates are not used: the answer already holds every server candidate, and the
        // client's are found by ICE from its connectivity checks (peer-reflexive).
        res.writeHead(204, cors).end();
        return;
      }
      return fail(405, new SegstreamError('E_MSG_INVALID', `${summariseString(method, 16)} is not allowed on a WHEP session`, { expected: 'PATCH, DELETE, OPTIONS' }), { allow: 'PATCH, DELETE, OPTIONS' });
    } catch (err) {
      if (err instanceof SegstreamError && err.code === 'E_MSG_TOO_LARGE') {
        res.once('finish', () => req.socket.destroy());
        return fail(413, err, { connection: 'close' });
      }
      throw err;
    }
  }

  private async post(req: IncomingMessage, res: ServerResponse, camera: string, cors: Record<string, string>, fail: (status: number, err: SegstreamError, extra?: Record<string, string>) => void): Promise<void> {
    if (mediaType(req) !== 'application/sdp') {
      return fail(415, new SegstreamError('E_MSG_INVALID', 'a WHEP offer is application/sdp', { expected: 'application/sdp', actual: summariseString(mediaType(req), 80) }), { 'accept-post': 'application/sdp' });
    }
    const video = this.videoOf(camera);
    if (!video || video.isClosed) return fail(404, new SegstreamError('E_UNKNOWN_CAMERA', `unknown camera: ${summariseString(camera, 64)}`));
    const pendingHere = this.pending.get(camera) ?? 0;
    if (this.closed || video.viewerCount + pendingHere >= this.options.maxViewersPerCamera || this.sessions.size + this.settingUp >= this.options.maxViewers) {
      return fail(503, new SegstreamError('E_TOO_MANY_CLIENTS', `camera ${camera}: too many viewers`, { expected: `<= ${this.options.maxViewersPerCamera} per camera, ${this.options.maxViewers} in all` }), { 'retry-after': '5' });
    }
    this.pending.set(camera, pendingHere + 1);
    // In all, an offer counts as setting up until its session is listed (then in `sessions`).
    this.settingUp++;
    let settingUp = true;
    const doneSettingUp = (): void => {
      if (settingUp) this.settingUp--;
      settingUp = false;
    };
    // This offer holds a pending place until it is one of the camera's viewers (trackFor), then
    // counts there only: counted in both, concurrent offers would be refused a place early.
    let holdsPending = true;
    const releasePending = (): void => {
      if (!holdsPending) return;
      holdsPending = false;
      const n = (this.pending.get(camera) ?? 1) - 1;
      if (n > 0) this.pending.set(camera, n);
      else this.pending.delete(camera);
    };
    let pc: PeerConnection | undefined;
    let session: WhepSession | undefined;
    try {
      const offer = await readBody(req, this.options.maxBodyBytes);
      if (!/^m=video /m.test(offer)) return fail(400, new SegstreamError('E_MSG_INVALID', 'the offer has no video section', { expected: 'an SDP offer with m=video' }));
      const { RTCPeerConnection } = this.wrtc();
      pc = new RTCPeerConnection({ iceServers: [] });
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      } catch (err) {
        return fail(400, new SegstreamError('E_MSG_INVALID', `the SDP offer was refused: ${summariseString(err instanceof Error ? err.message : String(err), 200)}`, { expected: 'a valid SDP offer' }));
      }
      // The live state again: the camera may have gone, or the server closed, while the body came.
      if (this.closed || video.isClosed) return fail(404, new SegstreamError('E_UNKNOWN_CAMERA', `unknown camera: ${summariseString(camera, 64)}`));
      const id = randomBytes(12).toString('base64url');
      session = new WhepSession(id, camera, pc, (s) => {
        if (this.sessions.delete(s.id)) {
          this.onSessions?.(this.sessions.size);
          this.log?.info({ camera, session: s.id }, 'WHEP viewer left');
        }
        video.remove(s);
      });
      const track = video.trackFor(session);
      releasePending();
      let sending = false;
      for (const t of pc.getTransceivers()) {
        // One video section carries the camera; audio and any further video sections are
        // rejected (players add an audio transceiver), not the request.
        if (t.receiver.track.kind === 'video' && !sending) {
          await t.sender.replaceTrack(track);
          t.direction = 'sendonly';
          sending = true;
        } else t.stop();
      }
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc, this.options.iceGatheringTimeoutMs);
      const answer = pc.localDescription?.sdp;
      if (!answer || this.closed || video.isClosed) {
        session.close();
        return fail(this.closed || video.isClosed ? 404 : 500, new SegstreamError(this.closed || video.isClosed ? 'E_UNKNOWN_CAMERA' : 'E_INTERNAL', 'the session ended before it was answered'));
      }
      this.sessions.set(id, session);
      doneSettingUp();
      this.onSessions?.(this.sessions.size);
      session.watch(this.options.connectTimeoutMs);
      res
        .writeHead(201, {
          ...cors,
          'content-type': 'application/sdp',
          location: session.location,
          etag: session.etag,
          'accept-patch': 'application/trickle-ice-sdpfrag',
        })
        .end(answer);
      this.log?.info({ camera, session: id, viewers: video.viewerCount }, 'WHEP viewer joined');
      session = undefined;
      pc = undefined;
    } catch (err) {
      if (err instanceof SegstreamError) throw err;
      this.log?.error({ err, camera }, 'WHEP offer failed');
      return fail(500, new SegstreamError('E_INTERNAL', 'the WHEP session could not be set up; see the server log'));
    } finally {
      releasePending();
      doneSettingUp();
      // Not answered: nothing of it stays.
      if (session) session.close();
      else if (pc) pc.close();
    }
  }
}

/** The request's media type, lower case, without parameters. */
function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * CORS for browser players on other origins. Which origins may use the service at all is the
 * server's access check (before any route); here the answer only lets the page read it.
 */
/** The CORS headers of a WHEP answer (browsers on other origins may play). */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  return {
    'access-control-allow-origin': origin ?? '*',
    ...(origin ? { vary: 'Origin' } : {}),
    'access-control-allow-methods': 'OPTIONS, POST, PATCH, DELETE',
    'access-control-allow-headers': 'content-type, authorization, if-match',
    'access-control-expose-headers': 'location, etag, accept-patch, accept-post',
  };
}

/** A request body as text, at most `limit` bytes (else E_MSG_TOO_LARGE). */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = (size: number): SegstreamError => new SegstreamError('E_MSG_TOO_LARGE', `request body of ${size} bytes exceeds the limit`, { expected: `<= ${limit} bytes`, actual: size });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      req.removeAllListeners('data');
      reject(tooLarge(size));
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Resolves when `pc` has gathered its ICE candidates, or after `timeoutMs`. */
function gathered(pc: PeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(t);
      pc.onicegatheringstatechange = null;
      resolve();
    }
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
  });
}
