import { SegstreamError } from '../../src/core/errors.js';

/** Runs `fn` and returns the SegstreamError it throws; fails when it throws nothing or something else. */
export function thrownSegstreamError(fn: () => unknown): SegstreamError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SegstreamError) return err;
    throw err;
  }
  throw new Error('expected a SegstreamError, nothing was thrown');
}
