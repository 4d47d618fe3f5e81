import type { Frame } from '../core/index.js';

/**
 * Motion gating's pure core: did a camera's picture change since the last frame that went to
 * inference? A grey thumbnail (box averages over cells, `cells` wide, the frame's aspect kept)
 * is compared cell by cell with the reference's; the frame changed when more than
 * `minChangedShare` of the cells differ by more than `threshold` grey levels, when
 * `maxSkipS` of media time passed since the reference, or when its size differs (a reset).
 * Only a changed frame becomes the reference, so slow drifts add up until they count.
 */

export const MOTION_DECISIONS = ['changed', 'unchanged'] as const;
export type MotionDecision = (typeof MOTION_DECISIONS)[number];

/** Why update() decided as it did. */
export const MOTION_REASONS = ['first', 'size', 'forced', 'maxSkip', 'motion', 'still'] as const;
export type MotionReason = (typeof MOTION_REASONS)[number];

export interface MotionGateOptions {
  /** A cell changed when its mean grey differs from the reference's by more than this, grey levels (0..255). */
  readonly threshold: number;
  /** The picture changed when more than this share of the cells changed, 0..1. */
  readonly minChangedShare: number;
  /** A frame goes to inference at least this often, s of media time (pts). */
  readonly maxSkipS: number;
}

/**
 * Defaults (README "Motion gating" says why): a cell is 1/64 of the width, ~10x10 px at 640
 * wide; its mean over >= 16 samples brings sensor noise (2-8 levels a pixel) under 2 levels,
 * while compression flicker moves whole blocks by 1-4 levels: 10 levels stays above both and
 * below the contrast of almost any object with its background (>= 20). 0.2 % of the cells is
 * 4-6 cells (64x36 to 64x48): more than an isolated flickering block or two, fewer than an
 * object 1.5 cells wide leaves and enters when it moves by its own size. 1 s is the tracker's
 * default `maxAge`: a still object that appears is seen within it.
 */
export const DEFAULT_MOTION_GATE: MotionGateOptions = { threshold: 10, minChangedShare: 0.002, maxSkipS: 1 };

/** Thumbnail width, cells. */
export const MOTION_GATE_CELLS = 64;

/** What the gate reads of a frame: packed rgb24 of width x height, and its media time. */
export type GateFrame = Pick<Frame, 'width' | 'height' | 'data' | 'pts'>;

/** A grey thumbnail: mean grey (0..255) per cell, row-major. */
export interface Thumbnail {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Samples per cell side the thumbnail aims at: 4 to 7 are read a side (1 px in `step`). */
const SAMPLES_PER_CELL_SIDE = 4;

/**
 * The grey thumbnail of packed rgb24 pixels (`width` x `height`): `cells` cells wide (fewer for
 * a narrower picture), as many high as keep the aspect ratio; each cell the mean of BT.601 luma
 * (77 R + 150 G + 29 B) / 256 over its box, read every `step` px in both directions so a cell
 * averages 4 to 7 samples a side whatever the resolution.
 */
export function greyThumbnail(data: Uint8Array, width: number, height: number, cells = MOTION_GATE_CELLS, out?: Float32Array): Thumbnail {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new TypeError(`thumbnail: width and height must be positive integers, got ${width}x${height}`);
  }
  if (data.length < width * height * 3) throw new TypeError(`thumbnail: ${width}x${height} rgb24 needs ${width * height * 3} bytes, got ${data.length}`);
  const tw = Math.min(cells, width);
  const th = Math.max(1, Math.min(height, Math.round((tw * height) / width)));
  const step = Math.max(1, Math.floor(Math.min(width / tw, height / th) / SAMPLES_PER_CELL_SIDE));
  const n = tw * th;
  const sums = new Float64Array(n);
  const counts = new Uint32Array(n);
  // Cell c's columns are [colStart[c], colStart[c + 1]), sampled from its first multiple of step.
  const colStart = new Int32Array(tw + 1);
  for (let c = 0; c <= tw; c++) colStart[c] = Math.ceil(Math.ceil((c * width) / tw) / step) * step;
  for (let y = 0; y < height; y += step) {
    const rowBase = Math.floor((y * th) / height) * tw;
    const row = y * width * 3;
    for (let c = 0; c < tw; c++) {
      const x0 = colStart[c]!;
      const x1 = colStart[c + 1]!;
      let acc = 0;
      for (let p = row + x0 * 3, end = row + x1 * 3, inc = step * 3; p < end; p += inc) acc += 77 * data[p]! + 150 * data[p + 1]! + 29 * data[p + 2]!;
      sums[rowBase + c]! += acc;
      counts[rowBase + c]! += (x1 - x0) / step;
    }
  }
  const grey = out && out.length === n ? out : new Float32Array(n);
  for (let c = 0; c < n; c++) grey[c] = sums[c]! / (256 * counts[c]!);
  return { width: tw, height: th, data: grey };
}

/** Share of cells (0..1) whose grey differs by more than `threshold` between two thumbnails of one size. */
export function changedShare(a: Float32Array, b: Float32Array, threshold: number): number {
  if (a.length !== b.length) throw new TypeError(`changedShare: thumbnails of ${a.length} and ${b.length} cells`);
  let changed = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > threshold) changed++;
  return a.length === 0 ? 0 : changed / a.length;
}

/** Counts by reason, and the last frame's share of changed cells (for stats and the bench). */
export interface MotionGateStats {
  readonly frames: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly reasons: Readonly<Record<MotionReason, number>>;
  /** Share of cells changed in the last compared frame (0 when it was not compared). */
  readonly lastShare: number;
}

/**
 * One camera's gate: `update(frame)` says whether the frame changed against the reference,
 * the last frame it called changed (the last that went to inference). Synchronous, no I/O;
 * it keeps its own thumbnails only, never the frame's bytes.
 */
export class MotionGate {
  private options: MotionGateOptions;
  private reference: Thumbnail | null = null;
  private referenceSize = '';
  private referencePts = 0;
  private scratch: Float32Array | undefined;
  private share = 0;
  private reason: MotionReason = 'first';
  private readonly counts: Record<MotionReason, number> = { first: 0, size: 0, forced: 0, maxSkip: 0, motion: 0, still: 0 };

  constructor(
    options: Partial<MotionGateOptions> = {},
    private readonly cells = MOTION_GATE_CELLS,
  ) {
    this.options = checkOptions({ ...DEFAULT_MOTION_GATE, ...options });
  }

  /** New thresholds from the next frame on; the reference stays. */
  configure(options: Partial<MotionGateOptions>): void {
    this.options = checkOptions({ ...this.options, ...options });
  }

  get settings(): MotionGateOptions {
    return this.options;
  }

  /**
   * Decides for one frame. `force`: changed whatever the picture (its caller knows the
   * reference's result is unusable); it becomes the reference like any changed frame.
   */
  update(frame: GateFrame, force = false): MotionDecision {
    const size = `${frame.width}x${frame.height}`;
    const thumb = greyThumbnail(frame.data, frame.width, frame.height, this.cells, this.scratch);
    let reason: MotionReason;
    this.share = 0;
    if (this.reference === null) reason = 'first';
    else if (size !== this.referenceSize) reason = 'size';
    else {
      this.share = changedShare(thumb.data, this.reference.data, this.options.threshold);
      if (force) reason = 'forced';
      else if (this.share > this.options.minChangedShare) reason = 'motion';
      else if (frame.pts - this.referencePts >= this.options.maxSkipS * 1000) reason = 'maxSkip';
      else reason = 'still';
    }
    this.reason = reason;
    this.counts[reason]++;
    if (reason === 'still') {
      this.scratch = thumb.data;
      return 'unchanged';
    }
    // The new reference; the old one's buffer is the next scratch.
    this.scratch = this.reference?.data;
    this.reference = thumb;
    this.referenceSize = size;
    this.referencePts = frame.pts;
    return 'changed';
  }

  /** Forgets the reference: the next frame is changed ('first'). */
  reset(): void {
    this.reference = null;
    this.referenceSize = '';
    this.scratch = undefined;
  }

  /** Why the last update() decided as it did. */
  get lastReason(): MotionReason {
    return this.reason;
  }

  toJSON(): MotionGateStats {
    const frames = Object.values(this.counts).reduce((a, b) => a + b, 0);
    return { frames, changed: frames - this.counts.still, unchanged: this.counts.still, reasons: { ...this.counts }, lastShare: this.share };
  }
}

function checkOptions(o: MotionGateOptions): MotionGateOptions {
  const bad = (name: string, v: number, want: string): never => {
    throw new TypeError(`motion gate: ${name} must be ${want}, got ${v}`);
  };
  if (!(o.threshold >= 0 && o.threshold <= 255)) bad('threshold', o.threshold, 'in 0..255 grey levels');
  if (!(o.minChangedShare >= 0 && o.minChangedShare <= 1)) bad('minChangedShare', o.minChangedShare, 'in 0..1');
  if (!(o.maxSkipS > 0 && Number.isFinite(o.maxSkipS))) bad('maxSkipS', o.maxSkipS, 'a positive number of seconds');
  return o;
}
