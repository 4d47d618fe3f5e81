import { createRequire } from 'node:module';

/**
 * The part of @roamhq/wrtc segstream uses, typed here: the package's own types lean on the
 * DOM library, which this Node project does not include.
 */
export interface SessionDescription {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp: string;
}

export interface MediaTrack {
  readonly id: string;
  readonly kind: string;
  stop(): void;
}

export interface RtpTransceiver {
  readonly mid: string | null;
  direction: string;
  readonly receiver: { readonly track: MediaTrack };
  readonly sender: { readonly track: MediaTrack | null; replaceTrack(track: MediaTrack | null): Promise<void> };
  stop(): void;
}

export interface PeerConnection {
  setRemoteDescription(d: SessionDescription): Promise<void>;
  setLocalDescription(d?: SessionDescription): Promise<void>;
  createOffer(): Promise<SessionDescription>;
  createAnswer(): Promise<SessionDescription>;
  addTransceiver(kind: 'audio' | 'video', init?: { direction?: string }): RtpTransceiver;
  getTransceivers(): RtpTransceiver[];
  readonly localDescription: SessionDescription | null;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  onicegatheringstatechange: (() => void) | null;
  onconnectionstatechange: (() => void) | null;
  ontrack: ((e: { track: MediaTrack }) => void) | null;
  close(): void;
}

/** One I420 picture as wrtc takes and gives it. */
export interface VideoFrameData {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface VideoSource {
  createTrack(): MediaTrack;
  onFrame(frame: VideoFrameData): void;
}

export interface VideoSink {
  onframe: ((e: { frame: VideoFrameData }) => void) | null;
  stop(): void;
}

export interface Wrtc {
  RTCPeerConnection: new (config?: { iceServers?: unknown[] }) => PeerConnection;
  nonstandard: {
    RTCVideoSource: new () => VideoSource;
    RTCVideoSink: new (track: MediaTrack) => VideoSink;
  };
}

let loaded: Wrtc | undefined;

/**
 * Loads @roamhq/wrtc on first use (a native module with its own threads: processes that never
 * serve a viewer never load it). Throws when it cannot be loaded on this platform.
 */
export function loadWrtc(): Wrtc {
  loaded ??= createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;
  return loaded;
}
