import type { Frame } from '../../src/core/index.js';

/**
 * One replay is forward play then backward play of the same clip, as one stream: the
 * timeline holds n forward frames (index c = picture c) followed by n backward frames
 * (index c >= n shows picture 2n - 1 - c), so timeline index 2n - 1 is picture 0 again.
 */

export const MODES = [
  { name: 'real time', step: 1 },
  // Only every third picture is processed; pts are unchanged, so the time between
  // processed frames triples: a loaded machine that drops 2 of 3 frames.
  { name: '2 of 3 dropped', step: 3 },
] as const;
export type Mode = (typeof MODES)[number];

/** Which forward picture timeline index `c` shows (n pictures per direction). */
export function pictureOf(c: number, n: number): number {
  return c < n ? c : 2 * n - 1 - c;
}

/**
 * Timeline indices to process, ascending: every `step`-th picture counted from the prompt
 * picture `p` (so the prompt frame is processed), forward from the clip's start, then the
 * same pictures backward, ending on the backward copy of picture p, where the forward-backward
 * error is measured (for p = 0: the clip's first frame). At the turn the last kept picture is
 * shown twice, as real-time play shows picture n - 1 twice.
 */
export function replaySchedule(n: number, p: number, step: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`n must be a positive integer, got ${n}`);
  if (!Number.isInteger(p) || p < 0 || p >= n) throw new TypeError(`prompt picture must be in [0, ${n - 1}], got ${p}`);
  if (!Number.isInteger(step) || step < 1) throw new TypeError(`step must be a positive integer, got ${step}`);
  const kept = (picture: number): boolean => (((picture - p) % step) + step) % step === 0;
  const out: number[] = [];
  for (let c = 0; c <= 2 * n - 1 - p; c++) if (kept(pictureOf(c, n))) out.push(c);
  return out;
}

/** Mean time between frames, ms (1000 / 25 for fewer than two frames). */
export function meanInterval(pts: readonly number[]): number {
  if (pts.length < 2) return 1000 / 25;
  return (pts[pts.length - 1]! - pts[0]!) / (pts.length - 1);
}

/**
 * Forward frames, then the backward ones with media time and sequence numbers continuing:
 * backward frame k gets pts = last forward pts + (k + 1) * mean forward interval, so pts
 * never goes back, and seq = n + k.
 */
export function buildTimeline<T extends { readonly frame: Frame }>(forward: readonly T[], backward: readonly T[]): T[] {
  const last = forward[forward.length - 1];
  if (!last) return [...backward];
  const interval = meanInterval(forward.map((s) => s.frame.pts));
  const seq0 = last.frame.seq + 1;
  return [
    ...forward,
    ...backward.map((s, k) => ({ ...s, frame: { ...s.frame, seq: seq0 + k, pts: last.frame.pts + (k + 1) * interval } })),
  ];
}
