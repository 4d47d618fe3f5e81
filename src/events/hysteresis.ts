/**
 * One condition's run, shared by the rule engine and the health checks: when it began to hold,
 * when it last held, and whether its event is open. A run survives a false spell shorter than
 * the end hysteresis (so a flicker neither ends an open event nor restarts a pending wait) and
 * is over once the condition has been false that long. Times are media seconds.
 */
/**
 * Tolerance of time comparisons, s: frame times such as i / 30 carry rounding, and 1.4 - 0.9
 * must count as the 0.5 s it is.
 */
export const TIME_EPS = 1e-6;

/** Has `elapsed` reached `span` (both s, within TIME_EPS)? */
export function reached(elapsed: number, span: number): boolean {
  return elapsed >= span - TIME_EPS;
}

export interface Run {
  /** When the condition began to hold, s. */
  since: number;
  /** When it last held, s. */
  last: number;
  /** Whether the event of this run has started. */
  open: boolean;
}

/**
 * The run after observing the condition at `t`: a new run when it holds and there was none
 * (beginning at `startAt`, `t` unless the caller knows the condition began earlier), the same
 * run when it holds or was false for less than `endS`, undefined once it was false `endS` or
 * longer (the caller ends the event when the old run was open).
 */
export function advance(run: Run | undefined, holds: boolean, t: number, endS: number, startAt = t): Run | undefined {
  if (holds) {
    if (run === undefined) return { since: Math.min(startAt, t), last: t, open: false };
    run.last = t;
    return run;
  }
  if (run === undefined) return undefined;
  return reached(t - run.last, endS) ? undefined : run;
}
