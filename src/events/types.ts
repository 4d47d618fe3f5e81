import type { MaskCrop } from '../core/index.js';

/**
 * Road events: the shared shapes of the rule engine, the health checks, the store, the webhook
 * and the wire. Plain data only (no zod here: the schemas are the config's and the protocol's).
 */

export { EVENT_KINDS, EVENT_STATES, HEALTH_KINDS, RULE_KINDS } from '../core/eventKinds.js';
export type { EventKind, EventState, HealthKind, RuleKind } from '../core/eventKinds.js';
import type { EventState, EventKind, HealthKind, RuleKind } from '../core/eventKinds.js';

/** Fields every rule may set. Times are media seconds. */
interface RuleBase {
  /** The condition must hold this long before the event starts, s. */
  readonly seconds: number;
  /** The condition must be false this long before the event ends, s (default: the engine's). */
  readonly endSeconds?: number;
}

/** Model class names the rule applies to; absent or empty: every class. */
type Classes = { readonly classes?: readonly string[] };

/**
 * An object in the zone for `seconds` whose position moved less than `maxMove` (a share of its
 * box diagonal) or `maxMovePx` (px) over that time.
 */
export interface StoppedRule extends RuleBase, Classes {
  readonly kind: 'stopped';
  readonly maxMove?: number;
  readonly maxMovePx?: number;
}

/** An object of those classes in the zone for `seconds`. */
export interface PresenceRule extends RuleBase, Classes {
  readonly kind: 'presence';
}

/** More than `above` objects of those classes in the zone for `seconds`. */
export interface CountRule extends RuleBase, Classes {
  readonly kind: 'count';
  readonly above: number;
}

/**
 * An object the model has no road class for (a class outside `expected`, or any object with a
 * class-agnostic model), in the zone and stopped for `seconds`: debris, obstacles.
 */
export interface UnknownRule extends RuleBase {
  readonly kind: 'unknown';
  /** Classes of expected road users (default: the engine's `expectedClasses`). */
  readonly expected?: readonly string[];
  readonly maxMove?: number;
  readonly maxMovePx?: number;
}

export type Rule = StoppedRule | PresenceRule | CountRule | UnknownRule;

/** A named polygon zone of one camera, in source-frame pixels. */
export interface Zone {
  readonly name: string;
  /** Vertices [x, y] in source px, at least 3; implicitly closed. */
  readonly polygon: readonly (readonly [number, number])[];
  /** An object is in the zone when at least this share of its mask (box without a mask) lies inside (0..1]. */
  readonly minOverlap?: number;
  readonly rules: readonly Rule[];
}

/** One tracked object of a frame, as the rules see it (source px). */
export interface RuleObject {
  /** Track id (untracked objects take no part in rules). */
  readonly track: number;
  readonly label: string;
  /** x1, y1, x2, y2. */
  readonly box: readonly [number, number, number, number];
  readonly mask: MaskCrop | null;
  /** True when the tracker predicted it (not detected this frame): it keeps its events. */
  readonly predicted: boolean;
}

/** What the rule engine reports: an event starting, changing (its objects) or ending. */
export interface Transition {
  readonly state: EventState;
  /** Stable for the event's life within one engine: `zone/rule/track` or `zone/rule`. */
  readonly key: string;
  readonly zone: string;
  /** The rule's index in its zone. */
  readonly rule: number;
  readonly kind: RuleKind;
  /** The objects the event is about: one for per-object rules, those counted for `count`. */
  readonly tracks: readonly number[];
  readonly labels: readonly string[];
  /** Media time the condition began to hold, s (the event fires once it held `seconds`, so at about startS + seconds). */
  readonly startS: number;
  /** Media time the condition last held, s. */
  readonly lastS: number;
  /** With `end`: the media time the event ended (the last time its condition held), s. */
  readonly endS?: number;
}

/** A health check's report, same life cycle as a rule's event. */
export interface HealthTransition {
  readonly state: EventState;
  readonly kind: HealthKind;
  readonly startS: number;
  readonly lastS: number;
  readonly endS?: number;
  /**
   * What was measured, for the event's `detail`: `moved` { dx, dy }, the picture's shift as a
   * share of its width and height (times the source size: px); `frozen` { meanDiff } (grey
   * levels); `obstructed` { edges } (share of neighbouring thumbnail cells that differ).
   */
  readonly detail?: Readonly<Record<string, number>>;
}

/**
 * An event as it is recorded, sent over the WebSocket (with `type: 'event'` and `state`) and
 * posted to the webhook. Wall-clock times are ms since the epoch; media times seconds. The
 * start is when the condition began to hold (the event fires `seconds` later); the end is the
 * last time it held.
 */
export interface RoadEvent {
  readonly id: string;
  readonly camera: string;
  /** The zone's name; null for camera health events. */
  readonly zone: string | null;
  /** The rule's index in its zone; null for camera health events. */
  readonly rule: number | null;
  readonly kind: EventKind;
  readonly tracks: readonly number[];
  readonly labels: readonly string[];
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | null;
  readonly mediaStartS: number;
  readonly mediaUpdatedS: number;
  readonly mediaEndS: number | null;
  /** Path of its snapshot (`/events/<id>/snapshot.jpg`) once one is stored, else null. */
  readonly snapshot: string | null;
  readonly detail?: Readonly<Record<string, number>>;
}
