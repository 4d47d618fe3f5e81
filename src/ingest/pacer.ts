/**
 * Releases frames of a finite source (a file, an http(s) file) at their own media time,
 * as a camera would deliver them. Pure: media time and wall clock in, wait out. A frame
 * that is late by more than `maxLateMs` (a slow machine, a stopped ffmpeg) or a timestamp
 * that goes back or leaps (a loop, a broken file) re-anchors the clock instead of causing a
 * burst of catch-up frames.
 */
export class Pacer {
  private anchorMediaMs = 0;
  private anchorWallMs = 0;
  private lastMediaMs: number | undefined;

  constructor(
    private readonly maxLateMs = 250,
    private readonly maxJumpMs = 5000,
  ) {}

  /** How long to hold the frame with media time `mediaMs` when the wall clock reads `nowMs`, ms. */
  delay(mediaMs: number, nowMs: number): number {
    const last = this.lastMediaMs;
    this.lastMediaMs = mediaMs;
    if (last === undefined || mediaMs < last || mediaMs - last > this.maxJumpMs) return this.anchor(mediaMs, nowMs);
    const wait = this.anchorWallMs + (mediaMs - this.anchorMediaMs) - nowMs;
    if (wait < -this.maxLateMs) return this.anchor(mediaMs, nowMs);
    return Math.max(0, wait);
  }

  private anchor(mediaMs: number, nowMs: number): number {
    this.anchorMediaMs = mediaMs;
    this.anchorWallMs = nowMs;
    return 0;
  }
}
