/**
 * A binary mask stored only over its bounding rectangle, in source-frame pixels.
 * `data[y * width + x]` is 1 inside the object, 0 outside (row-major).
 */
export interface MaskCrop {
  /** Top-left corner of the crop in the source frame, px. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /**
   * Mask quality in 0..1, independent of the box score: SAM's stability score, the IoU of the
   * mask cut at logit +1 with the mask cut at logit -1 (pixels whose logit is within +-1 of
   * the 0.5 threshold make it low). Absent when not computed.
   */
  readonly stability?: number;
}

/** Is source pixel (px, py) set in the mask? (false outside its crop) */
export function maskHas(mask: MaskCrop, px: number, py: number): boolean {
  const mx = px - mask.x;
  const my = py - mask.y;
  if (mx < 0 || my < 0 || mx >= mask.width || my >= mask.height) return false;
  return mask.data[my * mask.width + mx] !== 0;
}

export interface DetectionsInit {
  /** n * 4 floats: x1, y1, x2, y2 per detection. */
  boxes: Float32Array;
  scores: Float32Array;
  classIds: Int32Array;
  /** One crop per detection, or null where no mask was decoded. */
  masks?: (MaskCrop | null)[];
  /** Tracker ids; -1 where untracked. */
  trackIds?: Int32Array;
  /** 1 where the object was not detected this frame and box and mask are a tracker prediction. */
  predicted?: Uint8Array;
  /**
   * n * k mask coefficients (YOLACT / YOLOv8-seg: k = 32 per box), the tracker's appearance cue;
   * absent when the producer has none (MOT detections, predicted objects read as zeros).
   */
  coefficients?: Float32Array | null;
}

/**
 * Detections of one frame, one typed array per field (the shape roboflow/supervision uses),
 * checked on construction so a shape bug fails where it is made, not where it is read.
 */
export class Detections {
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  readonly classIds: Int32Array;
  readonly masks: (MaskCrop | null)[];
  readonly trackIds: Int32Array;
  readonly predicted: Uint8Array;
  readonly coefficients: Float32Array | null;
  /** Coefficients per detection (0 when there are none). */
  readonly coefficientDim: number;

  constructor(init: DetectionsInit) {
    const n = init.scores.length;
    expectLength('boxes', init.boxes.length, n * 4);
    expectLength('classIds', init.classIds.length, n);
    const masks = init.masks ?? new Array<MaskCrop | null>(n).fill(null);
    expectLength('masks', masks.length, n);
    const trackIds = init.trackIds ?? new Int32Array(n).fill(-1);
    expectLength('trackIds', trackIds.length, n);
    const predicted = init.predicted ?? new Uint8Array(n);
    expectLength('predicted', predicted.length, n);
    for (const m of masks) {
      if (m !== null) expectLength('mask data', m.data.length, m.width * m.height);
    }
    this.boxes = init.boxes;
    this.scores = init.scores;
    this.classIds = init.classIds;
    this.masks = masks;
    this.trackIds = trackIds;
    this.predicted = predicted;
    const coef = init.coefficients ?? null;
    if (coef !== null && n > 0 && coef.length % n !== 0) {
      throw new TypeError(`Detections.coefficients: expected a multiple of ${n}, got ${coef.length}`);
    }
    this.coefficients = coef !== null && n > 0 && coef.length > 0 ? coef : null;
    this.coefficientDim = this.coefficients === null ? 0 : coef!.length / n;
  }

  /** Detection i's mask coefficients (a view), or null when there are none. */
  coefficientsAt(i: number): Float32Array | null {
    const k = this.coefficientDim;
    return this.coefficients === null ? null : this.coefficients.subarray(i * k, i * k + k);
  }

  static empty(): Detections {
    return new Detections({ boxes: new Float32Array(0), scores: new Float32Array(0), classIds: new Int32Array(0) });
  }

  get length(): number {
    return this.scores.length;
  }

  /** The detections at `indices`, in that order (all fields). */
  subset(indices: readonly number[]): Detections {
    const boxes = new Float32Array(indices.length * 4);
    indices.forEach((i, k) => boxes.set(this.boxes.subarray(i * 4, i * 4 + 4), k * 4));
    return new Detections({
      boxes,
      scores: Float32Array.from(indices, (i) => this.scores[i]!),
      classIds: Int32Array.from(indices, (i) => this.classIds[i]!),
      masks: indices.map((i) => this.masks[i] ?? null),
      trackIds: Int32Array.from(indices, (i) => this.trackIds[i]!),
      predicted: Uint8Array.from(indices, (i) => this.predicted[i]!),
      coefficients: this.coefficients === null ? null : gather(this.coefficients, this.coefficientDim, indices),
    });
  }

  box(i: number): [number, number, number, number] {
    const b = this.boxes;
    return [b[i * 4]!, b[i * 4 + 1]!, b[i * 4 + 2]!, b[i * 4 + 3]!];
  }
}

function gather(values: Float32Array, k: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * k);
  indices.forEach((i, j) => out.set(values.subarray(i * k, i * k + k), j * k));
  return out;
}

function expectLength(field: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new TypeError(`Detections.${field}: expected length ${expected}, got ${actual}`);
  }
}
