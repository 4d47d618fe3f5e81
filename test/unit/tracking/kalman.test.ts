import { describe, expect, it } from 'vitest';
import { KalmanBoxFilter, REFERENCE_INTERVAL_S, boxToMeasurement, stateToBox, type KalmanState } from '../../../src/tracking/kalman.js';
import { invertSpd, matMul } from '../../../src/tracking/linalg.js';

const kf = new KalmanBoxFilter();

function withVelocity(state: KalmanState, vx: number, vy: number): KalmanState {
  const mean = Float64Array.from(state.mean);
  mean[4] = vx;
  mean[5] = vy;
  return { mean, covariance: state.covariance };
}

describe('KalmanBoxFilter', () => {
  it('converts a box to [cx, cy, aspect, h] and back', () => {
    const m = boxToMeasurement([10, 20, 50, 100]);
    expect(Array.from(m)).toEqual([30, 60, 0.5, 80]);
    expect(stateToBox(m)).toEqual([10, 20, 50, 100]);
  });

  it('predict moves the centre by velocity x dt (velocities are px/s)', () => {
    const s = withVelocity(kf.initiate(boxToMeasurement([0, 0, 40, 80])), 30, -20);
    const p = kf.predict(s, 0.1);
    expect(p.mean[0]).toBeCloseTo(20 + 3, 10);
    expect(p.mean[1]).toBeCloseTo(40 - 2, 10);
    expect(p.mean[3]).toBeCloseTo(80, 10);
    const p2 = kf.predict(p, 0.1);
    expect(p2.mean[0]).toBeCloseTo(20 + 6, 10);
    // dt <= 0 (a repeated timestamp) changes nothing.
    expect(kf.predict(p2, 0)).toBe(p2);
  });

  it('one step of 5 intervals predicts the same mean and covariance as 5 steps, up to the cross terms', () => {
    const s = withVelocity(kf.initiate(boxToMeasurement([0, 0, 40, 80])), 30, 0);
    let many = s;
    for (let k = 0; k < 5; k++) many = kf.predict(many, REFERENCE_INTERVAL_S);
    const one = kf.predict(s, 5 * REFERENCE_INTERVAL_S);
    for (let i = 0; i < 8; i++) expect(one.mean[i]).toBeCloseTo(many.mean[i]!, 9);
    // The position variance grows with time either way (within 25 %: a random walk summed
    // in steps adds the velocity noise's drift too).
    expect(one.covariance[0]! / many.covariance[0]!).toBeGreaterThan(0.75);
    expect(one.covariance[0]! / many.covariance[0]!).toBeLessThan(1.25);
    expect(one.covariance[0]).toBeGreaterThan(kf.predict(s, REFERENCE_INTERVAL_S).covariance[0]!);
  });

  it('predict grows the position uncertainty', () => {
    const s = kf.initiate(boxToMeasurement([0, 0, 40, 80]));
    const p = kf.predict(s);
    expect(p.covariance[0]).toBeGreaterThan(s.covariance[0]!);
  });

  it('update pulls the state toward the measurement but not past it', () => {
    const s = kf.predict(kf.initiate(boxToMeasurement([0, 0, 40, 80])));
    const u = kf.update(s, boxToMeasurement([10, 0, 50, 80]));
    expect(u.mean[0]).toBeGreaterThan(20);
    expect(u.mean[0]).toBeLessThan(30);
  });

  it('update shrinks the covariance and learns the velocity over repeated motion', () => {
    let s = kf.initiate(boxToMeasurement([0, 0, 40, 80]));
    const varBefore = kf.predict(s).covariance[0]!;
    for (let f = 1; f <= 20; f++) s = kf.update(kf.predict(s), boxToMeasurement([5 * f, 0, 5 * f + 40, 80]));
    const predicted = kf.predict(s);
    expect(kf.update(predicted, boxToMeasurement([105, 0, 145, 80])).covariance[0]!).toBeLessThan(varBefore);
    // 5 px per 1/30 s step = 150 px/s.
    expect(s.mean[4]! * REFERENCE_INTERVAL_S).toBeCloseTo(5, 0);
  });

  it('keeps the covariance symmetric after updates', () => {
    let s = kf.initiate(boxToMeasurement([0, 0, 40, 80]));
    for (let f = 1; f <= 10; f++) s = kf.update(kf.predict(s), boxToMeasurement([f, f, f + 40, f + 81]));
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(s.covariance[i * 8 + j]).toBe(s.covariance[j * 8 + i]);
  });
});

describe('invertSpd', () => {
  it('returns the inverse of a symmetric positive-definite matrix', () => {
    const a = Float64Array.of(4, 1, 0, 1, 3, 1, 0, 1, 2);
    const prod = matMul(a, invertSpd(a, 3), 3, 3, 3);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(prod[i * 3 + j]).toBeCloseTo(i === j ? 1 : 0, 12);
  });

  it('throws RangeError for a matrix that is not positive definite', () => {
    expect(() => invertSpd(Float64Array.of(1, 2, 2, 1), 2)).toThrow(RangeError);
  });
});
