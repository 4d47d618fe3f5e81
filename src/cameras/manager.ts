import { Subject, type Observable } from 'rxjs';
import { nameSome, SegstreamError, summariseValue, type Frame } from '../core/index.js';
import type { CameraConfig } from '../config/index.js';
import { parsePromptMessage } from '../prompts/index.js';
import type { EndedTarget, TargetedFrame } from '../cameraTargets.js';
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

/** The changes one exclusive step may make (see CameraManager.exclusive). */
export interface CameraOps {
  get(id: string): Camera | undefined;
  require(id: string): Camera;
  add(config: CameraConfig): Camera;
  remove(id: string): Promise<void>;
  /** Returns whether the camera restarted. */
  update(config: CameraConfig): Promise<boolean>;
  apply(configs: readonly CameraConfig[]): Promise<CameraDiff>;
}

/** Targets of a camera that ended because the camera was removed or restarted. */
export interface CameraTargetsEnded {
  readonly camera: string;
  readonly ended: readonly EndedTarget[];
}

/** A frame motion gating kept from inference, ready to publish, and its camera. */
export interface GatedFrame {
  readonly cam: Camera;
  readonly out: TargetedFrame;
}

/**
 * The cameras that run, added, replaced and removed at run time. Each camera's frames go into
 * one merged stream (`frames$`, for the scheduler), those motion gating keeps from inference
 * into another (`gated$`, to publish as they are); a removed camera's id goes out on
 * `forget$` so its frames still queued or in a worker are dropped. Changes run one at a time:
 * an API request or a reload does its checks, its change and its bookkeeping in one exclusive
 * step, so two never interleave; nothing one camera does reaches another.
 */
export class CameraManager {
  private readonly cameras = new Map<string, Camera>();
  private readonly frames = new Subject<Frame>();
  private readonly gatedFrames = new Subject<GatedFrame>();
  private readonly forgotten = new Subject<string>();
  private readonly statuses = new Subject<CameraStatus>();
  private readonly targetsEnded = new Subject<CameraTargetsEnded>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly ops: CameraOps = {
    get: (id) => this.cameras.get(id),
    require: (id) => this.require(id),
    add: (config) => this.addNow(config),
    remove: async (id) => {
      this.require(id);
      await this.removeNow(id, 'removed');
    },
    update: (config) => this.updateNow(this.require(config.id), config),
    apply: (configs) => this.applyNow(configs),
  };

  constructor(
    private readonly deps: Omit<CameraDeps, 'sink'>,
    private readonly maxCameras: number,
  ) {}

  /** Every camera's frames, merged. */
  get frames$(): Observable<Frame> {
    return this.frames.asObservable();
  }

  /** Every camera's frames that motion gating published without inference (the last result's objects). */
  get gated$(): Observable<GatedFrame> {
    return this.gatedFrames.asObservable();
  }

  /** Ids of cameras that stopped: their frames in the pipeline are stale. */
  get forget$(): Observable<string> {
    return this.forgotten.asObservable();
  }

  /** Every camera's status changes, `removed` included. */
  get status$(): Observable<CameraStatus> {
    return this.statuses.asObservable();
  }

  /** Targets that ended with their camera (removed or restarted), before its `removed` status. */
  get targetsEnded$(): Observable<CameraTargetsEnded> {
    return this.targetsEnded.asObservable();
  }

  get(id: string): Camera | undefined {
    return this.cameras.get(id);
  }

  /** A camera by id, or E_UNKNOWN_CAMERA. */
  require(id: string): Camera {
    const cam = this.cameras.get(id);
    if (!cam) throw new SegstreamError('E_UNKNOWN_CAMERA', `unknown camera: ${nameSome([id])}`, { expected: this.ids().slice(0, 16), actual: summariseValue(id) });
    return cam;
  }

  list(): Camera[] {
    return [...this.cameras.values()];
  }

  ids(): string[] {
    return [...this.cameras.keys()];
  }

  /**
   * Runs `step` when no other change runs and lets it make several (checks, changes and their
   * bookkeeping together): what it reads cannot change under it.
   */
  exclusive<T>(step: (ops: CameraOps) => T | Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new SegstreamError('E_INTERNAL', 'the camera manager is closed');
      return step(this.ops);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Adds and starts a camera; E_CAMERA_EXISTS for a used id, E_CAMERA_LIMIT past the limit. */
  add(config: CameraConfig): Promise<Camera> {
    return this.exclusive((ops) => ops.add(config));
  }

  /** Removes a camera: its ffmpeg ends, clients get `removed`. E_UNKNOWN_CAMERA if there is none. */
  remove(id: string): Promise<void> {
    return this.exclusive((ops) => ops.remove(id));
  }

  /**
   * Gives a camera a new configuration: in place when only its score threshold differs,
   * else it restarts (and only it). Returns whether it restarted.
   */
  update(config: CameraConfig): Promise<boolean> {
    return this.exclusive((ops) => ops.update(config));
  }

  /**
   * Makes the running cameras the given list: new ids are added, missing ones removed,
   * changed ones updated; a camera whose configuration is the same is not touched. A list
   * over the limit changes nothing (E_CAMERA_LIMIT).
   */
  apply(configs: readonly CameraConfig[]): Promise<CameraDiff> {
    return this.exclusive((ops) => ops.apply(configs));
  }

  /** Answers a `prompt` / `prompt.clear` message with the camera it names. */
  async handlePrompt(raw: unknown): Promise<Record<string, unknown>> {
    const msg = parsePromptMessage(raw);
    return this.require(msg.camera).targets.handle(msg);
  }

  /** Closes every camera; the streams complete. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      this.closed = true;
      await Promise.all(this.list().map((c) => c.close()));
      this.cameras.clear();
      for (const s of [this.frames, this.gatedFrames, this.forgotten, this.statuses, this.targetsEnded]) s.complete();
    });
  }

  private addNow(config: CameraConfig): Camera {
    if (this.cameras.has(config.id)) {
      throw new SegstreamError('E_CAMERA_EXISTS', `camera '${config.id}' exists already; PATCH or DELETE it`, { expected: 'a new camera id', actual: config.id });
    }
    if (this.cameras.size >= this.maxCameras) throw this.limitError(this.cameras.size + 1);
    const cam: Camera = new Camera(config, { ...this.deps, sink: (f) => this.frames.next(f), gated: (out) => this.gatedFrames.next({ cam, out }) });
    this.cameras.set(config.id, cam);
    cam.status$.subscribe((st) => this.statuses.next(st));
    cam.start();
    this.deps.log.info({ camera: config.id, url: cam.displayUrl, enabled: config.enabled, origin: config.origin }, 'camera added');
    return cam;
  }

  private limitError(wanted: number): SegstreamError {
    return new SegstreamError('E_CAMERA_LIMIT', `${wanted} cameras would be more than allowed (ingest.maxCameras)`, { expected: `<= ${this.maxCameras} cameras`, actual: wanted });
  }

  private async removeNow(id: string, reason: 'removed' | 'restarted'): Promise<void> {
    const cam = this.cameras.get(id);
    if (!cam) return;
    this.cameras.delete(id);
    const ended = await cam.close(reason);
    this.forgotten.next(id);
    if (ended.length > 0) this.targetsEnded.next({ camera: id, ended });
    this.deps.log.info({ camera: id, reason }, reason === 'removed' ? 'camera removed' : 'camera restarting with a new configuration');
  }

  private async updateNow(cam: Camera, config: CameraConfig): Promise<boolean> {
    if (cam.sameSource(config)) {
      cam.reconfigure(config);
      this.deps.log.info({ camera: config.id }, 'camera updated in place');
      return false;
    }
    await this.removeNow(cam.id, 'restarted');
    this.addNow(config);
    return true;
  }

  private async applyNow(configs: readonly CameraConfig[]): Promise<CameraDiff> {
    if (configs.length > this.maxCameras) throw this.limitError(configs.length);
    const diff: CameraDiff = { added: [], removed: [], restarted: [], updated: [] };
    const wanted = new Map(configs.map((c) => [c.id, c]));
    for (const id of this.ids()) {
      if (!wanted.has(id)) {
        await this.removeNow(id, 'removed');
        diff.removed.push(id);
      }
    }
    for (const config of configs) {
      const cam = this.cameras.get(config.id);
      if (!cam) {
        this.addNow(config);
        diff.added.push(config.id);
      } else if (JSON.stringify(cam.config.entry) !== JSON.stringify(config.entry) || !cam.sameSource(config)) {
        // (The score threshold comes from the entry, or from inference.confidence, which a reload keeps.)
        (await this.updateNow(cam, config) ? diff.restarted : diff.updated).push(config.id);
      } else {
        // The same camera: it takes the new configuration's rules (media roots for the next
        // ffmpeg start) without anything else changing.
        cam.reconfigure(config);
      }
    }
    return diff;
  }
}
