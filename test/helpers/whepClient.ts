import { loadWrtc, type PeerConnection, type VideoFrameData, type VideoSink } from '../../src/webrtc/index.js';

/** What a WHEP POST answered. */
export interface WhepAnswer {
  status: number;
  headers: Headers;
  body: string;
}

/** POSTs `body` to /whep/<camera> with `contentType`. */
export async function postOffer(port: number, camera: string, body: string, contentType = 'application/sdp'): Promise<WhepAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}/whep/${encodeURIComponent(camera)}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/**
 * A WHEP player made of a real @roamhq/wrtc peer: a recvonly video transceiver (and, like
 * browser players, a recvonly audio one if asked), the offer with all its candidates, then
 * every decoded frame of the received track kept (the newest `keep` of them).
 */
export class WhepViewer {
  readonly pc: PeerConnection;
  readonly frames: VideoFrameData[] = [];
  received = 0;
  answer: WhepAnswer | undefined;
  private sink: VideoSink | undefined;

  private constructor(private readonly keep: number) {
    const { RTCPeerConnection } = loadWrtc();
    this.pc = new RTCPeerConnection({ iceServers: [] });
  }

  static async connect(port: number, camera: string, opts: { audio?: boolean; keep?: number } = {}): Promise<WhepViewer> {
    const v = new WhepViewer(opts.keep ?? 4);
    await v.negotiate(port, camera, opts.audio ?? false);
    return v;
  }

  /** The offer this viewer would send (for tests that post it themselves). */
  private async negotiate(port: number, camera: string, audio: boolean): Promise<void> {
    const { RTCVideoSink } = loadWrtc().nonstandard;
    this.pc.addTransceiver('video', { direction: 'recvonly' });
    if (audio) this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.pc.ontrack = (e) => {
      if (e.track.kind !== 'video') return;
      this.sink = new RTCVideoSink(e.track);
      this.sink.onframe = ({ frame }) => {
        this.received++;
        // The sink reuses nothing, but copy anyway: the frame is ours to keep.
        this.frames.push({ width: frame.width, height: frame.height, data: new Uint8ClampedArray(frame.data) });
        if (this.frames.length > this.keep) this.frames.shift();
      };
    };
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await waitGathered(this.pc);
    this.answer = await postOffer(port, camera, this.pc.localDescription!.sdp);
    if (this.answer.status === 201) await this.pc.setRemoteDescription({ type: 'answer', sdp: this.answer.body });
  }

  get location(): string | null {
    return this.answer?.headers.get('location') ?? null;
  }

  async waitFrames(n: number, timeoutMs = 30_000): Promise<void> {
    const t0 = Date.now();
    while (this.received < n) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`received ${this.received} of ${n} frames in ${timeoutMs} ms (connection ${this.pc.connectionState})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** DELETEs the session (when one was made) and closes the peer. */
  async close(port: number): Promise<number | undefined> {
    let status: number | undefined;
    if (this.location) status = (await fetch(`http://127.0.0.1:${port}${this.location}`, { method: 'DELETE' })).status;
    this.sink?.stop();
    this.pc.close();
    return status;
  }
}

function waitGathered(pc: PeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') resolve();
    };
  });
}
