import { Detections, SegstreamError } from '../core/index.js';
import { ByteTracker } from './tracker.js';
import type { TrackerOptionsInput } from './options.js';

/** One MOTChallenge row: `frame,id,x,y,w,h,score,...` (x, y = top-left, px; frames from 1). */
export interface MotRow {
  readonly frame: number;
  /** Object / track id; -1 for detections. */
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Detection confidence (gt: the "consider" flag); 1 when the column is missing. */
  readonly score: number;
}

/**
 * Parses MOTChallenge text (comma or whitespace separated, as py-motmetrics accepts).
 * Blank lines are skipped; a line with fewer than 6 numeric fields throws
 * SegstreamError E_SOURCE_UNREADABLE naming the line.
 */
export function parseMotDetections(text: string): MotRow[] {
  const rows: MotRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.trim();
    if (line === '') continue;
    const f = line.split(/\s*,\s*|\s+/).map(Number);
    if (f.length < 6 || f.slice(0, 7).some((v) => !Number.isFinite(v))) {
      throw new SegstreamError('E_SOURCE_UNREADABLE', `MOT line ${ln + 1}: expected frame,id,x,y,w,h[,score,...]`, {
        expected: 'at least 6 numeric comma-separated fields',
        actual: line,
      });
    }
    rows.push({ frame: f[0]!, id: f[1]!, x: f[2]!, y: f[3]!, width: f[4]!, height: f[5]!, score: f[6] ?? 1 });
  }
  return rows;
}

/** Frame rate assumed for a MOTChallenge sequence when none is given (they carry no timestamps). */
export const DEFAULT_MOT_FPS = 30;

export interface RunMotOptions {
  /**
   * The sequence's frame rate (seqinfo.ini `frameRate`): frame f is at (f - 1) / fps s, which
   * the tracker's time-based motion model and ages run on. Default DEFAULT_MOT_FPS.
   */
  fps?: number;
  /**
   * Also write predicted (unmatched, extrapolated) objects. Off by default: like SORT's
   * reference script, MOT results report only tracks matched in that frame.
   */
  includePredicted?: boolean;
}

/**
 * Runs one fresh ByteTracker over MOT detections, frame 1 to the last detection frame
 * (frames without detections are still stepped, so tracks age), frame f at media time
 * (f - 1) / fps. Returns one row per tracked object per frame, `score` = 1 as MOTChallenge
 * results carry no confidence. `frames` (optional) lists the frames to process, to simulate
 * a pipeline that skipped some.
 */
export function runTrackerOnMot(
  dets: readonly MotRow[],
  options: TrackerOptionsInput = {},
  run: RunMotOptions & { frames?: (frame: number) => boolean } = {},
): MotRow[] {
  const fps = run.fps ?? DEFAULT_MOT_FPS;
  if (!(fps > 0 && Number.isFinite(fps))) {
    throw new SegstreamError('E_CONFIG', 'MOT frame rate must be a positive number', { expected: '> 0', actual: fps });
  }
  const tracker = new ByteTracker(options);
  const byFrame = new Map<number, MotRow[]>();
  let last = 0;
  for (const d of dets) {
    let list = byFrame.get(d.frame);
    if (list === undefined) byFrame.set(d.frame, (list = []));
    list.push(d);
    last = Math.max(last, d.frame);
  }
  const out: MotRow[] = [];
  for (let frame = 1; frame <= last; frame++) {
    if (run.frames && !run.frames(frame)) continue;
    const list = byFrame.get(frame) ?? [];
    const n = list.length;
    const boxes = new Float32Array(n * 4);
    const scores = new Float32Array(n);
    list.forEach((d, i) => {
      boxes.set([d.x, d.y, d.x + d.width, d.y + d.height], i * 4);
      scores[i] = d.score;
    });
    const objects = tracker.update(new Detections({ boxes, scores, classIds: new Int32Array(n) }), (frame - 1) / fps);
    for (const o of objects) {
      if (o.predicted && !run.includePredicted) continue;
      const [x1, y1, x2, y2] = o.box;
      out.push({ frame, id: o.id, x: x1, y: y1, width: x2 - x1, height: y2 - y1, score: 1 });
    }
  }
  return out;
}

/** MOTChallenge result lines `frame,id,x,y,w,h,1,-1,-1,-1` (px to 2 decimals), as SORT writes them. */
export function formatMotResults(rows: readonly MotRow[]): string {
  let s = '';
  for (const r of rows) {
    s += `${r.frame},${r.id},${r.x.toFixed(2)},${r.y.toFixed(2)},${r.width.toFixed(2)},${r.height.toFixed(2)},1,-1,-1,-1\n`;
  }
  return s;
}
