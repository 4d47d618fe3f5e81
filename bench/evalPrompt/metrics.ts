import { boxIou } from '../../src/core/index.js';
import type { EndedTarget } from '../../src/cameraTargets.js';
import type { Box } from './placement.js';
import type { Replay } from './replay.js';

/** One prompt in one mode, from its replay. Label-free: nothing here knows where the object really is. */
export interface PromptMetrics {
  readonly accepted: boolean;
  readonly framesAfterPrompt: number;
  /** Of those, the forward ones. */
  readonly forwardAfterPrompt: number;
  /** Processed frames after the prompt with the target present (some object mapped to it). */
  readonly present: number;
  /** Of those, the backward ones. */
  readonly presentBackward: number;
  /** present / framesAfterPrompt, 0..1 (0 for a rejected prompt). */
  readonly presence: number;
  /** Of the present frames, those where the target was only a tracker prediction. */
  readonly predictedOnly: number;
  /** `reattached` entries for the target. */
  readonly reattached: number;
  /** Changes of the track id carrying the target that no reattachment on that frame explains. */
  readonly otherTrackChanges: number;
  /** reattached + otherTrackChanges: one per identity change, never one event twice. */
  readonly identityChanges: number;
  readonly ended: { readonly reason: EndedTarget['reason']; readonly backward: boolean; readonly pictureMs: number } | null;
  /**
   * Forward-backward error on the last processed frame (the prompt frame's picture again):
   * the target's box vs the prompt box. null: the target is absent there.
   */
  readonly fb: { readonly iou: number; readonly centreErrorPx: number } | null;
  /** Accepted and not ended by the last processed frame. */
  readonly survived: boolean;
}

export function iou(a: Box, b: Box): number {
  return boxIou(a, 0, b, 0);
}

/** Distance between box centres, px. */
export function centreDistance(a: Box, b: Box): number {
  return Math.hypot((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2, (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2);
}

const sameIds = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export function promptMetrics(replay: Replay, promptBox: Box): PromptMetrics {
  const { outcome, framesAfterPrompt, forwardAfterPrompt, observations } = replay;
  let present = 0;
  let presentBackward = 0;
  let predictedOnly = 0;
  let reattached = 0;
  let identityChanges = 0;
  let ended: PromptMetrics['ended'] = null;
  let carrying = outcome.ok ? [...outcome.tracks].sort((a, b) => a - b) : [];
  for (const o of observations) {
    reattached += o.reattached;
    let changed = false;
    if (o.trackIds.length > 0) {
      present++;
      if (o.backward) presentBackward++;
      if (o.predicted) predictedOnly++;
      changed = !sameIds(o.trackIds, carrying);
      carrying = o.trackIds;
    }
    // A reattachment moves the target to a new track id: the same event, counted once.
    identityChanges += Math.max(o.reattached, changed ? 1 : 0);
    if (o.ended !== null && ended === null) ended = { reason: o.ended, backward: o.backward, pictureMs: o.pictureMs };
  }
  const last = observations[observations.length - 1];
  const atEnd = last !== undefined && observations.length === framesAfterPrompt ? last.box : null;
  return {
    accepted: outcome.ok,
    framesAfterPrompt,
    forwardAfterPrompt,
    present,
    presentBackward,
    presence: framesAfterPrompt > 0 ? present / framesAfterPrompt : 0,
    predictedOnly,
    reattached,
    otherTrackChanges: identityChanges - reattached,
    identityChanges,
    ended,
    fb: atEnd ? { iou: iou(atEnd, promptBox), centreErrorPx: centreDistance(atEnd, promptBox) } : null,
    survived: outcome.ok && ended === null,
  };
}

export interface ModeSummary {
  readonly prompts: number;
  readonly accepted: number;
  /** Mean presence over all prompts, rejected ones counting 0. */
  readonly meanPresence: number;
  readonly identityChanges: number;
  /** Mean FB IoU over all prompts, a target absent at the end (or rejected) counting 0. */
  readonly meanFbIou: number;
  /** Prompts whose target is present on the last frame. */
  readonly presentAtEnd: number;
  /** Share of prompts whose target survived to the end, 0..1. */
  readonly survived: number;
}

export function summarise(results: readonly PromptMetrics[]): ModeSummary {
  const n = results.length;
  const mean = (f: (r: PromptMetrics) => number): number => (n > 0 ? results.reduce((s, r) => s + f(r), 0) / n : NaN);
  return {
    prompts: n,
    accepted: results.filter((r) => r.accepted).length,
    meanPresence: mean((r) => r.presence),
    identityChanges: results.reduce((s, r) => s + r.identityChanges, 0),
    meanFbIou: mean((r) => r.fb?.iou ?? 0),
    presentAtEnd: results.filter((r) => r.fb !== null).length,
    survived: mean((r) => (r.survived ? 1 : 0)),
  };
}
