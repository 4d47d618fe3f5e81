import { performance } from 'node:perf_hooks';
import type { Frame, Logger, MaskCrop } from '../core/index.js';
import type { EventsConfig, ZoneEntry } from '../config/index.js';
import {
  CameraHealth,
  drawSnapshot,
  encodeSnapshot,
  greyThumbnail,
  RuleEngine,
  type EventRecorder,
  type HealthTransition,
  type RuleObject,
  type SnapshotScene,
  type Transition,
  type TransitionContext,
} from '../events/index.js';
import type { TargetedFrame } from '../cameraTargets.js';
import type { OverlayZone } from '../overlay/index.js';

/** What every camera's events share. */
export interface CameraEventsDeps {
  readonly recorder: EventRecorder;
  readonly config: EventsConfig;
  readonly classNames: readonly string[];
  /** Warnings about the zones (rule classes the model does not have). */
  readonly log?: Logger;
}

/** Health thumbnails taken at most this often (monotonic time), s: the checks need seconds, not frames. */
const HEALTH_SAMPLE_S = 0.5;

const monoS = (): number => performance.now() / 1000;

/**
 * One camera's road events: its zones' rules on every published frame (media time), its
 * health checks on a grey thumbnail twice a second and on a timer (monotonic time), the start
 * snapshots. The cores are pure (src/events); this only feeds them and maps their times.
 */
export class CameraEvents {
  private engine: RuleEngine;
  private readonly health: CameraHealth | null;
  private current: readonly ZoneEntry[];
  /** The last frame's clocks, to date an end that comes without a frame (flush). */
  private last: { pts: number; timestamp: number } | undefined;
  private lastSampleS = -Infinity;
  private lastFrameS: number;
  /** Monotonic time the source last delivered a frame, s. */
  private lastArrivalS = -Infinity;
  private closed = false;
  private readonly privacy: ReadonlySet<string> | null;
  /** Open events per zone name (for the overlay's highlight). */
  private readonly openPerZone = new Map<string, number>();

  constructor(
    readonly camera: string,
    zones: readonly ZoneEntry[],
    private readonly deps: CameraEventsDeps,
  ) {
    this.current = zones;
    this.engine = this.makeEngine(zones);
    this.checkClasses(zones);
    const h = deps.config.health;
    this.health = h.enabled ? new CameraHealth({ frozenS: h.frozenS, videoLostS: h.videoLostS, obstructedS: h.obstructedS, movedS: h.movedS, endSeconds: deps.config.endSeconds }) : null;
    this.privacy = deps.config.privacy.enabled ? new Set(deps.config.privacy.classes) : null;
    this.lastFrameS = monoS();
  }

  get zones(): readonly ZoneEntry[] {
    return this.current;
  }

  /** The zones as the overlay draws them: red while one of their events is open. */
  outlines(): OverlayZone[] {
    return this.current.map((z) => ({ name: z.name, polygon: z.polygon, active: (this.openPerZone.get(z.name) ?? 0) > 0 }));
  }

  /** Classes whose masks are pixelated (privacy on), else null. */
  get hiddenClasses(): ReadonlySet<string> | null {
    return this.privacy;
  }

  /** New zones: the open events of the old ones end (at their last time), the new ones start afresh. */
  setZones(zones: readonly ZoneEntry[]): void {
    if (JSON.stringify(zones) === JSON.stringify(this.current)) return;
    this.endRules();
    this.current = zones;
    this.engine = this.makeEngine(zones);
    this.checkClasses(zones);
    // New zones are drawn on the view as it is now: that is the reference a move is measured from.
    if (this.health) this.recordHealth(this.health.resetReference(), null, []);
  }

  /** A published frame (inferred or gated): rules at its media time, health twice a second. */
  onFrame({ seg }: TargetedFrame): void {
    if (this.closed) return;
    const { frame, detections, classNames } = seg;
    this.last = { pts: frame.pts, timestamp: frame.timestamp };
    const now = monoS();
    this.lastFrameS = now;
    let hidden: MaskCrop[] | undefined;
    const hiddenNow = (): MaskCrop[] => (hidden ??= this.hiddenMasks(detections.masks, detections.classIds, classNames));
    if (this.current.length > 0) {
      const objects: RuleObject[] = [];
      for (let i = 0; i < detections.length; i++) {
        const track = detections.trackIds[i]!;
        if (track < 0) continue;
        objects.push({ track, label: classNames[detections.classIds[i]!] ?? String(detections.classIds[i]), box: detections.box(i), mask: detections.masks[i] ?? null, predicted: detections.predicted[i] === 1 });
      }
      const transitions = this.engine.update(objects, frame.pts / 1000);
      if (transitions.length > 0) this.record(transitions, frame, objects, hiddenNow());
    }
    if (this.health && now - this.lastSampleS >= HEALTH_SAMPLE_S) {
      this.lastSampleS = now;
      const out = this.health.update(greyThumbnail(frame.data, frame.width, frame.height), now);
      if (out.length > 0) this.recordHealth(out, frame, hiddenNow());
    }
  }

  /** A frame came from the source (published or not: inference may be behind). */
  noteArrival(): void {
    this.lastArrivalS = monoS();
  }

  /** Called about once a second while the camera runs: a camera whose source sends nothing is `video_lost`. */
  tick(): void {
    if (this.closed || !this.health) return;
    const now = monoS();
    if (now - Math.max(this.lastFrameS, this.lastArrivalS) < 1) return;
    this.recordHealth(this.health.noFrame(now), null, []);
  }

  /** Ends the open events of its rules and health checks at their last time (a file that ended); later frames start afresh. */
  endOpen(): void {
    if (this.closed) return;
    this.endRules();
    if (this.health) this.recordHealth(this.health.flush(), null, []);
  }

  /** Ends every open event (camera closed or restarted, service stopping). Safe twice. */
  close(): void {
    if (this.closed) return;
    this.endOpen();
    this.closed = true;
    this.deps.recorder.forget(this.camera);
  }

  private endRules(): void {
    const out = this.engine.flush();
    const ctx = this.mediaClock(null);
    for (const t of out) this.deps.recorder.rule(this.camera, t, ctx);
    this.openPerZone.clear();
  }

  private countOpen(t: Transition): void {
    if (t.state === 'update') return;
    const n = (this.openPerZone.get(t.zone) ?? 0) + (t.state === 'start' ? 1 : -1);
    if (n > 0) this.openPerZone.set(t.zone, n);
    else this.openPerZone.delete(t.zone);
  }

  /** A rule naming a class the model does not have never matches it: said once, per zone change. */
  private checkClasses(zones: readonly ZoneEntry[]): void {
    const known = new Set(this.deps.classNames);
    zones.forEach((zone, i) =>
      zone.rules.forEach((rule, j) => {
        const names: readonly string[] = rule.kind === 'unknown' ? (rule.expected ?? []) : (rule.classes ?? []);
        const unknown = names.filter((c) => !known.has(c));
        if (unknown.length > 0) {
          this.deps.log?.warn({ camera: this.camera, zone: zone.name, field: `zones[${i}].rules[${j}]`, unknown: unknown.slice(0, 8) }, `zone '${zone.name}' rule ${j} names classes the model does not have; they never match (class names are the model's, e.g. car, truck, person)`);
        }
      }),
    );
  }

  private makeEngine(zones: readonly ZoneEntry[]): RuleEngine {
    const { config, classNames } = this.deps;
    return new RuleEngine(zones, { expectedClasses: config.expectedClasses, classAgnostic: classNames.length <= 1, endSeconds: config.endSeconds, minOverlap: config.minOverlap });
  }

  private hiddenMasks(masks: readonly (MaskCrop | null)[], classIds: Int32Array, classNames: readonly string[]): MaskCrop[] {
    if (!this.privacy) return [];
    const out: MaskCrop[] = [];
    masks.forEach((m, i) => {
      if (m && this.privacy!.has(classNames[classIds[i]!] ?? '')) out.push(m);
    });
    return out;
  }

  /** Media seconds -> wall clock, by the frame's (or the last frame's) pair of clocks. */
  private mediaClock(frame: Frame | null): TransitionContext {
    const ref = frame ?? this.last;
    return { wallOf: (s) => (ref ? ref.timestamp - (ref.pts / 1000 - s) * 1000 : Date.now()) };
  }

  private record(transitions: readonly Transition[], frame: Frame, objects: readonly RuleObject[], hidden: MaskCrop[]): void {
    const clock = this.mediaClock(frame);
    for (const t of transitions) {
      this.countOpen(t);
      if (t.state !== 'start') {
        this.deps.recorder.rule(this.camera, t, clock);
        continue;
      }
      const polygon = this.current.find((z) => z.name === t.zone)?.polygon ?? null;
      const mine = objects.filter((o) => t.tracks.includes(o.track));
      this.deps.recorder.rule(this.camera, t, { ...clock, snapshot: this.snapshotOf(frame, { polygon, objects: mine, hidden }) });
    }
  }

  private recordHealth(transitions: readonly HealthTransition[], frame: Frame | null, hidden: MaskCrop[]): void {
    if (transitions.length === 0) return;
    // Health runs on the monotonic clock (a camera that sends nothing has no media time); its
    // times go out on the camera's media clock, continued past its last frame.
    const nowMono = monoS();
    const nowWall = Date.now();
    const last = this.last;
    // Before the first frame the media clock is the monotonic one.
    const media = (s: number): number => (last ? Math.max(0, last.pts / 1000 + (s - this.lastFrameS)) : s);
    const mediaNow = media(nowMono);
    const clock: TransitionContext = { wallOf: (s) => nowWall - (mediaNow - s) * 1000 };
    for (const h of transitions) {
      const t: HealthTransition = { ...h, startS: media(h.startS), lastS: media(h.lastS), ...(h.endS === undefined ? {} : { endS: media(h.endS) }) };
      const shot = t.state === 'start' && frame ? this.snapshotOf(frame, { polygon: null, objects: [], hidden }) : undefined;
      this.deps.recorder.health(this.camera, t, shot ? { ...clock, snapshot: shot } : clock);
    }
  }

  /** The start's snapshot: drawn when called (the recorder calls it at once), encoded off the main thread. */
  private snapshotOf(frame: Frame, scene: SnapshotScene): () => Promise<Buffer> {
    return () => {
      const rgb = drawSnapshot(frame, scene);
      return encodeSnapshot(rgb, frame.width, frame.height, frame.letterbox.srcWidth, frame.letterbox.srcHeight, this.deps.config.snapshotQuality);
    };
  }
}
