/**
 * One track's position as the stopped tests see it: the mask centroid smoothed exponentially
 * with a time constant (so 5 fps and 30 fps smooth alike and a jumpy mask does not look like
 * motion), and a bounded history of the smoothed position: at most HISTORY_BUCKETS buckets,
 * each the bounding box of the positions of a span of at least `bucketS`, so the buckets reach
 * back at least 63 spans whatever the frame rate: memory is bounded whatever the window.
 */
export const HISTORY_BUCKETS = 64;

/** Fields per bucket: first time, min x, max x, min y, max y. */
const F = 5;

export class TrackMotion {
  /** Smoothed position, source px. */
  x = NaN;
  y = NaN;
  /** Smoothed box diagonal, px (the scale of `maxMove`). */
  diag = NaN;
  /** Media time of the last sample, s. */
  lastT = NaN;
  private readonly buckets = new Float64Array(HISTORY_BUCKETS * F);
  /** Index of the newest bucket, and how many are filled. */
  private head = -1;
  private size = 0;

  /**
   * @param bucketS shortest span of one bucket, s: the longest window to test / (HISTORY_BUCKETS - 2)
   * @param smoothingS time constant of the smoothing, s (0: none)
   */
  constructor(
    private readonly bucketS: number,
    private readonly smoothingS: number,
  ) {}

  /** A raw position at `t` (not before the last sample's time). */
  add(t: number, x: number, y: number, diag: number): void {
    if (Number.isNaN(this.lastT)) {
      this.x = x;
      this.y = y;
      this.diag = diag;
    } else {
      const dt = Math.max(0, t - this.lastT);
      const a = this.smoothingS > 0 ? 1 - Math.exp(-dt / this.smoothingS) : 1;
      this.x += a * (x - this.x);
      this.y += a * (y - this.y);
      this.diag += a * (diag - this.diag);
    }
    this.lastT = t;
    this.record(t);
  }

  private record(t: number): void {
    const b = this.buckets;
    let i = this.head * F;
    if (this.head < 0 || t - b[i]! >= this.bucketS) {
      this.head = (this.head + 1) % HISTORY_BUCKETS;
      this.size = Math.min(HISTORY_BUCKETS, this.size + 1);
      i = this.head * F;
      b[i] = t;
      b[i + 1] = b[i + 2] = this.x;
      b[i + 3] = b[i + 4] = this.y;
      return;
    }
    if (this.x < b[i + 1]!) b[i + 1] = this.x;
    if (this.x > b[i + 2]!) b[i + 2] = this.x;
    if (this.y < b[i + 3]!) b[i + 3] = this.y;
    if (this.y > b[i + 4]!) b[i + 4] = this.y;
  }

  /**
   * The earliest time from which every recorded smoothed position lies within `d` px of the
   * current one: the first time of the oldest bucket of the newest run of buckets whose farthest
   * corner is within d (conservative: a bucket counts whole). The last sample's time when even
   * the newest bucket strays.
   */
  stillSince(d: number): number {
    const b = this.buckets;
    const d2 = d * d;
    let since = this.lastT;
    for (let k = 0; k < this.size; k++) {
      const i = ((this.head - k + HISTORY_BUCKETS) % HISTORY_BUCKETS) * F;
      const fx = Math.max(Math.abs(b[i + 1]! - this.x), Math.abs(b[i + 2]! - this.x));
      const fy = Math.max(Math.abs(b[i + 3]! - this.y), Math.abs(b[i + 4]! - this.y));
      if (!(fx * fx + fy * fy <= d2)) break;
      since = b[i]!;
    }
    return since;
  }
}
