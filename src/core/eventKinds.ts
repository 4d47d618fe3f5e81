/**
 * The names of road events, shared by the rule engine (src/events) and the wire (src/protocol),
 * which may import only core. Unions from `as const` arrays.
 */

/** Rules evaluated on a zone's tracked objects. */
export const RULE_KINDS = ['stopped', 'presence', 'count', 'unknown'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** Camera health: events of the camera itself, not of a zone (zone and rule null). */
export const HEALTH_KINDS = ['frozen', 'video_lost', 'obstructed', 'moved'] as const;
export type HealthKind = (typeof HEALTH_KINDS)[number];

export type EventKind = RuleKind | HealthKind;
export const EVENT_KINDS = [...RULE_KINDS, ...HEALTH_KINDS] as const;

export const EVENT_STATES = ['start', 'update', 'end'] as const;
export type EventState = (typeof EVENT_STATES)[number];
