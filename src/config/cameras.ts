import { parseWith, SegstreamError } from '../core/index.js';
import { writeCameraState, type CameraState } from './load.js';
import { cameraConfig, type CameraConfig } from './rules.js';
import { cameraSchema, type CameraEntry, type CameraEntryInput, type Config } from './schema.js';

/**
 * The cameras to run: the configuration's, with the state file's API changes laid over them
 * (a camera the API changed replaces the configured one of that id, in place; one it added
 * comes after the configured ones; one it removed is gone). A URL that came through the API
 * (any the configuration does not give that camera) keeps the API's rule: a local file must
 * lie inside a media root. Throws like parseConfig, naming the state file's field.
 */
export function resolveCameras(cfg: Config, state?: CameraState, statePath = 'state file'): CameraConfig[] {
  const out: CameraConfig[] = [];
  const placed = new Set<string>();
  const fromState = (id: string, entry: unknown, fileUrl: string | undefined): CameraConfig => {
    const field = `${statePath}: cameras.${id}`;
    const parsed = parseWith(cameraSchema, entry, 'E_CONFIG', `invalid camera in ${field}:`);
    return cameraConfig(parsed, cfg, { field, origin: 'api', requireMediaRoot: parsed.url !== fileUrl });
  };
  cfg.cameras.forEach((entry, i) => {
    if (state && Object.hasOwn(state.cameras, entry.id)) {
      placed.add(entry.id);
      const over = state.cameras[entry.id];
      if (over) out.push(fromState(entry.id, over, entry.url));
      return;
    }
    out.push(cameraConfig(entry, cfg, { field: `cameras[${i}]` }));
  });
  for (const [id, over] of Object.entries(state?.cameras ?? {})) {
    if (over && !placed.has(id)) out.push(fromState(id, over, undefined));
  }
  if (out.length > cfg.ingest.maxCameras) {
    throw new SegstreamError('E_CONFIG', `invalid configuration: cameras: ${out.length} cameras with ${statePath}, more than ingest.maxCameras`, {
      expected: `<= ${cfg.ingest.maxCameras}`,
      actual: out.length,
    });
  }
  return out;
}

/**
 * The API's camera changes, kept in memory and, given a path, in the state file (written
 * atomically after every change), so a restart or a reload does not undo them.
 */
export class CameraStateStore {
  private state: CameraState;

  constructor(
    readonly path: string | undefined,
    initial: CameraState = { version: 1, cameras: {} },
  ) {
    this.state = { version: 1, cameras: Object.assign(byId(), initial.cameras) };
  }

  get current(): CameraState {
    return this.state;
  }

  /** Takes the state as read again from its file (a reload: the operator may have edited it). */
  replace(state: CameraState): void {
    this.state = { version: 1, cameras: Object.assign(byId(), state.cameras) };
  }

  /**
   * Records what the API did to camera `id`: its entry now, or null for a removal. A removed
   * camera the configuration does not have leaves nothing behind.
   */
  record(id: string, entry: CameraEntry | null, configured: boolean): void {
    // Without a prototype, an id such as `__proto__` is a key like any other.
    const cameras = Object.assign(byId(), this.state.cameras);
    if (entry === null && !configured) delete cameras[id];
    else cameras[id] = entry;
    const next: CameraState = { version: 1, cameras };
    if (this.path !== undefined) writeCameraState(this.path, next);
    this.state = next;
  }
}

function byId(): Record<string, CameraEntryInput | null> {
  return Object.create(null) as Record<string, CameraEntryInput | null>;
}
