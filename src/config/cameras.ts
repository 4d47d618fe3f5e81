import { parseWith, SegstreamError } from '../core/index.js';
import { writeCameraState, type CameraState } from './load.js';
import { cameraConfig, type CameraConfig } from './rules.js';
import { cameraSchema, type CameraEntry, type CameraEntryInput, type Config } from './schema.js';

/**
 * The cameras to run: the configuration's, with the state file's API changes laid over them
 * (the fields the API changed on a configured camera, in place; cameras the API added after
 * the configured ones; a configured camera the API removed is gone). A URL that came through
 * the API (one the configuration does not give that camera) keeps the API's rule: a local
 * file must lie inside a media root. Throws like parseConfig, naming the state file's field.
 */
export function resolveCameras(cfg: Config, state?: CameraState, statePath = 'state file'): CameraConfig[] {
  const out: CameraConfig[] = [];
  const placed = new Set<string>();
  const fromState = (id: string, over: Partial<CameraEntryInput>, file: CameraEntry | undefined): CameraConfig => {
    const field = `${statePath}: cameras.${id}`;
    const parsed = parseWith(cameraSchema, { ...file, ...over, id }, 'E_CONFIG', `invalid camera in ${field}:`);
    return cameraConfig(parsed, cfg, { field, origin: 'api', requireMediaRoot: parsed.url !== file?.url });
  };
  cfg.cameras.forEach((entry, i) => {
    if (state && Object.hasOwn(state.cameras, entry.id)) {
      placed.add(entry.id);
      const over = state.cameras[entry.id];
      if (over) out.push(fromState(entry.id, over, entry));
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
 * atomically), so a restart or a reload does not undo them.
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
   * Records what the API made of camera `id`: its entry now, or null for a removal. `file` is
   * the configuration's own entry for that id, if it has one: then only the fields that differ
   * from it are kept (none: the entry goes, the file's camera applies as it is), and a
   * removal is kept as null; a removed camera the configuration does not have leaves nothing.
   * Writes the file first: when that fails, nothing changes (the error is thrown). Returns a
   * function that undoes the record.
   */
  record(id: string, entry: CameraEntry | null, file: CameraEntry | undefined): () => void {
    const before = this.state;
    // Without a prototype, an id such as `__proto__` is a key like any other.
    const cameras = Object.assign(byId(), before.cameras);
    if (entry === null) {
      if (file) cameras[id] = null;
      else delete cameras[id];
    } else if (!file) cameras[id] = entry;
    else {
      const changed = Object.keys({ ...file, ...entry }).filter((k) => k !== 'id' && JSON.stringify(file[k as keyof CameraEntry]) !== JSON.stringify(entry[k as keyof CameraEntry]));
      if (changed.length === 0) delete cameras[id];
      else cameras[id] = Object.fromEntries([['id', id], ...changed.map((k) => [k, entry[k as keyof CameraEntry]])]) as Partial<CameraEntryInput>;
    }
    this.write({ version: 1, cameras });
    return () => this.write(before);
  }

  private write(next: CameraState): void {
    if (this.path !== undefined) writeCameraState(this.path, next);
    this.state = next;
  }
}

function byId(): CameraState['cameras'] {
  return Object.create(null) as CameraState['cameras'];
}
