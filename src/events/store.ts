import { closeSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import Database from 'better-sqlite3';
import { SegstreamError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { RoadEvent } from './types.js';

/**
 * The event history: one SQLite file (better-sqlite3, synchronous, on the main thread).
 * Every call is a handful of indexed statements, prepared once. Snapshots (JPEG) live in their
 * own table so that listing never reads a blob.
 *
 * Durability: WAL with `synchronous = NORMAL`, so a crash or kill of the process loses
 * nothing committed (a power cut may lose the last commits). One service per database file:
 * opening closes every event left open, which would be wrong for a second live writer.
 */

export interface EventStoreOptions {
  /** Events that ended longer ago than this are deleted by `prune`, s (default 30 days). */
  maxAgeS?: number;
  /** `prune` keeps the database's pages in use under this, bytes (default 1 GiB). */
  maxBytes?: number;
  log?: Logger;
}

export interface EventQuery {
  camera?: string;
  zone?: string;
  kind?: string;
  /** ms epoch: events that had not ended by then (ended at or after `since`, or still open). */
  since?: number;
  /** ms epoch: events that started strictly before then. */
  until?: number;
  /** Default 100; larger values are cut to 1000. */
  limit?: number;
}

export interface PruneResult {
  /** Events deleted because they ended more than maxAgeS ago. */
  byAge: number;
  /** Events deleted because the database was over maxBytes (after every older snapshot was dropped). */
  bySize: number;
  /** Snapshots dropped because the database was over maxBytes (their events kept, `snapshot: null`). */
  snapshots: number;
}

export const DEFAULT_EVENT_MAX_AGE_S = 30 * 24 * 3600;
export const DEFAULT_EVENT_MAX_BYTES = 1024 ** 3;
export const DEFAULT_EVENT_LIST_LIMIT = 100;
export const MAX_EVENT_LIST_LIMIT = 1000;
/** How long a write waits for another connection's lock (a reader's checkpoint), ms; it blocks the event loop meanwhile. */
const BUSY_TIMEOUT_MS = 2000;
/** Rows handled per statement batch in `prune`, so each transaction stays short. */
const PRUNE_BATCH = 256;

/** `$XDG_DATA_HOME/segstream/events.db`, else `~/.local/share/segstream/events.db`; never the working directory. */
export function defaultEventsDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  // The XDG spec says relative values are invalid and to be ignored.
  if (xdg && isAbsolute(xdg)) return join(xdg, 'segstream', 'events.db');
  const home = env['HOME'] && isAbsolute(env['HOME']) ? env['HOME'] : homedir();
  return join(home, '.local', 'share', 'segstream', 'events.db');
}

/** Schema migrations; migration i takes the database from user_version i to i + 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     id TEXT PRIMARY KEY,
     camera TEXT NOT NULL,
     zone TEXT,
     kind TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     ended_at INTEGER,
     -- bytes of its snapshot row, null when it has none (so listing needs no join)
     snapshot_bytes INTEGER,
     json TEXT NOT NULL
   );
   CREATE INDEX events_started ON events (started_at);
   CREATE INDEX events_camera ON events (camera, started_at);
   CREATE INDEX events_zone ON events (zone, started_at);
   CREATE INDEX events_kind ON events (kind, started_at);
   CREATE INDEX events_ended ON events (ended_at);
   CREATE INDEX events_ended_snapshot ON events (ended_at) WHERE snapshot_bytes IS NOT NULL;
   CREATE TABLE snapshots (
     id TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
     jpeg BLOB NOT NULL
   );`,
];
export const EVENT_SCHEMA_VERSION = MIGRATIONS.length;

interface EventRow {
  json: string;
  snapshot_bytes: number | null;
}

type Filter = 'camera' | 'zone' | 'kind' | 'since' | 'until';
const FILTERS: readonly Filter[] = ['camera', 'zone', 'kind', 'since', 'until'];
const FILTER_SQL: Record<Filter, string> = {
  camera: 'camera = @camera',
  zone: 'zone = @zone',
  kind: 'kind = @kind',
  since: '(ended_at IS NULL OR ended_at >= @since)',
  until: 'started_at < @until',
};

export class EventStore {
  readonly path: string;
  readonly maxAgeS: number;
  readonly maxBytes: number;
  readonly #db: Database.Database;
  readonly #log: Logger;
  readonly #lists = new Map<string, Database.Statement<Record<string, unknown>, EventRow>>();
  #closed = false;

  readonly #upsert: Database.Statement<[string, string, string | null, string, number, number, number | null, string]>;
  readonly #get: Database.Statement<[string], EventRow>;
  readonly #snapshot: Database.Statement<[string], { jpeg: Buffer }>;
  readonly #markSnapshot: Database.Statement<[number | null, string]>;
  readonly #putSnapshot: Database.Statement<[string, Buffer]>;
  readonly #dropSnapshot: Database.Statement<[string]>;
  readonly #open: Database.Statement<[], { id: string; json: string }>;
  readonly #delete: Database.Statement<[string]>;
  readonly #expired: Database.Statement<[number, number], { id: string }>;
  readonly #oldestSnapshots: Database.Statement<[number], { id: string; bytes: number }>;
  readonly #oldestEnded: Database.Statement<[number], { id: string; bytes: number }>;
  readonly #putSnapshotTx: (id: string, jpeg: Buffer) => boolean;
  readonly #dropSnapshotsTx: (ids: readonly string[]) => void;
  readonly #deleteAllTx: (ids: readonly string[]) => void;
  readonly #closeOpenTx: (now: number) => RoadEvent[];

  private constructor(db: Database.Database, path: string, maxAgeS: number, maxBytes: number, log: Logger) {
    this.#db = db;
    this.path = path;
    this.maxAgeS = maxAgeS;
    this.maxBytes = maxBytes;
    this.#log = log;
    this.#upsert = db.prepare(
      `INSERT INTO events (id, camera, zone, kind, started_at, updated_at, ended_at, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET camera = excluded.camera, zone = excluded.zone, kind = excluded.kind,
         started_at = excluded.started_at, updated_at = excluded.updated_at, ended_at = excluded.ended_at, json = excluded.json`,
    );
    this.#get = db.prepare('SELECT json, snapshot_bytes FROM events WHERE id = ?');
    this.#snapshot = db.prepare('SELECT jpeg FROM snapshots WHERE id = ?');
    this.#markSnapshot = db.prepare('UPDATE events SET snapshot_bytes = ? WHERE id = ?');
    this.#putSnapshot = db.prepare('INSERT OR REPLACE INTO snapshots (id, jpeg) VALUES (?, ?)');
    this.#dropSnapshot = db.prepare('DELETE FROM snapshots WHERE id = ?');
    this.#open = db.prepare('SELECT id, json FROM events WHERE ended_at IS NULL');
    this.#delete = db.prepare('DELETE FROM events WHERE id = ?');
    this.#expired = db.prepare('SELECT id FROM events WHERE ended_at < ? ORDER BY ended_at LIMIT ?');
    this.#oldestSnapshots = db.prepare(
      'SELECT id, snapshot_bytes AS bytes FROM events WHERE ended_at IS NOT NULL AND snapshot_bytes IS NOT NULL ORDER BY ended_at LIMIT ?',
    );
    this.#oldestEnded = db.prepare('SELECT id, length(CAST(json AS BLOB)) AS bytes FROM events WHERE ended_at IS NOT NULL ORDER BY ended_at LIMIT ?');
    this.#putSnapshotTx = db.transaction((id: string, jpeg: Buffer) => {
      if (this.#markSnapshot.run(jpeg.byteLength, id).changes === 0) return false;
      this.#putSnapshot.run(id, jpeg);
      return true;
    });
    this.#dropSnapshotsTx = db.transaction((ids: readonly string[]) => {
      for (const id of ids) {
        this.#dropSnapshot.run(id);
        this.#markSnapshot.run(null, id);
      }
    });
    this.#deleteAllTx = db.transaction((ids: readonly string[]) => {
      for (const id of ids) this.#delete.run(id);
    });
    this.#closeOpenTx = db.transaction((now: number) => {
      const out: RoadEvent[] = [];
      for (const row of this.#open.all()) {
        const e = JSON.parse(row.json) as RoadEvent;
        const ended: RoadEvent = { ...e, endedAt: Math.min(e.updatedAt, now), mediaEndS: e.mediaUpdatedS };
        this.upsert(ended);
        out.push(this.get(ended.id)!);
      }
      return out;
    });
  }

  /**
   * Opens (or creates) the database at `path`: parent directory created (0700), file 0600, WAL,
   * schema migrated to EVENT_SCHEMA_VERSION, and every event left open by a crash or kill ended at
   * its updatedAt. Any failure (unwritable directory, not a database, a newer schema) throws
   * SegstreamError E_CONFIG naming the path.
   */
  static open(path: string, options: EventStoreOptions = {}): EventStore {
    const maxAgeS = options.maxAgeS ?? DEFAULT_EVENT_MAX_AGE_S;
    const maxBytes = options.maxBytes ?? DEFAULT_EVENT_MAX_BYTES;
    if (typeof path !== 'string' || path === '') throw new TypeError(`EventStore.open: path must be a non-empty string, got ${JSON.stringify(path)}`);
    if (!(Number.isFinite(maxAgeS) && maxAgeS > 0)) throw new TypeError(`EventStore.open: maxAgeS must be a finite number > 0, got ${maxAgeS}`);
    if (!(Number.isFinite(maxBytes) && maxBytes > 0)) throw new TypeError(`EventStore.open: maxBytes must be a finite number > 0, got ${maxBytes}`);
    const log = options.log ?? silentLogger();
    const fail = (what: string, err: unknown): never => {
      const reason = err instanceof Error ? err.message : String(err);
      throw new SegstreamError('E_CONFIG', `event store ${path}: ${what}: ${reason}`, { actual: path, cause: err });
    };

    // ':memory:': a history for this process only (an app started from code without a path).
    if (path !== ':memory:') {
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        // Created here so that it (and SQLite's -wal and -shm, which copy its mode) is 0600.
        closeSync(openSync(path, 'a', 0o600));
      } catch (err) {
        fail('cannot create the file', err);
      }
    }

    let db: Database.Database | undefined;
    try {
      db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
      migrate(db, path);
      const store = new EventStore(db, path, maxAgeS, maxBytes, log);
      const closed = store.closeOpen(Number.POSITIVE_INFINITY);
      if (closed.length > 0) log.info({ path, events: closed.length }, 'event store: ended the events left open by the previous run at their last update');
      return store;
    } catch (err) {
      db?.close();
      if (err instanceof SegstreamError) throw err;
      return fail('cannot open the database', err);
    }
  }

  /** Inserts the event or replaces the stored one of the same id (its snapshot is kept). */
  upsert(event: RoadEvent): void {
    this.#check();
    checkEvent(event);
    this.#upsert.run(event.id, event.camera, event.zone, event.kind, event.startedAt, event.updatedAt, event.endedAt, JSON.stringify(event));
  }

  /** Stores (or replaces) the event's snapshot; false when no event of that id is stored. */
  putSnapshot(id: string, jpeg: Uint8Array): boolean {
    this.#check();
    if (!(jpeg instanceof Uint8Array)) throw new TypeError('EventStore.putSnapshot: jpeg must be a Uint8Array');
    return this.#putSnapshotTx(id, Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength));
  }

  get(id: string): RoadEvent | undefined {
    this.#check();
    const row = this.#get.get(id);
    return row === undefined ? undefined : toEvent(row);
  }

  snapshot(id: string): Buffer | undefined {
    this.#check();
    return this.#snapshot.get(id)?.jpeg;
  }

  /**
   * Events newest first (by startedAt). With `since` and/or `until` (ms epoch), the events that
   * overlap [since, until): started before `until` and either still open or ended at or after
   * `since`. Filters combine with AND.
   */
  list(q: EventQuery = {}): RoadEvent[] {
    this.#check();
    const limit = q.limit ?? DEFAULT_EVENT_LIST_LIMIT;
    if (!(Number.isInteger(limit) && limit >= 1)) throw new TypeError(`EventStore.list: limit must be an integer >= 1, got ${limit}`);
    for (const k of ['since', 'until'] as const) {
      const v = q[k];
      if (v !== undefined && !Number.isFinite(v)) throw new TypeError(`EventStore.list: ${k} must be a finite number (ms epoch), got ${v}`);
    }
    const used = FILTERS.filter((f) => q[f] !== undefined);
    const key = used.join(',');
    let stmt = this.#lists.get(key);
    if (stmt === undefined) {
      const where = used.length === 0 ? '' : `WHERE ${used.map((f) => FILTER_SQL[f]).join(' AND ')}`;
      stmt = this.#db.prepare(`SELECT json, snapshot_bytes FROM events ${where} ORDER BY started_at DESC, id DESC LIMIT @limit`);
      this.#lists.set(key, stmt);
    }
    const params: Record<string, unknown> = { limit: Math.min(limit, MAX_EVENT_LIST_LIMIT) };
    for (const f of used) params[f] = q[f];
    return stmt.all(params).map(toEvent);
  }

  /**
   * Ends every open event at its updatedAt (mediaEndS = mediaUpdatedS), for shutdown; returns
   * them as stored. An updatedAt later than `now` (a wall clock that stepped back) ends at `now`.
   */
  closeOpen(now: number = Date.now()): RoadEvent[] {
    this.#check();
    return this.#closeOpenTx(now);
  }

  /**
   * Retention, meant to run periodically (each run then has little to do):
   * 1. events that ended more than maxAgeS before `now` are deleted (with their snapshots);
   * 2. while the pages in use exceed maxBytes, the snapshots of the events that ended first are
   *    dropped (the events stay, `snapshot: null`): snapshots are most of the bytes, the rows
   *    are the history;
   * 3. if that is not enough, the events that ended first are deleted.
   * Open events are never touched. Freed pages are then returned to the file system
   * (auto_vacuum=INCREMENTAL, incremental_vacuum, and a WAL checkpoint that truncates the WAL).
   */
  prune(now: number = Date.now()): PruneResult {
    this.#check();
    const result: PruneResult = { byAge: 0, bySize: 0, snapshots: 0 };
    const cutoff = now - this.maxAgeS * 1000;
    for (;;) {
      const ids = this.#expired.all(cutoff, PRUNE_BATCH).map((r) => r.id);
      if (ids.length === 0) break;
      this.#deleteAllTx(ids);
      result.byAge += ids.length;
    }
    let excess = this.sizeBytes() - this.maxBytes;
    while (excess > 0) {
      const ids = pick(this.#oldestSnapshots.all(PRUNE_BATCH), excess);
      if (ids.length === 0) break;
      this.#dropSnapshotsTx(ids);
      result.snapshots += ids.length;
      excess = this.sizeBytes() - this.maxBytes;
    }
    while (excess > 0) {
      const ids = pick(this.#oldestEnded.all(PRUNE_BATCH), excess);
      if (ids.length === 0) break;
      this.#deleteAllTx(ids);
      result.bySize += ids.length;
      excess = this.sizeBytes() - this.maxBytes;
    }
    if (result.byAge + result.bySize + result.snapshots > 0) {
      this.#db.pragma('incremental_vacuum');
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
      this.#log.info({ path: this.path, ...result, bytes: this.sizeBytes() }, 'event store: pruned');
    }
    return result;
  }

  /** Bytes of the database's pages in use (free pages not counted), as `prune` measures it against maxBytes. */
  sizeBytes(): number {
    this.#check();
    const pages = this.#db.pragma('page_count', { simple: true }) as number;
    const free = this.#db.pragma('freelist_count', { simple: true }) as number;
    const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /** Closes the database (safe twice); every other method then throws. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #check(): void {
    if (this.#closed) throw new Error(`EventStore ${this.path} is closed`);
  }
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > EVENT_SCHEMA_VERSION) {
    throw new SegstreamError('E_CONFIG', `event store ${path}: schema version ${version} is newer than this segstream's (${EVENT_SCHEMA_VERSION}); use a newer segstream or another file`, {
      expected: EVENT_SCHEMA_VERSION,
      actual: version,
    });
  }
  if (version === 0) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    if (tables.n > 0) throw new SegstreamError('E_CONFIG', `event store ${path}: a SQLite database of something else (tables but no segstream schema version)`, { actual: path });
    // Only possible before the first table exists.
    db.pragma('auto_vacuum = INCREMENTAL');
  }
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal' && path !== ':memory:') throw new Error(`the file system does not support WAL (journal_mode is ${String(mode)})`);
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  for (let v = version; v < EVENT_SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** The first rows whose bytes add up to `excess` (at least one row). */
function pick(rows: readonly { id: string; bytes: number }[], excess: number): string[] {
  const ids: string[] = [];
  let freed = 0;
  for (const r of rows) {
    ids.push(r.id);
    freed += r.bytes;
    if (freed >= excess) break;
  }
  return ids;
}

function toEvent(row: EventRow): RoadEvent {
  const e = JSON.parse(row.json) as RoadEvent;
  return { ...e, snapshot: row.snapshot_bytes === null ? null : `/events/${encodeURIComponent(e.id)}/snapshot.jpg` };
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The indexed fields must have their types: they are the columns. */
function checkEvent(e: RoadEvent): void {
  const bad = (field: string, want: string, got: unknown): never => {
    throw new TypeError(`EventStore.upsert: ${field} must be ${want}, got ${typeof got === 'string' ? JSON.stringify(got.slice(0, 80)) : String(got)}`);
  };
  if (typeof e !== 'object' || e === null) bad('event', 'an object', e);
  if (typeof e.id !== 'string' || e.id === '') bad('id', 'a non-empty string', e.id);
  if (typeof e.camera !== 'string') bad('camera', 'a string', e.camera);
  if (e.zone !== null && typeof e.zone !== 'string') bad('zone', 'a string or null', e.zone);
  if (typeof e.kind !== 'string') bad('kind', 'a string', e.kind);
  if (!isTime(e.startedAt)) bad('startedAt', 'a finite number (ms epoch)', e.startedAt);
  if (!isTime(e.updatedAt)) bad('updatedAt', 'a finite number (ms epoch)', e.updatedAt);
  if (e.endedAt !== null && !isTime(e.endedAt)) bad('endedAt', 'a finite number (ms epoch) or null', e.endedAt);
}
