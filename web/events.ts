/**
 * A camera's live road events as its tile shows them: open ones, and ended ones for FADE_MS
 * more while they fade out. Pure (the clock is passed in), tested without a browser; the tile
 * renders `entries()` and reads `openZones` / `openTracks` to highlight.
 */

/** The fields of an event the dashboard reads (the wire's `event` message and `RoadEvent` have them all). */
export interface EventFields {
  id: string;
  camera: string;
  zone: string | null;
  rule: number | null;
  /** A kind this dashboard does not know is shown as its text. */
  kind: string;
  tracks: readonly number[];
  labels: readonly string[];
  startedAt: number;
  updatedAt: number;
  endedAt: number | null;
  mediaStartS: number;
  mediaUpdatedS: number;
  mediaEndS: number | null;
  snapshot: string | null;
}

export interface EventUpdate extends EventFields {
  state: string;
}

export interface BookEntry {
  event: EventFields;
  open: boolean;
  /** When the dashboard learnt it ended (its clock, ms): it fades out from then. */
  endSeenAt?: number;
}

/** Ended events stay listed this long, fading, ms. */
export const FADE_MS = 10_000;
/** Ended event ids remembered (so a late `update` does not reopen one), per camera. */
const ENDED_IDS = 1000;

export class EventBook {
  private readonly byId = new Map<string, BookEntry>();
  private readonly ended = new Set<string>();

  constructor(private readonly fadeMs = FADE_MS) {}

  /**
   * One `event` message. `start` and `update` open it (an update of one not seen: its start
   * came before the page did); `end` ends it; an id that ended stays ended. Messages of another
   * state are ignored; returns whether anything changed.
   */
  apply(m: EventUpdate, now: number): boolean {
    const { state, type: _type, ...event } = m as EventUpdate & { type?: unknown };
    if (state !== 'start' && state !== 'update' && state !== 'end') return false;
    if (this.ended.has(m.id)) return false;
    if (state === 'end') {
      this.byId.set(m.id, { event, open: false, endSeenAt: now });
      this.rememberEnded(m.id);
      return true;
    }
    this.byId.set(m.id, { event, open: true });
    return true;
  }

  /**
   * Events the history says are open (endedAt null), e.g. after a (re)connect: those not known
   * yet are added; one known is replaced only by a newer copy. Open ones the book holds that the
   * history no longer lists as open are kept (a live `end` will come).
   */
  seed(events: readonly EventFields[]): boolean {
    let changed = false;
    for (const e of events) {
      if (e.endedAt !== null || this.ended.has(e.id)) continue;
      const known = this.byId.get(e.id);
      if (known && known.event.updatedAt >= e.updatedAt) continue;
      this.byId.set(e.id, { event: e, open: true });
      changed = true;
    }
    return changed;
  }

  /** Open events (newest start first), then ended ones still fading (latest end first); drops those done fading. */
  entries(now: number): BookEntry[] {
    for (const [id, entry] of this.byId) if (!entry.open && now - entry.endSeenAt! >= this.fadeMs) this.byId.delete(id);
    const all = [...this.byId.values()];
    const open = all.filter((e) => e.open).sort((a, b) => b.event.startedAt - a.event.startedAt);
    const ended = all.filter((e) => !e.open).sort((a, b) => b.endSeenAt! - a.endSeenAt!);
    return [...open, ...ended];
  }

  /** When the next ended entry is done fading (to re-render then), or undefined when none fades. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const e of this.byId.values()) if (!e.open && (next === undefined || e.endSeenAt! + this.fadeMs < next)) next = e.endSeenAt! + this.fadeMs;
    return next;
  }

  /** Zones with an open event. */
  openZones(): Set<string> {
    const zones = new Set<string>();
    for (const e of this.byId.values()) if (e.open && e.event.zone !== null) zones.add(e.event.zone);
    return zones;
  }

  /** Track ids an open event is about. */
  openTracks(): Set<number> {
    const tracks = new Set<number>();
    for (const e of this.byId.values()) if (e.open) for (const t of e.event.tracks) tracks.add(t);
    return tracks;
  }

  get openCount(): number {
    let n = 0;
    for (const e of this.byId.values()) if (e.open) n++;
    return n;
  }

  private rememberEnded(id: string): void {
    this.ended.add(id);
    if (this.ended.size > ENDED_IDS) this.ended.delete(this.ended.values().next().value!);
  }
}

const KIND_TEXT: Readonly<Record<string, string>> = {
  presence: 'presence',
  stopped: 'stopped',
  count: 'count',
  unknown: 'unknown object',
  frozen: 'frozen picture',
  video_lost: 'video lost',
  obstructed: 'view obstructed',
  moved: 'camera moved',
};

/** A kind as words; one this dashboard does not know, as it came. */
export function kindText(kind: string): string {
  return Object.hasOwn(KIND_TEXT, kind) ? KIND_TEXT[kind]! : String(kind);
}

/** Where an event happened: its zone, or the camera itself for health events. */
export function placeText(e: Pick<EventFields, 'zone'>): string {
  return e.zone === null ? 'camera' : `zone ${e.zone}`;
}

/** A duration for "since ...": "12 s", "3 min", "2 h 5 min", "3 d". */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d`;
}

/** One line for an event: "presence · zone lane 1 · car, truck". */
export function eventLine(e: EventFields): string {
  const labels = e.labels.length > 0 ? ` · ${e.labels.join(', ')}` : '';
  return `${kindText(e.kind)} · ${placeText(e)}${labels}`;
}
