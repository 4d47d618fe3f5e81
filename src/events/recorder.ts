import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/index.js';
import type { EventState, HealthTransition, RoadEvent, Transition } from './types.js';

/** Where recorded events are kept (the SQLite history; see store.ts). */
export interface EventHistory {
  upsert(event: RoadEvent): void;
  putSnapshot(id: string, jpeg: Uint8Array): boolean;
}

/** An event as it goes out: the WebSocket message and the webhook's body. */
export type EventOut = { readonly type: 'event'; readonly state: EventState } & RoadEvent;

export interface EventRecorderDeps {
  readonly history?: EventHistory;
  /** Every message, in order per camera: to the WebSocket clients and the webhook. */
  readonly send: (message: EventOut) => void;
  readonly log: Logger;
  /** A snapshot could not be made (drawing or encoding failed, or too many were waiting). */
  readonly snapshotFailed?: (camera: string, reason: string) => void;
}

/** How a camera's media clock maps to the wall clock, and the start's snapshot. */
export interface TransitionContext {
  /** Media (or monotonic) seconds -> ms since the epoch. */
  wallOf(seconds: number): number;
  /** Makes the start's JPEG (the picture drawn synchronously, encoded off the main thread). */
  snapshot?: () => Promise<Buffer>;
}

/** Shortest media time between two update messages of one event, s. */
export const UPDATE_MIN_INTERVAL_S = 5;

/** Snapshots being made per camera beyond which a start goes without one (a storm of events). */
const MAX_PENDING_SNAPSHOTS = 4;

/** The path a stored snapshot is served at. */
export function snapshotPath(id: string): string {
  return `/events/${encodeURIComponent(id)}/snapshot.jpg`;
}

interface CameraLane {
  chain: Promise<void>;
  pending: number;
}

/**
 * Turns the rule engine's and the health checks' transitions into events: ids, wall-clock
 * times, the start's snapshot, the history, the messages. A camera's messages go out in the
 * order its transitions came (a start waits for its snapshot, and what follows waits for the
 * start), so a receiver never sees an end before its start. Nothing here throws at the caller.
 */
export class EventRecorder {
  private readonly open = new Map<string, RoadEvent>();
  /** Media time of each open event's last sent start or update, s. */
  private readonly lastSent = new Map<string, number>();
  private readonly lanes = new Map<string, CameraLane>();

  constructor(private readonly deps: EventRecorderDeps) {}

  /** Events open now, of every camera. */
  get openCount(): number {
    return this.open.size;
  }

  /** A zone rule's transition. */
  rule(camera: string, t: Transition, ctx: TransitionContext): void {
    this.apply(camera, `${camera}\u0000r\u0000${t.key}`, t, { zone: t.zone, rule: t.rule, kind: t.kind, tracks: [...t.tracks], labels: [...t.labels] }, ctx);
  }

  /** A camera health check's transition. */
  health(camera: string, t: HealthTransition, ctx: TransitionContext): void {
    this.apply(camera, `${camera}\u0000h\u0000${t.kind}`, t, { zone: null, rule: null, kind: t.kind, tracks: [], labels: [], ...(t.detail ? { detail: { ...t.detail } } : {}) }, ctx);
  }

  /**
   * Writes `now` as the last update of every open event whose start went out, in the history
   * only (no message): an event open when the process dies is then closed, on the next start,
   * near when it really stopped being seen rather than when it last changed. Called every 30 s.
   */
  touch(now = Date.now()): void {
    for (const event of this.open.values()) {
      if (!this.started.has(event.id)) continue;
      try {
        this.deps.history?.upsert({ ...event, snapshot: this.shots.get(event.id) ?? null, updatedAt: Math.max(event.updatedAt, now) });
      } catch (err) {
        this.deps.log.error({ err, event: event.id }, 'open event could not be refreshed in the history');
      }
    }
  }

  /**
   * A camera is gone (its events ended): its lane goes once its last messages went out, so
   * cameras added and removed through the API leave nothing behind.
   */
  forget(camera: string): void {
    const lane = this.lanes.get(camera);
    if (!lane) return;
    const last = lane.chain;
    void last.then(() => {
      if (this.lanes.get(camera) === lane && lane.chain === last) this.lanes.delete(camera);
    });
  }

  /** Resolves once every camera's messages so far went out. */
  async idle(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((l) => l.chain));
  }

  private apply(
    camera: string,
    key: string,
    t: Transition | HealthTransition,
    what: Pick<RoadEvent, 'zone' | 'rule' | 'kind' | 'tracks' | 'labels' | 'detail'>,
    ctx: TransitionContext,
  ): void {
    const before = this.open.get(key);
    if (t.state !== 'start') {
      if (!before) return; // an update or end of an event this recorder never saw start
      if (t.state === 'update') {
        const event: RoadEvent = { ...before, ...what, updatedAt: Math.round(ctx.wallOf(t.lastS)), mediaUpdatedS: round3(t.lastS) };
        this.open.set(key, event);
        // At most one update per event every UPDATE_MIN_INTERVAL_S of media time: a flickering
        // label or a queue whose members come and go must not flood clients, history and
        // webhook; the end carries the objects as they were last.
        const last = this.lastSent.get(key) ?? before.mediaStartS;
        if (t.lastS - last < UPDATE_MIN_INTERVAL_S) return;
        this.lastSent.set(key, t.lastS);
        this.enqueue(camera, () => this.emit('update', event));
      } else this.finish(camera, key, { ...before, ...what }, t.endS ?? t.lastS, ctx);
      return;
    }
    if (before) this.finish(camera, key, before, before.mediaUpdatedS, ctx); // a sound engine never starts an open event; never leave one open
    const event: RoadEvent = {
      id: randomUUID(),
      camera,
      ...what,
      startedAt: Math.round(ctx.wallOf(t.startS)),
      updatedAt: Math.round(ctx.wallOf(t.lastS)),
      endedAt: null,
      mediaStartS: round3(t.startS),
      mediaUpdatedS: round3(t.lastS),
      mediaEndS: null,
      snapshot: null,
    };
    this.open.set(key, event);
    this.lastSent.set(key, t.lastS);
    const lane = this.lane(camera);
    let shot: Promise<Buffer> | undefined;
    if (ctx.snapshot && lane.pending >= MAX_PENDING_SNAPSHOTS) this.deps.snapshotFailed?.(camera, `${MAX_PENDING_SNAPSHOTS} snapshots already being made`);
    else if (ctx.snapshot) {
      try {
        shot = ctx.snapshot();
        // Handled here at once: its job may run long after it settles (behind this camera's
        // earlier starts), and a rejection left unhandled meanwhile ends the process.
        shot.catch(() => undefined);
        lane.pending++;
      } catch (err) {
        this.deps.snapshotFailed?.(camera, (err as Error).message);
      }
    }
    this.enqueue(camera, async () => {
      if (shot) {
        try {
          const jpeg = await shot;
          // The row first: the snapshot belongs to it.
          this.deps.history?.upsert(event);
          if (!this.deps.history || this.deps.history.putSnapshot(event.id, jpeg)) this.shots.set(event.id, snapshotPath(event.id));
        } catch (err) {
          this.deps.snapshotFailed?.(camera, (err as Error).message);
        } finally {
          lane.pending--;
        }
      }
      this.emit('start', event);
    });
  }

  private finish(camera: string, key: string, before: RoadEvent, endS: number, ctx: TransitionContext): void {
    this.open.delete(key);
    this.lastSent.delete(key);
    const endedAt = Math.round(ctx.wallOf(endS));
    const event: RoadEvent = { ...before, updatedAt: endedAt, endedAt, mediaUpdatedS: round3(endS), mediaEndS: round3(endS) };
    this.enqueue(camera, () => {
      this.emit('end', event);
      this.shots.delete(event.id);
    });
  }

  /**
   * Snapshot paths of open events, set when their start goes out: their jobs run in order,
   * so every later message of the event finds it.
   */
  private readonly shots = new Map<string, string>();

  /** Events whose start went out and whose end has not. */
  private readonly started = new Set<string>();

  private emit(state: EventState, event: RoadEvent): void {
    if (state === 'start') this.started.add(event.id);
    else if (state === 'end') this.started.delete(event.id);
    const out: RoadEvent = { ...event, snapshot: this.shots.get(event.id) ?? null };
    try {
      this.deps.history?.upsert(out);
    } catch (err) {
      this.deps.log.error({ err, event: out.id, camera: out.camera }, 'event could not be written to the history');
    }
    try {
      this.deps.send({ type: 'event', state, ...out });
    } catch (err) {
      this.deps.log.error({ err, event: out.id }, 'event could not be sent');
    }
  }

  private lane(camera: string): CameraLane {
    let lane = this.lanes.get(camera);
    if (!lane) this.lanes.set(camera, (lane = { chain: Promise.resolve(), pending: 0 }));
    return lane;
  }

  private enqueue(camera: string, job: () => void | Promise<void>): void {
    const lane = this.lane(camera);
    lane.chain = lane.chain.then(job).catch((err: unknown) => this.deps.log.error({ err, camera }, 'event output failed'));
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
