import { performance } from 'node:perf_hooks';
import type { Detections, Frame } from './core/index.js';
import { SegstreamError } from './core/index.js';
import type { SegmentedFrame } from './pipeline/index.js';
import type { PromptClearedMessage, PromptOkMessage } from './protocol/index.js';
import {
  parsePromptMessage,
  select,
  TargetRegistries,
  trackIdsOf,
  validatePrompt,
  type EndedTarget,
  type KnownTrack,
  type Reattachment,
  type TextSelector,
} from './prompts/index.js';
import { attachTracks, ByteTracker, classGroupsOf, clipMaskToBox, type Box, type TrackedObject, type TrackerOptionsInput } from './tracking/index.js';

/** What one frame looks like after tracking and target annotation. */
export interface TargetedFrame {
  seg: SegmentedFrame;
  /** Track id -> target id for this frame's objects. */
  targets: ReadonlyMap<number, number>;
  reattached: Reattachment[];
  ended: EndedTarget[];
}

export type { EndedTarget };

interface Latest {
  frame: Frame;
  detections: Detections;
  /** Index of each of `detections` in the tracker's input of that frame (-1: predicted). */
  sourceIndex: Int32Array;
  /** The tracker's frame count after that frame: adopt() works only while it is the tracker's last. */
  trackerFrame: number;
}

/**
 * Per camera: a tracker, the targets bound to its tracks, and the latest tracked frame
 * that prompts are evaluated on. Tracker ids and target ids are per camera.
 */
export class CameraTargets {
  private readonly trackers = new Map<string, ByteTracker>();
  private readonly registries: TargetRegistries;
  private readonly latest = new Map<string, Latest>();
  /** Source size of each camera's last frame, `WxH`. */
  private readonly sizes = new Map<string, string>();

  /** `trackerOptions` null: tracking off, so no ids and no prompts (they bind to tracks). */
  constructor(
    cameras: readonly string[],
    trackerOptions: TrackerOptionsInput | null,
    private readonly classNames: readonly string[],
    private readonly textSelector?: TextSelector,
  ) {
    const classGroups = classGroupsOf(classNames);
    if (trackerOptions) for (const c of cameras) this.trackers.set(c, new ByteTracker(trackerOptions, { classGroups }));
    // A target ends when its tracker has given its pinned track up.
    const memory = this.trackers.values().next().value?.options.targetMemoryS;
    this.registries = new TargetRegistries(cameras, memory === undefined ? {} : { maxMissingS: memory });
  }

  /**
   * Tracks one frame (synchronous, main thread) at its media time (`frame.pts`) and annotates
   * its objects with targets.
   */
  process(seg: SegmentedFrame): TargetedFrame {
    const camera = seg.frame.camera;
    const tracker = this.trackers.get(camera);
    if (!tracker) return { seg: { ...seg, timings: { ...seg.timings, trackingMs: 0 } }, targets: new Map(), reattached: [], ended: [] };
    const t0 = performance.now();
    const registry = this.registries.get(camera);
    const ended: EndedTarget[] = [];
    const size = `${seg.frame.letterbox.srcWidth}x${seg.frame.letterbox.srcHeight}`;
    const before = this.sizes.get(camera);
    this.sizes.set(camera, size);
    if (before !== undefined && before !== size) {
      // New geometry: tracks and targets start over; track and target ids keep counting.
      tracker.reset(true);
      ended.push(...registry.reset());
    }
    const nowS = seg.frame.pts / 1000;
    const tracked = inFrame(tracker.update(seg.detections, nowS), seg.frame.letterbox.srcWidth, seg.frame.letterbox.srcHeight);
    const { detections, sourceIndex } = attachTracks(seg.detections, tracked, tracker.lastDuplicates);
    const ann = registry.annotate(tracked, nowS);
    ended.push(...ann.ended);
    // Every change to the bound tracks (a target that ended, a hand-over, a prompt, a clear)
    // reaches the tracker's pinned set where it happens: here, in create and in clear.
    tracker.setPinned(registry.boundTrackIds());
    this.latest.set(camera, { frame: seg.frame, detections, sourceIndex, trackerFrame: tracker.frameCount });
    const trackingMs = performance.now() - t0;
    return { seg: { ...seg, detections, timings: { ...seg.timings, trackingMs } }, targets: ann.assignments, reattached: ann.reattached, ended };
  }

  /**
   * Track id -> target id for objects of an earlier result carried forward (motion gating):
   * the targets as they are bound now, without stepping the tracker or the targets' clocks.
   */
  targetsOf(camera: string, detections: Detections): Map<number, number> {
    const out = new Map<number, number>();
    if (!this.trackers.has(camera)) return out;
    const registry = this.registries.get(camera);
    for (const id of detections.trackIds) {
      const target = id >= 0 ? registry.targetOf(id) : undefined;
      if (target !== undefined) out.set(id, target);
    }
    return out;
  }

  /** Ends every camera's targets (the camera is removed or restarts). */
  endAll(reason: 'removed' | 'restarted'): { camera: string; ended: EndedTarget[] }[] {
    return this.registries.cameras().map((camera) => ({ camera, ended: this.registries.get(camera).reset(reason) }));
  }

  /**
   * Handles a `prompt` or `prompt.clear` client message. Resolves with the reply; rejects
   * with a SegstreamError (the target set is unchanged then).
   */
  async handle(raw: unknown): Promise<Record<string, unknown>> {
    const msg = parsePromptMessage(raw);
    const registry = this.registries.get(msg.camera); // E_UNKNOWN_CAMERA
    if (this.trackers.size === 0) {
      throw new SegstreamError('E_PROMPT_INVALID', 'prompts need tracking, which is off (--no-tracking)', { expected: 'tracking on' });
    }
    const echo = msg.id === undefined ? {} : { id: msg.id };
    if (msg.type === 'prompt.clear') {
      const cleared = registry.clear(msg.target);
      this.trackers.get(msg.camera)!.setPinned(registry.boundTrackIds());
      return { type: 'prompt.cleared', camera: msg.camera, targets: cleared, ...echo } satisfies PromptClearedMessage;
    }
    const latest = this.latest.get(msg.camera);
    const tracker = this.trackers.get(msg.camera)!;
    if (!latest) {
      throw new SegstreamError('E_PROMPT_NO_MATCH', `camera ${msg.camera} has no processed frame yet`, { expected: 'a processed frame' });
    }
    const lb = latest.frame.letterbox;
    const prompt = validatePrompt(msg, lb.srcWidth, lb.srcHeight);
    // CLIP picks one best mask: pick it among tracked objects, which a target can bind to.
    const clip = prompt.kind === 'text' && this.textSelector !== undefined;
    const candidates = clip ? latest.detections.subset(trackedIndices(latest.detections)) : latest.detections;
    const sel = await select(prompt, candidates, {
      classNames: this.classNames,
      ...(this.textSelector ? { textSelector: this.textSelector, image: latest.frame } : {}),
    });
    const adopted = new Map<number, KnownTrack>();
    let tracks: number[];
    if (clip || tracker.frameCount !== latest.trackerFrame) {
      tracks = trackIdsOf(candidates, sel.indices);
    } else {
      tracks = [...new Set(sel.indices.map((i) => latest.detections.trackIds[i]!).filter((id) => id >= 0))];
      // The click is the confirmation: a selected detection without a track becomes one now.
      for (const i of sel.indices) {
        if (latest.detections.trackIds[i]! >= 0 || latest.sourceIndex[i]! < 0) continue;
        const id = tracker.adopt(latest.sourceIndex[i]!);
        if (id === undefined) continue;
        adopted.set(id, { box: latest.detections.box(i), classId: latest.detections.classIds[i]! });
        if (!tracks.includes(id)) tracks.push(id);
      }
      tracks.sort((a, b) => a - b);
      if (tracks.length === 0) tracks = trackIdsOf(candidates, sel.indices); // E_PROMPT_NO_MATCH
    }
    if (clip) {
      // CLIP ran in its worker while frames went on: keep the tracks still in view.
      const now = this.latest.get(msg.camera)!.detections.trackIds;
      tracks = tracks.filter((id) => now.includes(id));
      if (tracks.length === 0) {
        throw new SegstreamError('E_PROMPT_NO_MATCH', 'the selected object left the view while the text prompt was evaluated', { expected: 'a tracked object' });
      }
    }
    let target: number;
    try {
      target = registry.create(tracks, prompt, adopted);
    } catch (err) {
      // A refused prompt changes nothing: the tracks it made are taken back.
      tracker.discardAdopted([...adopted.keys()]);
      throw err;
    }
    tracker.setPinned(registry.boundTrackIds());
    return { type: 'prompt.ok', camera: msg.camera, target, tracks, method: sel.method, seq: latest.frame.seq, ...echo } satisfies PromptOkMessage;
  }
}

/**
 * Predicted objects cut to the source frame: one that left the picture is dropped, one partly
 * out keeps its inside part (box and mask, never empty), so every published mask lies inside
 * its box and the frame.
 */
function inFrame(objects: TrackedObject[], width: number, height: number): TrackedObject[] {
  const out: TrackedObject[] = [];
  for (const o of objects) {
    const [x1, y1, x2, y2] = o.box;
    if (!o.predicted || (x1 >= 0 && y1 >= 0 && x2 <= width && y2 <= height)) {
      out.push(o);
      continue;
    }
    const box: Box = [Math.max(0, x1), Math.max(0, y1), Math.min(width, x2), Math.min(height, y2)];
    if (box[2] - box[0] < 1 || box[3] - box[1] < 1) continue;
    out.push({ ...o, box, mask: o.mask === null ? null : clipMaskToBox(o.mask, box) });
  }
  return out;
}

function trackedIndices(d: Detections): number[] {
  const out: number[] = [];
  for (let i = 0; i < d.length; i++) if (d.trackIds[i]! >= 0) out.push(i);
  return out;
}
