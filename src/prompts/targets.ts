import { boxIou } from '../core/index.js';
import type { TrackedObject } from '../tracking/index.js';
import { promptError } from './errors.js';
import type { Prompt } from './schema.js';

type Box = readonly [number, number, number, number];

/**
 * Prompted targets of one camera: a pure, synchronous registry fed once per frame with the
 * tracker's output. A target is a set of track ids a prompt selected; `annotate()` says which
 * target each reported object belongs to, follows a target across an id switch (a bound
 * track disappears and a new one is born where it was heading) and ends targets whose tracks
 * have all been gone too long.
 *
 * It relies on ByteTracker's ids being sequential per tracker: a track born later has a
 * larger id. After ByteTracker.reset() (ids restart at 1) call reset() here too.
 */

export interface TargetRegistryOptions {
  /**
   * Least IoU between a new track's box and the extrapolated box of a vanished bound track
   * for the target to move to the new track. Higher: fewer wrong hand-overs, more targets
   * lost after an id switch.
   */
  readonly reattachIou: number;
  /**
   * Seconds (media time) a bound track may be absent from the tracker output before it is
   * unbound; a target with no bound track left ends. The live service sets it to the
   * tracker's targetMemoryS, so a target ends when its tracker has given its track up.
   */
  readonly maxMissingS: number;
  /** Most live targets per camera (E_TARGET_LIMIT beyond). */
  readonly maxTargets: number;
  /** Re-attach only to a track of the same class (off: detectors flip car/truck often). */
  readonly requireSameClass: boolean;
  /**
   * Keep moving a vanished track's box with its last velocity (px/s) while it is absent, as
   * the Kalman filter does, so a new track further along the path still matches.
   */
  readonly extrapolate: boolean;
}

export const DEFAULT_TARGET_OPTIONS: TargetRegistryOptions = {
  reattachIou: 0.3,
  maxMissingS: 10,
  maxTargets: 16,
  requireSameClass: false,
  extrapolate: true,
};

export interface TargetInfo {
  readonly id: number;
  readonly prompt: Prompt;
  /** Track ids bound now (present or recently vanished), ascending. */
  readonly trackIds: number[];
  /** Media time of the frame the target was created on, s. */
  readonly createdAt: number;
}

export interface Reattachment {
  readonly target: number;
  readonly from: number;
  readonly to: number;
}

/**
 * Why a target ended: `lost` (its tracks were gone longer than maxMissingS), `replaced` (a newer
 * prompt took all its tracks) or `resolution` (the camera's picture size changed).
 */
export interface EndedTarget {
  readonly target: number;
  readonly reason: 'lost' | 'replaced' | 'resolution' | 'removed' | 'restarted';
}

/** What annotate() knows of a track it may bind: its box and label. */
export interface KnownTrack {
  readonly box: Box;
  readonly classId: number;
}

export interface AnnotateResult {
  /** Track id -> target id, for the objects of this frame that belong to a target. */
  readonly assignments: Map<number, number>;
  /** Targets whose track moved to a new track id this frame. */
  readonly reattached: Reattachment[];
  /** Targets that ended since the last call, with why. */
  readonly ended: EndedTarget[];
}

interface Binding {
  trackId: number;
  classId: number;
  /** Last box reported by the tracker (matched or predicted), then extrapolated while absent. */
  box: Box;
  /** Centre velocity, px/s. */
  vx: number;
  vy: number;
  /** Seconds absent from the tracker output (0 when present). */
  missing: number;
  /** Seconds since the tracker last matched a detection to it (predicted output does not count). */
  unseen: number;
  /** Largest track id seen when this track was last observed (not predicted): later tracks are newer. */
  idHorizon: number;
  /** Media time the box was last reported at, s. */
  seenAt: number;
}

interface Target {
  readonly id: number;
  readonly prompt: Prompt;
  readonly createdAt: number;
  bindings: Binding[];
}

export class TargetRegistry {
  readonly options: TargetRegistryOptions;
  private targets = new Map<number, Target>();
  private nextId = 1;
  /** Media time of the last annotate() call, s. */
  private now = 0;
  private maxSeenId = 0;
  /** The last annotate() input, by id. */
  private last = new Map<number, TrackedObject>();
  private pendingEnded: EndedTarget[] = [];

  constructor(
    readonly camera: string,
    options: Partial<TargetRegistryOptions> = {},
  ) {
    const o = { ...DEFAULT_TARGET_OPTIONS, ...options };
    if (!(o.reattachIou > 0 && o.reattachIou <= 1)) throw new TypeError(`reattachIou must be in (0, 1], got ${o.reattachIou}`);
    if (!(o.maxMissingS >= 0 && Number.isFinite(o.maxMissingS))) throw new TypeError(`maxMissingS must be a non-negative number of seconds, got ${o.maxMissingS}`);
    if (!Number.isInteger(o.maxTargets) || o.maxTargets < 0) throw new TypeError(`maxTargets must be a non-negative integer, got ${o.maxTargets}`);
    this.options = o;
  }

  /** Live targets, by id. */
  list(): TargetInfo[] {
    return [...this.targets.values()].map((t) => ({
      id: t.id,
      prompt: t.prompt,
      trackIds: t.bindings.map((b) => b.trackId).sort((a, b) => a - b),
      createdAt: t.createdAt,
    }));
  }

  get size(): number {
    return this.targets.size;
  }

  /** Every track id bound to a target (present or recently vanished): the tracker pins these. */
  boundTrackIds(): Set<number> {
    const out = new Set<number>();
    for (const t of this.targets.values()) for (const b of t.bindings) out.add(b.trackId);
    return out;
  }

  /** The target a track id is bound to, or undefined. */
  targetOf(trackId: number): number | undefined {
    for (const t of this.targets.values()) if (t.bindings.some((b) => b.trackId === trackId)) return t.id;
    return undefined;
  }

  /**
   * Binds the tracks (ids from the last annotate() input, or in `adopted`: tracks the tracker
   * made from the prompt's detections just now) to a new target and returns its id
   * (sequential per camera, from 1). A track already bound moves to the new target; a target
   * left without tracks ends as `replaced` (reported by the next annotate()). Throws, changing
   * nothing: E_PROMPT_NO_MATCH when no id is given or one is not known, E_TARGET_LIMIT when the
   * camera already holds maxTargets targets.
   */
  create(trackIds: readonly number[], prompt: Prompt, adopted: ReadonlyMap<number, KnownTrack> = new Map()): number {
    const ids = [...new Set(trackIds)];
    for (const id of ids) if (!Number.isInteger(id) || id < 1) throw new TypeError(`track ids are positive integers, got ${id}`);
    if (ids.length === 0) {
      throw promptError('E_PROMPT_NO_MATCH', 'a target needs at least one tracked object', { expected: '>= 1 track id', actual: 0 });
    }
    const known = (id: number): KnownTrack | undefined => this.last.get(id) ?? adopted.get(id);
    const unknown = ids.filter((id) => known(id) === undefined);
    if (unknown.length > 0) {
      throw promptError('E_PROMPT_NO_MATCH', `track(s) ${unknown.join(', ')} are not in the current frame of camera ${this.camera}`, {
        expected: [...this.last.keys()],
        actual: unknown,
      });
    }
    const emptied = [...this.targets.values()].filter((t) => t.bindings.every((b) => ids.includes(b.trackId)));
    if (this.targets.size - emptied.length >= this.options.maxTargets) {
      throw promptError('E_TARGET_LIMIT', `camera ${this.camera} already has ${this.targets.size} targets; clear one first`, {
        expected: `<= ${this.options.maxTargets} targets`,
        actual: this.targets.size + 1,
      });
    }
    for (const t of this.targets.values()) t.bindings = t.bindings.filter((b) => !ids.includes(b.trackId));
    for (const t of emptied) {
      this.targets.delete(t.id);
      this.pendingEnded.push({ target: t.id, reason: 'replaced' });
    }
    const id = this.nextId++;
    const bindings = ids.map((trackId): Binding => {
      const o = known(trackId)!;
      return { trackId, classId: o.classId, box: o.box, vx: 0, vy: 0, missing: 0, unseen: 0, idHorizon: Math.max(this.maxSeenId, trackId), seenAt: this.now };
    });
    this.targets.set(id, { id, prompt, createdAt: this.now, bindings });
    return id;
  }

  /**
   * Removes one target (E_UNKNOWN_TARGET when there is none with that id; nothing changes) or,
   * without an id, every target. Returns the ids removed.
   */
  clear(id?: number): number[] {
    if (id === undefined) {
      const all = [...this.targets.keys()];
      this.targets.clear();
      return all;
    }
    if (!this.targets.delete(id)) {
      throw promptError('E_UNKNOWN_TARGET', `camera ${this.camera} has no target ${id}`, {
        expected: [...this.targets.keys()],
        actual: id,
      });
    }
    return [id];
  }

  /**
   * Forgets targets and the track ids seen (after ByteTracker.reset(), or when the camera
   * ends); target ids keep counting. The live targets end with `reason`.
   */
  reset(reason: EndedTarget['reason'] = 'resolution'): EndedTarget[] {
    // Targets a newer prompt emptied since the last annotate() still end as replaced.
    const ended: EndedTarget[] = [...this.pendingEnded, ...this.clear().map((target): EndedTarget => ({ target, reason }))];
    this.last.clear();
    this.maxSeenId = 0;
    this.pendingEnded = [];
    return ended;
  }

  /**
   * One frame's tracker output -> which target each object belongs to. Call once per frame
   * with the frame's media time in seconds (a smaller value than the last counts as no time).
   */
  annotate(objects: readonly TrackedObject[], nowS: number): AnnotateResult {
    const t = Number.isFinite(nowS) ? nowS : this.now;
    const dt = Math.max(0, t - this.now);
    this.now = Math.max(this.now, t);
    const present = new Map<number, TrackedObject>();
    for (const o of objects) present.set(o.id, o);
    const horizonBefore = this.maxSeenId;
    for (const o of objects) if (o.id > this.maxSeenId) this.maxSeenId = o.id;

    const bound = new Set<number>();
    const absent: { target: Target; binding: Binding }[] = [];
    for (const t of this.targets.values()) {
      for (const b of t.bindings) {
        const o = present.get(b.trackId);
        if (o) {
          b.unseen = o.predicted ? b.unseen + dt : 0;
          this.observe(b, o, horizonBefore);
          bound.add(b.trackId);
        } else {
          b.unseen += dt;
          b.missing += dt;
          if (this.options.extrapolate) b.box = shift(b.box, b.vx * dt, b.vy * dt);
          absent.push({ target: t, binding: b });
        }
      }
    }

    const reattached = this.reattach(absent, objects, bound);

    const ended = this.pendingEnded;
    this.pendingEnded = [];
    for (const t of [...this.targets.values()]) {
      t.bindings = t.bindings.filter((b) => b.unseen <= this.options.maxMissingS);
      if (t.bindings.length === 0) {
        this.targets.delete(t.id);
        ended.push({ target: t.id, reason: 'lost' });
      }
    }

    const assignments = new Map<number, number>();
    for (const t of this.targets.values()) for (const b of t.bindings) if (present.has(b.trackId)) assignments.set(b.trackId, t.id);
    this.last = present;
    return { assignments, reattached, ended };
  }

  private observe(b: Binding, o: TrackedObject, horizonBefore: number): void {
    const dt = this.now - b.seenAt;
    if (dt > 0 && b.missing === 0) {
      b.vx = (centreX(o.box) - centreX(b.box)) / dt;
      b.vy = (centreY(o.box) - centreY(b.box)) / dt;
    }
    b.box = o.box;
    b.classId = o.classId;
    b.missing = 0;
    b.seenAt = this.now;
    if (!o.predicted) b.idHorizon = Math.max(horizonBefore, o.id);
  }

  /**
   * Vanished bound tracks vs unbound tracks born after the vanished one was last observed:
   * greedy by IoU with the extrapolated box, best pair first, each side used once.
   */
  private reattach(absent: { target: Target; binding: Binding }[], objects: readonly TrackedObject[], bound: Set<number>): Reattachment[] {
    if (absent.length === 0) return [];
    const pairs: { iou: number; a: number; o: TrackedObject }[] = [];
    absent.forEach(({ binding: b }, a) => {
      for (const o of objects) {
        if (bound.has(o.id) || o.id <= b.idHorizon) continue;
        if (this.options.requireSameClass && o.classId !== b.classId) continue;
        const iou = boxIou(b.box, 0, o.box, 0);
        if (iou >= this.options.reattachIou) pairs.push({ iou, a, o });
      }
    });
    pairs.sort((p, q) => q.iou - p.iou || p.a - q.a || p.o.id - q.o.id);
    const usedA = new Set<number>();
    const out: Reattachment[] = [];
    for (const p of pairs) {
      if (usedA.has(p.a) || bound.has(p.o.id)) continue;
      usedA.add(p.a);
      bound.add(p.o.id);
      const { target, binding } = absent[p.a]!;
      out.push({ target: target.id, from: binding.trackId, to: p.o.id });
      binding.trackId = p.o.id;
      binding.missing = 0;
      binding.unseen = 0;
      // The velocity carries over: it is the same object.
      binding.box = p.o.box;
      binding.classId = p.o.classId;
      binding.seenAt = this.now;
      binding.idHorizon = this.maxSeenId;
    }
    return out;
  }
}

function centreX(b: Box): number {
  return (b[0] + b[2]) / 2;
}

function centreY(b: Box): number {
  return (b[1] + b[3]) / 2;
}

function shift(b: Box, dx: number, dy: number): Box {
  return [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy];
}

/** One TargetRegistry per camera; unknown camera ids are E_UNKNOWN_CAMERA. */
export class TargetRegistries {
  private readonly byCamera = new Map<string, TargetRegistry>();

  constructor(cameras: readonly string[], options: Partial<TargetRegistryOptions> = {}) {
    for (const c of cameras) this.byCamera.set(c, new TargetRegistry(c, options));
  }

  cameras(): string[] {
    return [...this.byCamera.keys()];
  }

  get(camera: string): TargetRegistry {
    const r = this.byCamera.get(camera);
    if (!r) {
      throw promptError('E_UNKNOWN_CAMERA', `unknown camera '${camera}'`, { expected: this.cameras(), actual: camera });
    }
    return r;
  }
}
