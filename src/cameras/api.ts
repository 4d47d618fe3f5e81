import { parseWith, SegstreamError, summariseValue } from '../core/index.js';
import { CAMERA_ID_RE, cameraConfig, cameraPatchSchema, cameraSchema, zonesSchema, type CameraEntry, type CameraStateStore, type Config, type ZoneEntry } from '../config/index.js';
import type { CameraManager } from './manager.js';

/** An HTTP request under /api, its JSON body parsed (undefined without one). */
export interface ApiRequest {
  readonly method: string;
  /** The path below the host, without the query: `/api/cameras/cam0`. */
  readonly path: string;
  readonly body: unknown;
}

export interface ApiReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Answers an /api request; undefined: no such route (404). Throws SegstreamErrors for bad requests. */
export type ApiHandler = (req: ApiRequest) => Promise<ApiReply | undefined>;

export interface CameraApiOptions {
  readonly manager: CameraManager;
  /** The running configuration: API cameras take their defaults and rules from it. */
  config(): Config;
  readonly store: CameraStateStore;
}

/**
 * `/api/cameras`: GET lists the cameras (id, redacted URL, state, last error, size, fps,
 * frames read / processed / dropped, age of the newest published frame); POST adds one (201;
 * 409 E_CAMERA_EXISTS; 400 naming the bad field); `/api/cameras/<id>`: GET shows it, PATCH
 * changes its options (it restarts only if its source changes), DELETE removes it;
 * `/api/cameras/<id>/zones`: GET its zones, PUT the whole list (in place). Every
 * change is recorded in the state store, so it outlives a restart and a reload.
 */
export function cameraApi(opts: CameraApiOptions): ApiHandler {
  const { manager, store } = opts;
  const fileEntry = (id: string): CameraEntry | undefined => opts.config().cameras.find((c) => c.id === id);
  /** CA files an API camera may use: those the configuration names (a path given here could be any file). */
  const checkCaFile = (entry: CameraEntry): void => {
    if (entry.tlsCaFile === undefined) return;
    const cfg = opts.config();
    const known = new Set([cfg.ingest.tlsCaFile, ...cfg.cameras.map((c) => c.tlsCaFile)].filter((f) => f !== undefined));
    if (!known.has(entry.tlsCaFile)) {
      throw new SegstreamError('E_CONFIG', 'invalid camera: tlsCaFile: through the API only a CA file the configuration names may be used', { expected: [...known], actual: summariseValue(entry.tlsCaFile) });
    }
  };
  /** The state record, then the change; a change that fails takes the record back. */
  const recorded = async <T>(id: string, entry: CameraEntry | null, change: () => T | Promise<T>): Promise<T> => {
    let undo: () => void;
    try {
      undo = store.record(id, entry, fileEntry(id));
    } catch (err) {
      throw new SegstreamError('E_INTERNAL', `the change could not be kept in the state file, so it was not made: ${(err as Error).message}`, { cause: err });
    }
    try {
      return await change();
    } catch (err) {
      undo();
      throw err;
    }
  };

  return async ({ method, path, body }) => {
    if (path === '/api/cameras') {
      if (method === 'GET' || method === 'HEAD') return { status: 200, body: { cameras: manager.list().map((c) => c.view()) } };
      if (method !== 'POST') return notAllowed('GET, HEAD, POST');
      const entry = parseWith(cameraSchema, body, 'E_CONFIG', 'invalid camera:');
      checkCaFile(entry);
      return manager.exclusive(async (ops) => {
        if (ops.get(entry.id)) {
          throw new SegstreamError('E_CAMERA_EXISTS', `camera '${entry.id}' exists already; PATCH or DELETE /api/cameras/${entry.id}`, { expected: 'a new camera id', actual: entry.id });
        }
        // A URL given through the API may name a local file only inside a media root.
        const cfg = cameraConfig(entry, opts.config(), { field: 'camera', origin: 'api', requireMediaRoot: true });
        const cam = await recorded(entry.id, entry, () => ops.add(cfg));
        return { status: 201, body: { camera: cam.view() }, headers: { location: `/api/cameras/${entry.id}` } };
      });
    }
    const target = cameraPath(path);
    if (!target) return undefined;
    const { id } = target;
    if (target.zones) {
      // /api/cameras/<id>/zones: the camera's zones as one list. A PUT replaces it (in place: the
      // camera keeps running, its open events end) and is kept like any other camera change.
      if (method === 'GET' || method === 'HEAD') return { status: 200, body: { zones: manager.require(id).config.zones } };
      if (method !== 'PUT') return notAllowed('GET, HEAD, PUT');
      // The bare list, or what GET answers ({"zones": [...]}), so a GET can be edited and sent back.
      const zones = parseZonesBody(body);
      return manager.exclusive(async (ops) => {
        const cam = ops.require(id);
        const entry = parseWith(cameraSchema, { ...cam.config.entry, zones }, 'E_CONFIG', 'invalid camera:');
        // The source is the one running (checked when it was set): only the zones change.
        const cfg = cameraConfig(entry, opts.config(), { field: 'camera', origin: cam.config.origin });
        await recorded(id, entry, () => ops.update(cfg));
        return { status: 200, body: { zones: ops.require(id).config.zones } };
      });
    }
    if (method === 'GET' || method === 'HEAD') return { status: 200, body: { camera: manager.require(id).view() } };
    if (method === 'PATCH') {
      const patch = parseWith(cameraPatchSchema, body, 'E_CONFIG', 'invalid camera change:');
      return manager.exclusive(async (ops) => {
        // Read inside the step: two PATCHes in a row each see the other's fields.
        const cam = ops.require(id);
        // motionGate is merged field by field too: a PATCH of its threshold keeps it enabled.
        const motionGate = patch.motionGate ? { motionGate: { ...cam.config.entry.motionGate, ...patch.motionGate } } : {};
        const entry = parseWith(cameraSchema, { ...cam.config.entry, ...patch, ...motionGate }, 'E_CONFIG', 'invalid camera:');
        if (patch.tlsCaFile !== undefined) checkCaFile(entry);
        const cfg = cameraConfig(entry, opts.config(), { field: 'camera', origin: 'api', requireMediaRoot: entry.url !== fileEntry(id)?.url });
        const restarted = await recorded(id, entry, () => ops.update(cfg));
        return { status: 200, body: { camera: ops.require(id).view(), restarted } };
      });
    }
    if (method === 'DELETE') {
      return manager.exclusive(async (ops) => {
        ops.require(id);
        await recorded(id, null, () => ops.remove(id));
        return { status: 200, body: { camera: { id, state: 'removed' } } };
      });
    }
    return notAllowed('GET, HEAD, PATCH, DELETE');
  };
}

/** `/api/cameras/<id>` or `/api/cameras/<id>/zones`: the camera id (decoded, checked) and which; else undefined (404). */
export function cameraPath(path: string): { id: string; zones: boolean } | undefined {
  const m = /^\/api\/cameras\/([^/]+)(\/zones)?$/.exec(path);
  if (!m) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  return CAMERA_ID_RE.test(id) ? { id, zones: m[2] !== undefined } : undefined;
}

/** A zones PUT's body: the bare list, or what GET answers ({"zones": [...]}), so a GET can be edited and sent back. */
export function parseZonesBody(body: unknown): ZoneEntry[] {
  const list = body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 1 && 'zones' in body ? (body as { zones: unknown }).zones : body;
  return parseWith(zonesSchema, list, 'E_CONFIG', 'invalid zones:');
}

/** 405 with the methods allowed. */
export function notAllowed(allow: string): ApiReply {
  const err = new SegstreamError('E_MSG_INVALID', `method not allowed here; allowed: ${allow}`, { expected: allow });
  return { status: 405, body: { error: err.toJSON() }, headers: { allow } };
}
