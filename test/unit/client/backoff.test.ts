import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../../src/client/index.js';
import { checkBackoff } from '../../../src/client/backoff.js';

const opts = { minDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.5 };

describe('backoffDelay', () => {
  it('doubles from minDelayMs and stops at maxDelayMs, however many attempts failed', () => {
    const noJitter = (a: number): number => backoffDelay(a, opts, () => 0);
    expect([0, 1, 2, 3, 4, 5, 6].map(noJitter)).toEqual([100, 200, 400, 800, 1600, 3200, 5000]);
    expect(noJitter(1000)).toBe(5000);
    expect(noJitter(1e9)).toBe(5000);
  });

  it('takes off at most `jitter` of the delay at random, never going below or above the bounds', () => {
    for (let a = 0; a < 40; a++) {
      for (const r of [0, 0.25, 0.999999]) {
        const d = backoffDelay(a, opts, () => r);
        const base = Math.min(5000, 100 * 2 ** a);
        expect(d).toBeGreaterThanOrEqual(base * 0.5);
        expect(d).toBeLessThanOrEqual(base);
      }
    }
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3, opts)));
    expect(spread.size).toBeGreaterThan(40);
  });

  it('stays a number with a zero first wait and huge factors (no 0 * Infinity)', () => {
    expect(backoffDelay(5000, { minDelayMs: 0, maxDelayMs: 10, factor: 1e9, jitter: 0 })).toBe(0);
    expect(backoffDelay(5000, { minDelayMs: 1, maxDelayMs: 10, factor: 1e9, jitter: 0 })).toBe(10);
  });

  it('checkBackoff refuses options that would not be bounded, with a TypeError naming the option', () => {
    expect(checkBackoff(DEFAULT_BACKOFF)).toBe(DEFAULT_BACKOFF);
    expect(() => checkBackoff({ ...opts, maxDelayMs: Infinity })).toThrow(/reconnect.maxDelayMs/);
    expect(() => checkBackoff({ ...opts, maxDelayMs: 50 })).toThrow(TypeError);
    expect(() => checkBackoff({ ...opts, factor: 0.5 })).toThrow(/reconnect.factor/);
    expect(() => checkBackoff({ ...opts, jitter: 2 })).toThrow(/reconnect.jitter/);
    expect(() => checkBackoff({ ...opts, minDelayMs: NaN })).toThrow(/reconnect.minDelayMs/);
  });
});
