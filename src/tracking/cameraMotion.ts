/**
 * Global image motion between two processed frames, estimated from boxes alone (no pixels):
 * the translation most established tracks agree on between their predicted centres and the
 * detections near them. A cheap stand-in for BoT-SORT's image registration (GMC) that works
 * on MOT detections too. Translation only: a shaking or panning camera; the zoom of a camera
 * moving forward is left to each track's own velocity.
 */

export interface CameraShift {
  readonly dx: number;
  readonly dy: number;
  /** Tracks that agree with the shift. */
  readonly support: number;
}

export interface CameraMotionInput {
  /** Predicted track boxes, x1 y1 x2 y2 per track. */
  readonly tracks: readonly (readonly [number, number, number, number])[];
  /** Detection boxes, x1 y1 x2 y2 per detection. */
  readonly detections: readonly (readonly [number, number, number, number])[];
}

/** Least tracks that must agree before a shift is applied. */
const MIN_SUPPORT = 3;
/** A track agrees with a shift when its residual is within this fraction of its height. */
const AGREE = 0.2;
/** Detections farther than this many track heights from a predicted centre are no candidates. */
const SEARCH = 2;
/** Candidate displacements per track (its nearest detections). */
const PER_TRACK = 3;

/**
 * The shift (px) to add to every predicted centre, or null when fewer than MIN_SUPPORT
 * tracks (and not most of them) agree on one, or when no shift beats standing still.
 */
export function estimateCameraShift({ tracks, detections }: CameraMotionInput): CameraShift | null {
  if (tracks.length < MIN_SUPPORT || detections.length === 0) return null;
  // Candidate displacements: per track, its detections of similar size within SEARCH heights.
  const cand: { track: number; dx: number; dy: number }[] = [];
  const heights = tracks.map((t) => Math.max(t[3] - t[1], 1));
  tracks.forEach((t, i) => {
    const cx = (t[0] + t[2]) / 2;
    const cy = (t[1] + t[3]) / 2;
    const h = heights[i]!;
    const mine: { track: number; dx: number; dy: number; r: number }[] = [];
    for (const d of detections) {
      const dh = d[3] - d[1];
      if (dh < h / 1.5 || dh > h * 1.5) continue;
      const dx = (d[0] + d[2]) / 2 - cx;
      const dy = (d[1] + d[3]) / 2 - cy;
      const r = Math.hypot(dx, dy);
      if (r <= SEARCH * h) mine.push({ track: i, dx, dy, r });
    }
    // The nearest few only: keeps the vote O((tracks x PER_TRACK)^2) in a crowd.
    mine.sort((a, b) => a.r - b.r);
    for (const c of mine.slice(0, PER_TRACK)) cand.push({ track: c.track, dx: c.dx, dy: c.dy });
  });
  const supportOf = (dx: number, dy: number): number[] => {
    const agree: number[] = [];
    let lastTrack = -1;
    for (let k = 0; k < cand.length; k++) {
      const c = cand[k]!;
      if (c.track === lastTrack) continue;
      if (Math.hypot(c.dx - dx, c.dy - dy) <= AGREE * heights[c.track]!) {
        agree.push(k);
        lastTrack = c.track;
      }
    }
    return agree;
  };
  const still = supportOf(0, 0).length;
  let best: { dx: number; dy: number; agree: number[] } | null = null;
  for (const c of cand) {
    const agree = supportOf(c.dx, c.dy);
    if (best === null || agree.length > best.agree.length) best = { dx: c.dx, dy: c.dy, agree };
  }
  if (best === null || best.agree.length < MIN_SUPPORT || best.agree.length <= still) return null;
  if (best.agree.length * 2 < Math.min(tracks.length, detections.length)) return null;
  // Refine: the median displacement of the agreeing pairs.
  const xs = best.agree.map((k) => cand[k]!.dx).sort((a, b) => a - b);
  const ys = best.agree.map((k) => cand[k]!.dy).sort((a, b) => a - b);
  return { dx: median(xs), dy: median(ys), support: best.agree.length };
}

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}
