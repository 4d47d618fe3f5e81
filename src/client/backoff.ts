/** How long to wait before each reconnect. */
export interface BackoffOptions {
  /** First wait, ms. */
  minDelayMs: number;
  /** Longest wait, ms: the delay stops growing here. */
  maxDelayMs: number;
  /** Growth per failed attempt (2: doubles). */
  factor: number;
  /** 0..1: each wait is drawn from [delay * (1 - jitter), delay], so clients that lost one server do not return at once. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minDelayMs: 500, maxDelayMs: 15_000, factor: 2, jitter: 0.5 };

/** Bad options are programming errors: TypeError naming the option. */
export function checkBackoff(o: BackoffOptions): BackoffOptions {
  const bad = (k: string, v: number, want: string): never => {
    throw new TypeError(`reconnect.${k} must be ${want}, got ${v}`);
  };
  if (!(Number.isFinite(o.minDelayMs) && o.minDelayMs >= 0)) bad('minDelayMs', o.minDelayMs, 'a finite number >= 0');
  if (!(Number.isFinite(o.maxDelayMs) && o.maxDelayMs >= o.minDelayMs)) bad('maxDelayMs', o.maxDelayMs, `a finite number >= minDelayMs (${o.minDelayMs})`);
  if (!(Number.isFinite(o.factor) && o.factor >= 1)) bad('factor', o.factor, 'a finite number >= 1');
  if (!(o.jitter >= 0 && o.jitter <= 1)) bad('jitter', o.jitter, 'between 0 and 1');
  return o;
}

/**
 * The wait before reconnect attempt `attempt` (0 = the first after a drop), ms:
 * min(maxDelayMs, minDelayMs * factor^attempt), less up to `jitter` of it at random.
 * Always within [0, maxDelayMs]; `random` returns [0, 1) (injectable for tests).
 */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  // 0 * Infinity would be NaN: a zero first wait stays zero however large factor^attempt grows.
  const grown = o.minDelayMs === 0 ? 0 : o.minDelayMs * o.factor ** Math.max(0, attempt);
  const base = Math.min(o.maxDelayMs, grown);
  return base * (1 - o.jitter * random());
}
