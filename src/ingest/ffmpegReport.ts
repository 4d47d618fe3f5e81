/**
 * Reads what the one ffmpeg process per camera says on stderr, so the source is opened
 * once (no ffprobe connection before it): the input's stream report (size, rate, codec,
 * whether it has a duration) and, from the `showinfo` filter placed before the letterbox,
 * one line per decoded frame with that frame's own size and timestamp. Pure: lines in,
 * facts out.
 */

export interface StreamInfo {
  /** Source frame size, px (of the newest frame once frames flow). */
  width: number;
  height: number;
  /** Frames per second the stream declares; 0 when it does not say. */
  fps: number;
  codec: string;
}

/** One decoded frame, as showinfo saw it before the letterbox. */
export interface FrameInfo {
  width: number;
  height: number;
  /** Presentation time in seconds on the filter's time base; null when the frame has none. */
  ptsS: number | null;
}

export type ReportFact =
  | { kind: 'duration'; durationS: number | null }
  | { kind: 'stream'; stream: StreamInfo }
  | { kind: 'frame'; frame: FrameInfo };

const DURATION_RE = /^\s*Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N\/A)/;
const VIDEO_STREAM_RE = /^\s*Stream #\d+:\d+.*?: Video: ([^\s,]+)/;
const SIZE_RE = /, (\d{1,5})x(\d{1,5})(?=[\s,[]|$)/;
const FPS_RE = /, (\d+(?:\.\d+)?)(k?) fps/;
const TBR_RE = /, (\d+(?:\.\d+)?)(k?) tbr/;
const SHOWINFO_RE = /^\[Parsed_showinfo_\d+ @ [^\]]+\] (.*)$/;
const TIME_BASE_RE = /^config in time_base: (\d+)\/(\d+)/;
const FRAME_RE = /^n:\s*\d+ pts:\s*(-?\d+|NOPTS) .*? s:(\d+)x(\d+) /;

export class FfmpegReport {
  private section: 'none' | 'input' | 'output' = 'none';
  private videoSeen = false;
  /** showinfo's input time base, s per pts unit (it is printed again when the graph is rebuilt). */
  private timeBase = 0;

  /** One stderr line (without its newline); what it says, or null when it says nothing we use. */
  push(line: string): ReportFact | null {
    const info = SHOWINFO_RE.exec(line);
    if (info) return this.showinfo(info[1]!);
    if (line.startsWith('Input #')) {
      this.section = 'input';
      return null;
    }
    if (line.startsWith('Output #') || line.startsWith('Stream mapping:')) {
      this.section = 'output';
      return null;
    }
    if (this.section !== 'input') return null;
    const d = DURATION_RE.exec(line);
    if (d) {
      const durationS = d[1] === undefined ? null : Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
      return { kind: 'duration', durationS: durationS !== null && durationS > 0 ? durationS : null };
    }
    const v = VIDEO_STREAM_RE.exec(line);
    // `-map 0:v:0`: the first video stream of the input is the one decoded.
    if (!v || this.videoSeen) return null;
    const size = SIZE_RE.exec(line);
    if (!size) return null;
    this.videoSeen = true;
    return { kind: 'stream', stream: { width: Number(size[1]), height: Number(size[2]), fps: rate(FPS_RE.exec(line)) || rate(TBR_RE.exec(line)), codec: v[1]! } };
  }

  private showinfo(body: string): ReportFact | null {
    const tb = TIME_BASE_RE.exec(body);
    if (tb) {
      const den = Number(tb[2]);
      this.timeBase = den > 0 ? Number(tb[1]) / den : 0;
      return null;
    }
    const f = FRAME_RE.exec(body);
    if (!f) return null;
    const pts = f[1] === 'NOPTS' || this.timeBase === 0 ? null : Number(f[1]) * this.timeBase;
    return { kind: 'frame', frame: { width: Number(f[2]), height: Number(f[3]), ptsS: pts } };
  }
}

/** True for the per-frame lines, which are no use in an error message. */
export function isFrameLine(line: string): boolean {
  return SHOWINFO_RE.test(line);
}

function rate(m: RegExpExecArray | null): number {
  if (!m) return 0;
  const v = Number(m[1]) * (m[2] === 'k' ? 1000 : 1);
  return Number.isFinite(v) && v > 0 && v < 1000 ? v : 0;
}
