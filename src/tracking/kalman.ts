import { add, diag, invertSpd, matMul, sub, transpose } from './linalg.js';

/**
 * Constant-velocity Kalman filter on boxes, as ByteTrack / DeepSORT model them, stepped by
 * time instead of frames: state [cx, cy, a, h, vcx, vcy, va, vh] (centre px, aspect w/h,
 * height px, and their velocities per second), measurement [cx, cy, a, h]. Noise scales with
 * the box height, so a large near object may move more pixels than a small far one.
 *
 * ByteTrack's noise weights are per frame of a 30 fps video. Here they are per
 * `REFERENCE_INTERVAL_S` (1/30 s), and the process noise of a step of dt seconds is that of
 * dt / REFERENCE_INTERVAL_S reference steps (a random walk: variance grows linearly with time),
 * so the filter predicts the same distance and uncertainty whether the pipeline processed every
 * frame or skipped four of five.
 */

/** x1, y1, x2, y2 in source-frame px. */
export type Box = [number, number, number, number];

export interface KalmanState {
  /** 8 values, see the module comment. */
  readonly mean: Float64Array;
  /** 8 x 8, row-major. */
  readonly covariance: Float64Array;
}

export interface KalmanNoise {
  /** Position noise std as a fraction of box height per reference interval (ByteTrack: 1/20). */
  stdWeightPosition: number;
  /** Velocity noise std as a fraction of box height per reference interval, per interval (ByteTrack: 1/160). */
  stdWeightVelocity: number;
}

export const DEFAULT_KALMAN_NOISE: KalmanNoise = { stdWeightPosition: 1 / 20, stdWeightVelocity: 1 / 160 };

/** The frame interval ByteTrack's noise weights were set for (30 fps), s. */
export const REFERENCE_INTERVAL_S = 1 / 30;

const NDIM = 4;
const N = 2 * NDIM;

/** F(dt): position += velocity * dt. */
function motion(dt: number): Float64Array {
  const f = diag(new Array<number>(N).fill(1));
  for (let i = 0; i < NDIM; i++) f[i * N + NDIM + i] = dt;
  return f;
}
/** H: observe the first four state values. */
const OBSERVE = (() => {
  const h = new Float64Array(NDIM * N);
  for (let i = 0; i < NDIM; i++) h[i * N + i] = 1;
  return h;
})();
const OBSERVE_T = transpose(OBSERVE, NDIM, N);

export function boxToMeasurement(b: Box): Float64Array {
  const w = b[2] - b[0];
  const h = b[3] - b[1];
  // A zero-height box would give an infinite aspect; clamp to 1e-6 px.
  const hh = Math.max(h, 1e-6);
  return Float64Array.of(b[0] + w / 2, b[1] + h / 2, w / hh, hh);
}

/** Box of a state (or measurement) vector: first four values [cx, cy, a, h]. */
export function stateToBox(v: Float64Array): Box {
  const cx = v[0]!;
  const cy = v[1]!;
  const h = v[3]!;
  const w = v[2]! * h;
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

export class KalmanBoxFilter {
  readonly noise: KalmanNoise;

  constructor(noise: KalmanNoise = DEFAULT_KALMAN_NOISE) {
    this.noise = noise;
  }

  /** New state from one measurement; velocities start at 0 with a wide uncertainty. */
  initiate(measurement: Float64Array): KalmanState {
    const mean = new Float64Array(N);
    mean.set(measurement.subarray(0, NDIM));
    const h = measurement[3]!;
    const p = this.noise.stdWeightPosition;
    const v = this.noise.stdWeightVelocity / REFERENCE_INTERVAL_S;
    const std = [2 * p * h, 2 * p * h, 1e-2, 2 * p * h, 10 * v * h, 10 * v * h, 1e-5 / REFERENCE_INTERVAL_S, 10 * v * h];
    return { mean, covariance: diag(std.map((s) => s * s)) };
  }

  /**
   * dt seconds ahead: x' = F(dt) x, P' = F P F^T + Q dt / REFERENCE_INTERVAL_S. dt <= 0 (a
   * repeated timestamp) returns the state unchanged.
   */
  predict(state: KalmanState, dt: number = REFERENCE_INTERVAL_S): KalmanState {
    if (!(dt > 0)) return state;
    const h = state.mean[3]!;
    const p = this.noise.stdWeightPosition;
    const v = this.noise.stdWeightVelocity / REFERENCE_INTERVAL_S;
    const steps = dt / REFERENCE_INTERVAL_S;
    const std = [p * h, p * h, 1e-2, p * h, v * h, v * h, 1e-5 / REFERENCE_INTERVAL_S, v * h];
    const f = motion(dt);
    const mean = matMul(f, state.mean, N, N, 1);
    // A box shrinking fast must not turn inside out: keep aspect and height positive.
    mean[2] = Math.max(mean[2]!, 1e-3);
    mean[3] = Math.max(mean[3]!, 1);
    const q = diag(std.map((s) => s * s * steps));
    const cov = add(matMul(matMul(f, state.covariance, N, N, N), transpose(f, N, N), N, N, N), q);
    return { mean, covariance: cov };
  }

  /** State distribution in measurement space: H x and H P H^T + R. */
  project(state: KalmanState): { mean: Float64Array; covariance: Float64Array } {
    const h = state.mean[3]!;
    const p = this.noise.stdWeightPosition;
    const std = [p * h, p * h, 1e-1, p * h];
    const mean = matMul(OBSERVE, state.mean, NDIM, N, 1);
    const cov = add(matMul(matMul(OBSERVE, state.covariance, NDIM, N, N), OBSERVE_T, N, N, NDIM), diag(std.map((s) => s * s)));
    return { mean, covariance: cov };
  }

  /** Correct with a measurement: K = P H^T S^-1, x' = x + K (z - H x), P' = P - K S K^T. */
  update(state: KalmanState, measurement: Float64Array): KalmanState {
    const projected = this.project(state);
    const pht = matMul(state.covariance, OBSERVE_T, N, N, NDIM);
    const gain = matMul(pht, invertSpd(projected.covariance, NDIM), N, NDIM, NDIM);
    const innovation = sub(measurement, projected.mean);
    const mean = add(state.mean, matMul(gain, innovation, N, NDIM, 1));
    const kskt = matMul(matMul(gain, projected.covariance, N, NDIM, NDIM), transpose(gain, N, NDIM), N, NDIM, N);
    const cov = sub(state.covariance, kskt);
    // Re-symmetrise: the subtraction leaves ~1e-16 asymmetry that grows over long tracks.
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) {
        const m = (cov[i * N + j]! + cov[j * N + i]!) / 2;
        cov[i * N + j] = m;
        cov[j * N + i] = m;
      }
    }
    return { mean, covariance: cov };
  }
}
