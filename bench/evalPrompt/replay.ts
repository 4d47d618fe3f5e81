import { CameraTargets, type EndedTarget, type TargetedFrame } from '../../src/cameraTargets.js';
import { SegstreamError, type Detections } from '../../src/core/index.js';
import type { SegmentedFrame } from '../../src/pipeline/index.js';
import type { TrackerOptionsInput } from '../../src/tracking/index.js';
import type { Box } from './placement.js';
import { pictureOf } from './schedule.js';

/** What one processed frame after the prompt says about the target. */
export interface Observation {
  /** Timeline index (see schedule.ts). */
  readonly c: number;
  readonly backward: boolean;
  /** Media time of the picture shown, in forward play, ms. */
  readonly pictureMs: number;
  /** Track ids of the objects carrying the target, ascending; empty: the target is absent. */
  readonly trackIds: number[];
  /** Union of their boxes, source px; null when absent. */
  readonly box: Box | null;
  /** Present, but only as tracker predictions (no detection matched). */
  readonly predicted: boolean;
  /** `reattached` entries for the target on this frame. */
  readonly reattached: number;
  /** The target ended on this frame (TargetedFrame.ended), with its reason. */
  readonly ended: EndedTarget['reason'] | null;
}

export type PromptOutcome =
  | { readonly ok: true; readonly target: number; readonly tracks: number[]; /** Box of the bound tracks on the prompt frame. */ readonly boundBox: Box | null }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface Replay {
  readonly outcome: PromptOutcome;
  /** Processed frames after the prompt frame: the presence denominator. */
  readonly framesAfterPrompt: number;
  /** Of those, the forward ones (the rest are backward). */
  readonly forwardAfterPrompt: number;
  /** One per processed frame after the prompt, up to the one the target ended on (it cannot come back). */
  readonly observations: Observation[];
}

export interface ReplaySetup {
  readonly trackerOptions: TrackerOptionsInput;
  readonly classNames: readonly string[];
}

/** Union box of the detections at `indices`; null for none. */
export function unionBox(det: Detections, indices: readonly number[]): Box | null {
  if (indices.length === 0) return null;
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const i of indices) {
    const [a, b, c, d] = det.box(i);
    x1 = Math.min(x1, a);
    y1 = Math.min(y1, b);
    x2 = Math.max(x2, c);
    y2 = Math.max(y2, d);
  }
  return [x1, y1, x2, y2];
}

/** The target on one processed frame: the objects `targets` maps to it, its reattachments, its end. */
export function observeTarget(tf: TargetedFrame, target: number): Pick<Observation, 'trackIds' | 'box' | 'predicted' | 'reattached' | 'ended'> {
  const det = tf.seg.detections;
  const indices: number[] = [];
  for (let i = 0; i < det.length; i++) if (tf.targets.get(det.trackIds[i]!) === target) indices.push(i);
  return {
    trackIds: [...new Set(indices.map((i) => det.trackIds[i]!))].sort((a, b) => a - b),
    box: unionBox(det, indices),
    predicted: indices.length > 0 && indices.every((i) => det.predicted[i] === 1),
    reattached: tf.reattached.filter((r) => r.target === target).length,
    ended: tf.ended.find((e) => e.target === target)?.reason ?? null,
  };
}

/**
 * One CameraTargets run (so prompts never interact) over the timeline indices `schedule`:
 * process() each frame; right after the frame at timeline index `promptAt`, one box prompt.
 * A rejected prompt (SegstreamError, e.g. E_PROMPT_NO_MATCH when the box's object has no
 * track yet) is an outcome, not a failure.
 */
export async function replayPrompt(
  timeline: readonly SegmentedFrame[],
  schedule: readonly number[],
  promptAt: number,
  box: Box,
  setup: ReplaySetup,
): Promise<Replay> {
  const n = timeline.length / 2;
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`timeline must hold n forward and n backward frames, got ${timeline.length}`);
  const promptPos = schedule.indexOf(promptAt);
  if (promptPos < 0) throw new TypeError(`the schedule does not process the prompt frame ${promptAt}`);
  const camera = timeline[0]!.frame.camera;
  const targets = new CameraTargets([camera], setup.trackerOptions, setup.classNames);
  const after = schedule.slice(promptPos + 1);
  const framesAfterPrompt = after.length;
  const forwardAfterPrompt = after.filter((c) => c < n).length;
  for (const c of schedule.slice(0, promptPos)) targets.process(timeline[c]!);
  const atPrompt = targets.process(timeline[promptAt]!);

  let outcome: PromptOutcome;
  try {
    const reply = await targets.handle({ type: 'prompt', camera, box: [...box] });
    const target = reply['target'];
    const tracks = reply['tracks'];
    if (typeof target !== 'number' || !Array.isArray(tracks)) throw new TypeError(`unexpected prompt reply ${JSON.stringify(reply)}`);
    const bound = tracks as number[];
    const det = atPrompt.seg.detections;
    const indices: number[] = [];
    for (let i = 0; i < det.length; i++) if (bound.includes(det.trackIds[i]!)) indices.push(i);
    outcome = { ok: true, target, tracks: bound, boundBox: unionBox(det, indices) };
  } catch (err) {
    if (!(err instanceof SegstreamError)) throw err;
    return { outcome: { ok: false, code: err.code, message: err.message }, framesAfterPrompt, forwardAfterPrompt, observations: [] };
  }

  const observations: Observation[] = [];
  for (const c of after) {
    const o = observeTarget(targets.process(timeline[c]!), outcome.target);
    observations.push({ c, backward: c >= n, pictureMs: timeline[pictureOf(c, n)]!.frame.pts, ...o });
    if (o.ended !== null) break;
  }
  // A detection the prompt made a track of (it had no id on the prompt frame) shows its box
  // from the next frame on.
  if (outcome.boundBox === null && observations[0]?.box) outcome = { ...outcome, boundBox: observations[0].box };
  return { outcome, framesAfterPrompt, forwardAfterPrompt, observations };
}
