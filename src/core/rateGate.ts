/**
 * Lets through at most one event per `intervalMs` on average, by the events' own timestamps
 * (capture time, so encoder and clients agree whatever the processing jitter). An event may
 * come up to half an interval early on its slot (frames arrive at the source's own rhythm,
 * which rarely divides the interval), but slots advance by one interval per event let
 * through, so over any span of T ms at most T / intervalMs + 2 pass. A gap longer than an
 * interval starts the schedule again from the event (no burst to catch up).
 */
export class RateGate {
  private next = Number.NEGATIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;

  /** Whether the event at `timestampMs` passes (and if so takes the slot). */
  admit(timestampMs: number, intervalMs: number): boolean {
    // A timestamp going back (a restarted source): start again.
    if (timestampMs < this.last) this.next = Number.NEGATIVE_INFINITY;
    if (timestampMs < this.next - intervalMs / 2) return false;
    this.last = timestampMs;
    this.next = timestampMs - this.next > intervalMs ? timestampMs + intervalMs : this.next + intervalMs;
    return true;
  }

  /** Forgets the schedule: the next event passes. */
  reset(): void {
    this.next = Number.NEGATIVE_INFINITY;
    this.last = Number.NEGATIVE_INFINITY;
  }
}
