import { Subject, type Observable } from 'rxjs';
import { nameSome, SegstreamError, summariseValue, type Frame } from '../core/index.js';
import type { CameraConfig } from '../config/index.js';
import { parsePromptMessage } from '../prompts/index.js';
import { Camera, type CameraDeps, type CameraStatus } from './camera.js';

/** What applying a new camera list did, by camera id. */
export interface CameraDiff {
  added: string[];
  removed: string[];
  /** Restarted: the source or its options changed. */
  restarted: string[];
  /** Changed in place (score threshold): no restart. */
  updated: string[];
}

/**
 * The cameras that run, added, replaced and removed at run time. Each camera's frames go into
 * one merged stream (`frames$`, for the scheduler); a removed camera's id goes out on
 * `forget$` so its frames still queued or in a worker are dropped. Changes run one at a time
 * (an API request and a reload never interleave), and nothing one camera does reaches another.
 */
export class CameraManager {
  private readonly cameras = new Map<string, Camera>();
  private readonly frames = new Subject<Frame>();
  private readonly forgotten = new Subject<string>();
  private readonly statuses = new Subject<CameraStatus>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly deps: Omit<CameraDeps, 'sink'>,
    private readonly maxCameras: number,
  ) {}

  /** Every camera's frames, merged. */
  get frames$(): Observable<Frame> {
    return this.frames.asObservable();
  }

  /** Ids of cameras that stopped: their frames in the pipeline are stale. */
  get forget$(): Observable<string> {
    return this.forgotten.asObservable();
  }

  /** Every camera's status changes, `removed` included. */
  get status$(): Observable<CameraStatus> {
    return this.statuses.asObservable();
  }

  get(id: string): Camera | undefined {
    return this.cameras.get(id);
  }

  /** A camera by id, or E_UNKNOWN_CAMERA. */
  require(id: string): Camera {
    const cam = this.cameras.get(id);
    if (!cam) throw new SegstreamError('E_UNKNOWN_CAMERA', `unknown camera: ${nameSome([id])}`, { expected: this.ids(), actual: summariseValue(id) });
    return cam;
  }

  list(): Camera[] {
    return [...this.cameras.values()];
  }

  ids(): string[] {
    return [...this.cameras.keys()];
  }

  /** Adds and starts a camera; E_CAMERA_EXISTS for a used id, E_CAMERA_LIMIT past the limit. */
  add(config: CameraConfig): Promise<Camera> {
    return this.serial(() => this.addNow(config));
  }

  /** Removes a camera: its ffmpeg ends, clients get `removed`. E_UNKNOWN_CAMERA if there is none. */
  remove(id: string): Promise<void> {
    return this.serial(async () => {
      this.require(id);
      await this.removeNow(id);
    });
  }

  /**
   * Gives a camera a new configuration: in place when only its score threshold differs,
   * else it restarts (and only it). Returns whether it restarted.
   */
  update(config: CameraConfig): Promise<boolean> {
    return this.serial(async () => this.updateNow(this.require(config.id), config));
  }

  /**
   * Makes the running cameras the given list: new ids are added, missing ones removed,
   * changed ones updated; a camera whose configuration is the same is not touched.
   */
  apply(configs: readonly CameraConfig[]): Promise<CameraDiff> {
    return this.serial(async () => {
      const diff: CameraDiff = { added: [], removed: [], restarted: [], updated: [] };
      const wanted = new Map(configs.map((c) => [c.id, c]));
      for (const id of this.ids()) {
        if (!wanted.has(id)) {
          await this.removeNow(id);
          diff.removed.push(id);
        }
      }
      for (const config of configs) {
        const cam = this.cameras.get(config.id);
        if (!cam) {
          this.addNow(config);
          diff.added.push(config.id);
        } else if (JSON.stringify(cam.config.entry) !== JSON.stringify(config.entry) || !cam.sameSource(config) || cam.config.confidence !== config.confidence) {
          (await this.updateNow(cam, config) ? diff.restarted : diff.updated).push(config.id);
        }
      }
      return diff;
    });
  }

  /** Answers a `prompt` / `prompt.clear` message with the camera it names. */
  async handlePrompt(raw: unknown): Promise<Record<string, unknown>> {
    const msg = parsePromptMessage(raw);
    return this.require(msg.camera).targets.handle(msg);
  }

  /** Closes every camera; the streams complete. */
  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      await Promise.all(this.list().map((c) => c.close()));
      this.cameras.clear();
      this.frames.complete();
      this.forgotten.complete();
      this.statuses.complete();
    });
  }

  private serial<T>(op: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new SegstreamError('E_INTERNAL', 'the camera manager is closed');
      return op();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private addNow(config: CameraConfig): Camera {
    if (this.cameras.has(config.id)) {
      throw new SegstreamError('E_CAMERA_EXISTS', `camera '${config.id}' exists already; PATCH or DELETE it`, { expected: 'a new camera id', actual: config.id });
    }
    if (this.cameras.size >= this.maxCameras) {
      throw new SegstreamError('E_CAMERA_LIMIT', `already ${this.cameras.size} cameras, the most allowed (ingest.maxCameras)`, { expected: `<= ${this.maxCameras} cameras`, actual: this.cameras.size + 1 });
    }
    const cam = new Camera(config, { ...this.deps, sink: (f) => this.frames.next(f) });
    this.cameras.set(config.id, cam);
    cam.status$.subscribe((st) => this.statuses.next(st));
    cam.start();
    this.deps.log.info({ camera: config.id, url: cam.displayUrl, enabled: config.enabled, origin: config.origin }, 'camera added');
    return cam;
  }

  private async removeNow(id: string, announce = true): Promise<void> {
    const cam = this.cameras.get(id);
    if (!cam) return;
    this.cameras.delete(id);
    await cam.close(announce);
    this.forgotten.next(id);
    this.deps.log.info({ camera: id }, 'camera removed');
  }

  private async updateNow(cam: Camera, config: CameraConfig): Promise<boolean> {
    if (cam.sameSource(config)) {
      cam.reconfigure(config);
      this.deps.log.info({ camera: config.id }, 'camera updated in place');
      return false;
    }
    await this.removeNow(cam.id, false);
    this.addNow(config);
    return true;
  }
}
