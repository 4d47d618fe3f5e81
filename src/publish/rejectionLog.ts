/**
 * Rate limit for log lines about rejected client input, pure and clocked by its caller. Within
 * a window of `intervalMs` (from the first rejection) the first `burst` rejections are logged
 * one by one; the rest are only counted by code, and when the window ends one summary says how
 * many of each code were not logged. A client sending 10,000 bad messages costs a few lines,
 * not 10,000; metrics still count every one.
 */

export interface RejectionLogOptions {
  /** Rejections logged one by one per window. */
  readonly burst: number;
  /** Window length, ms. */
  readonly intervalMs: number;
}

export interface RejectionSummary {
  /** Rejections not logged one by one, by code. */
  readonly suppressed: Record<string, number>;
  /** Their sum. */
  readonly total: number;
  /** Window length so far, ms. */
  readonly windowMs: number;
}

export class RejectionLog {
  private windowStart: number | null = null;
  private logged = 0;
  private readonly suppressed = new Map<string, number>();

  constructor(private readonly options: RejectionLogOptions) {
    if (!Number.isInteger(options.burst) || options.burst < 0) throw new TypeError(`burst must be a non-negative integer, got ${options.burst}`);
    if (!(options.intervalMs > 0)) throw new TypeError(`intervalMs must be positive, got ${options.intervalMs}`);
  }

  /**
   * One rejection at `now` (ms): `log` says whether to log it on its own line; `summary` is
   * the window that ended before it (log it first), or null.
   */
  record(code: string, now: number): { log: boolean; summary: RejectionSummary | null } {
    const summary = this.flushIfDue(now);
    this.windowStart ??= now;
    if (this.logged < this.options.burst) {
      this.logged++;
      return { log: true, summary };
    }
    this.suppressed.set(code, (this.suppressed.get(code) ?? 0) + 1);
    return { log: false, summary };
  }

  /** Ends the window if it has run `intervalMs`: its summary when something was suppressed. */
  flushIfDue(now: number): RejectionSummary | null {
    if (this.windowStart === null || now - this.windowStart < this.options.intervalMs) return null;
    return this.flush(now);
  }

  /** Ends the window now (e.g. the client left): its summary when something was suppressed. */
  flush(now: number): RejectionSummary | null {
    const start = this.windowStart;
    this.windowStart = null;
    this.logged = 0;
    if (start === null || this.suppressed.size === 0) return null;
    let total = 0;
    for (const n of this.suppressed.values()) total += n;
    const suppressed = Object.fromEntries(this.suppressed);
    this.suppressed.clear();
    return { suppressed, total, windowMs: now - start };
  }
}
