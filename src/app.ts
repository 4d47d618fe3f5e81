import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { mergeMap, Subject, type Observable, type Subscription } from 'rxjs';
import { SegstreamError, silentLogger, type Logger } from './core/index.js';
import { CameraManager, cameraApi, statusMessage, type CameraDiff } from './cameras/index.js';
import { CameraStateStore, defaultModelPath, engineOptions, liveTrackerOptions, readCameraState, resolveCameras, type Config } from './config/index.js';
import { createMetrics, type Metrics } from './metrics.js';
import { deviceAdvice, InferenceEngine, inferLatest, readModelFile, type StageTimings } from './pipeline/index.js';
import { dashboardRoutes, FrameMessages, PublishServer, publishOptionsFrom, securityFrom, type FrameBody } from './publish/index.js';
import type { HelloMessage, JpegHeader, TargetEndedMessage, TargetReattachedMessage } from './protocol/index.js';
import type { TargetedFrame } from './cameraTargets.js';
import { ClipThreadSelector } from './prompts/index.js';
import { OverlayDrawer, type JpegDemand } from './overlay/index.js';
import { loadWrtc, WhepServer } from './webrtc/index.js';
import type { Camera } from './cameras/index.js';
import { EventRecorder, EventStore, eventRoutes, WebhookSender, type EventOut } from './events/index.js';

/** A WHEP video frame sent (overlay drawn): for benchmarks and monitoring. */
export interface VideoFrameSent {
  camera: string;
  seq: number;
  /** Overlay drawing on the overlay thread, ms. */
  drawMs: number;
  /** Capture -> handed to WebRTC, ms. */
  latencyMs: number;
}

/** Emitted after each frame message went out: for benchmarks and monitoring. */
export interface PublishedFrame {
  /** The frame message without masks (masks: none). */
  message: FrameBody;
  /** The frame in every mask format, each built on first use (shared with what the clients were sent). */
  frames: FrameMessages;
  timings: StageTimings & { publishMs: number };
  /** Capture -> sent, ms. */
  latencyMs: number;
}

export interface App {
  readonly address: AddressInfo;
  readonly cameras: CameraManager;
  readonly metrics: Metrics;
  readonly engine: InferenceEngine;
  readonly published$: Observable<PublishedFrame>;
  /** WHEP video frames as they are sent (nothing while nobody watches). */
  readonly video$: Observable<VideoFrameSent>;
  /** The WHEP endpoint (`server.whep`), else undefined. */
  readonly whep: WhepServer | undefined;
  /** The event history (SQLite: events.db, else in memory). */
  readonly events: EventStore;
  /** Road event messages as they go out (WebSocket, webhook, history). */
  readonly events$: Observable<EventOut>;
  /** target.ended / target.reattached messages as they go out (a cluster node forwards them). */
  readonly targetMessages$: Observable<TargetEndedMessage | TargetReattachedMessage>;
  /**
   * The configuration running now: the last one reloaded, with the sections that need a
   * restart (server, inference, tracking, ingest.maxCameras) as the app started with them.
   * Its cameras are as configured; the API's changes are in the state.
   */
  readonly config: Config;
  /**
   * Applies a new configuration's cameras, with the state file read again and laid over them:
   * added, removed and changed cameras only; the others are not touched. Everything is checked
   * first: an invalid configuration or state changes nothing (it throws). Settings that need a
   * restart are named in `needsRestart`, not applied. Runs as one step with API changes.
   */
  reload(config: Config): Promise<CameraDiff & { needsRestart: string[] }>;
  close(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  /** Where API camera changes are kept (none: in memory for this run). */
  state?: CameraStateStore;
}

/**
 * Wires the stages: model -> inference workers, cameras (CameraManager) -> latest-frame
 * scheduler -> inference -> each camera's masks and tracking -> WebSocket. Throws (E_CONFIG,
 * E_SOURCE_REFUSED, E_MODEL_*, listen errors) before anything runs; after start, failures of
 * one camera or client stay with it.
 */
export async function startApp(initial: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? silentLogger();
  const state = options.state ?? new CameraStateStore(undefined);
  let config = initial;
  // Every camera is checked (allow-list, media roots, the state's API changes) before anything starts.
  const cameraConfigs = resolveCameras(config, state.current, state.path);
  const tls = readTlsFiles(config);
  const evc = config.events;
  // The history opens first: a path that cannot hold it stops the start (E_CONFIG naming it).
  const history = EventStore.open(evc.db ?? ':memory:', { maxAgeS: evc.maxAgeDays * 86_400, maxBytes: evc.maxBytes, log });
  let engine: InferenceEngine;
  let info: Awaited<ReturnType<typeof readModelFile>>['info'];
  try {
    const model = await readModelFile(config.inference.model ?? defaultModelPath());
    info = model.info;
    engine = await InferenceEngine.create(info, model.bytes, engineOptions(config.inference), log);
  } catch (err) {
    history.close();
    throw err;
  }
  const device = engine.device;
  log.info({ model: info.path, classes: info.numClasses, input: `${info.inputWidth}x${info.inputHeight}`, batch: info.batch ?? 'dynamic', device: device.device, ...(device.nodes ? { nodes: device.nodes } : {}) }, 'model loaded');
  for (const f of device.unavailable) {
    log.warn({ device: f.device, reason: f.reason, advice: deviceAdvice(f.device), requested: device.requested.join(','), using: device.device }, `inference device ${f.device} cannot be used, falling back to ${device.device}: ${f.reason}`);
  }

  const onCpu = device.device === 'cpu' ? 0 : (device.nodes?.['CPUExecutionProvider'] ?? 0);
  if (onCpu > 0) {
    const all = Object.values(device.nodes ?? {}).reduce((a, b) => a + b, 0);
    log.warn({ device: device.device, nodes: device.nodes }, `inference on ${device.device}: ${onCpu} of ${all} graph nodes run on the CPU (onnxruntime puts there what ${device.device} does not support)`);
  }

  const metrics = createMetrics();
  const webhook = evc.webhook
    ? new WebhookSender(
        { url: evc.webhook.url, ...(evc.webhook.secret === undefined ? {} : { secret: evc.webhook.secret }), maxQueue: evc.webhook.maxQueue, timeoutMs: evc.webhook.timeoutMs },
        {
          log,
          delivered: () => metrics.webhook.inc({ result: 'delivered', reason: '' }),
          failed: (reason) => metrics.webhook.inc({ result: 'failed', reason }),
          dropped: (n) => metrics.webhook.inc({ result: 'dropped', reason: '' }, n),
          retried: () => metrics.webhookRetries.inc(),
        },
      )
    : undefined;
  const eventsOut = new Subject<EventOut>();
  const recorder = new EventRecorder({
    history,
    log,
    send: (m) => {
      metrics.events.inc({ camera: m.camera, kind: m.kind, state: m.state });
      server.publishToCamera(m.camera, m);
      webhook?.send(m);
      eventsOut.next(m);
    },
    snapshotFailed: (camera, reason) => {
      metrics.snapshotsFailed.inc({ camera });
      log.warn({ camera, reason }, 'event snapshot not made');
    },
  });
  const pruneHistory = (): void => {
    try {
      const pruned = history.prune();
      if (pruned.byAge + pruned.bySize + pruned.snapshots > 0) log.info({ ...pruned }, 'event history pruned (retention)');
    } catch (err) {
      log.error({ err }, 'event history could not be pruned');
    }
  };
  pruneHistory();
  const pruneTimer = setInterval(pruneHistory, 10 * 60_000);
  pruneTimer.unref();
  // Open events' last update refreshed in the history, so a crash loses at most this much of them.
  const touchTimer = setInterval(() => recorder.touch(), 30_000);
  touchTimer.unref();
  metrics.inferenceDevice.set({ device: device.device, requested: device.requested.join(','), unavailable: device.unavailable.map((f) => f.device).join(',') }, 1);
  let clip: ClipThreadSelector | undefined;
  if (config.inference.clip) {
    try {
      clip = await ClipThreadSelector.load(config.inference.clip);
    } catch (err) {
      await engine.close();
      throw err;
    }
  }
  const videoSent = new Subject<VideoFrameSent>();
  // WHEP: one overlay thread for every camera; wrtc itself loads with the first viewer.
  const drawer = config.server.whep ? new OverlayDrawer(log) : undefined;
  const cameras = new CameraManager(
    {
      ...(drawer
        ? {
            video: {
              drawer,
              wrtc: loadWrtc,
              ringFrames: config.ingest.displayRingFrames,
              onSent: (camera: string, seq: number, drawMs: number, latencyMs: number) => videoSent.next({ camera, seq, drawMs, latencyMs }),
              // JPEG frames over the WebSocket: encoded only while a client asks (the server is made below).
              jpeg: { demand: (camera: string): JpegDemand => server.jpegDemand(camera), encoded: (header: JpegHeader, jpeg: Buffer): void => server.publishJpeg(header, jpeg) },
            },
          }
        : {}),
      model: info,
      trackerOptions: config.tracking.enabled ? liveTrackerOptions(config.tracking, config.inference.confidence) : null,
      ...(clip ? { textSelector: clip } : {}),
      events: { recorder, config: evc, classNames: info.classNames },
      metrics,
      log,
    },
    config.ingest.maxCameras,
  );
  const server: PublishServer = new PublishServer(
    // What hello offers besides mask formats: JPEG frames and WHEP both come from the display
    // output, which server.whep turns on.
    publishOptionsFrom(config.server, { jpeg: drawer !== undefined, whep: drawer !== undefined }),
    {
      hello: (): Omit<HelloMessage, 'type' | 'protocol' | 'offers'> => ({
        model: { file: basename(info.path), classes: [...info.classNames], input: [info.inputWidth, info.inputHeight] },
        inference: { device: device.device, requested: [...device.requested], unavailable: device.unavailable.map((f) => ({ ...f })) },
        cameras: cameras.list().map((c) => c.view()),
      }),
      // /healthz: the process serves; /readyz: it publishes every enabled camera (503 says which is down and why).
      health: () => ({ ok: true, workers: engine.workerCount, inference: device, cameras: cameras.list().map((c) => c.view()) }),
      ready: () => readiness(cameras, engine.workerCount),
      cameraIds: () => cameras.ids(),
      handlers: { prompt: (m) => cameras.handlePrompt(m), 'prompt.clear': (m) => cameras.handlePrompt(m) },
      api: cameraApi({ manager: cameras, config: () => config, store: state }),
    },
    metrics,
    log,
    securityFrom(config.server, tls),
  );
  // The dashboard (GET /, /assets/): public files; the page asks for the token itself.
  for (const route of dashboardRoutes({ tokenRequired: config.server.token !== undefined })) server.route(route);
  const whep = drawer
    ? new WhepServer(
        { maxViewersPerCamera: config.server.whepMaxViewersPerCamera, maxViewers: config.server.whepMaxViewers },
        (id) => cameras.get(id)?.video ?? undefined,
        loadWrtc,
        log,
        (open) => metrics.whepSessions.set(open),
      )
    : undefined;
  if (whep) server.route(whep.route());
  for (const route of eventRoutes(history)) server.route(route);
  let address: AddressInfo;
  try {
    address = await server.listen();
  } catch (err) {
    await cameras.close();
    await engine.close();
    await clip?.close();
    await drawer?.close();
    clearInterval(pruneTimer);
    clearInterval(touchTimer);
    await webhook?.close();
    history.close();
    throw err;
  }
  log.info({ port: address.port, host: address.address, tls: tls !== undefined, token: config.server.token !== undefined }, `listening: dashboard GET /, GET /healthz, /readyz, /metrics, /api/cameras, WebSocket /ws${whep ? ', WHEP POST /whep/<camera>' : ''}`);
  if (config.server.token === undefined && !isLoopback(config.server.host)) {
    log.warn(
      { host: config.server.host },
      'NO ACCESS TOKEN: anyone who can reach this address can watch every camera, send prompts and add or remove cameras; set --token (or SEGSTREAM_TOKEN, server.token) or listen on 127.0.0.1',
    );
  }

  const published = new Subject<PublishedFrame>();
  const targetMessages = new Subject<TargetEndedMessage | TargetReattachedMessage>();
  const sendTarget = (m: TargetEndedMessage | TargetReattachedMessage): void => {
    server.broadcast(m);
    targetMessages.next(m);
  };
  const subs: Subscription[] = [
    cameras.status$.subscribe((st) => server.broadcast(statusMessage(st))),
    cameras.targetsEnded$.subscribe(({ camera, ended }) => {
      for (const e of ended) sendTarget({ type: 'target.ended', camera, target: e.target, reason: e.reason });
    }),
  ];
  subs.push(
    cameras.frames$
      .pipe(
        inferLatest(engine, {
          onDrop: (f) => cameras.get(f.camera)?.noteDropped(f.seq),
          onSlot: (camera, occupied) => cameras.get(camera)?.backpressure(occupied),
          onError: (frames, err) => {
            for (const f of frames) if (cameras.get(f.camera)) metrics.inferenceErrors.inc({ camera: f.camera });
            for (const f of frames) cameras.get(f.camera)?.noteFailed(f.seq);
            log.error({ code: err.code, err: err.message, cameras: frames.map((f) => f.camera) }, 'inference failed');
          },
          onBatch: (size, inferenceMs) => metrics.inferenceSeconds.observe({ batch: String(size) }, inferenceMs / 1000),
          forget$: cameras.forget$,
          maxWaitMs: engine.batchWaitMs,
        }),
        mergeMap((item) => {
          const cam = cameras.get(item.frame.camera);
          if (!cam) return [];
          try {
            return [{ cam, out: cam.process(item) }];
          } catch (err) {
            log.error({ err, camera: item.frame.camera, seq: item.frame.seq }, 'mask decoding or tracking failed; frame skipped');
            metrics.framesFailed.inc({ camera: item.frame.camera });
            return [];
          } finally {
            // The masks are assembled: the prototypes can go back to a worker.
            engine.recycle(item.image.protos);
          }
        }),
      )
      .subscribe({
        next: ({ cam, out }) => publish(cam, out),
        error: (err: unknown) => log.error({ err }, 'pipeline stopped'),
      }),
    // Motion gating: frames kept from inference, published with the last result's objects.
    cameras.gated$.subscribe(({ cam, out }) => publish(cam, out)),
  );

  function publish(cam: Camera, out: TargetedFrame): void {
    const { seg, targets: assignments, reattached, ended } = out;
    const t0 = performance.now();
    const camera = seg.frame.camera;
    for (const r of reattached) sendTarget({ type: 'target.reattached', camera, target: r.target, from: r.from, to: r.to });
    for (const e of ended) sendTarget({ type: 'target.ended', camera, target: e.target, reason: e.reason });
    // Each mask format is built and serialised once, and only if some client asks for it.
    const frames = new FrameMessages(seg, { dropped: cam.framesDropped, now: Date.now(), targets: assignments });
    server.publishFrame(camera, frames);
    const message = frames.message('none');
    const publishMs = performance.now() - t0;
    const latencyMs = Date.now() - seg.frame.timestamp;
    cam.notePublished(seg.frame.timestamp, latencyMs);
    // Zones and rules after the frame message: an event's start follows the frame it fired on.
    try {
      cam.events?.onFrame(out);
    } catch (err) {
      log.error({ err, camera }, 'event rules failed on a frame; frame skipped for events');
    }
    published.next({ message, frames, timings: { ...seg.timings, publishMs }, latencyMs });
    // After the message: the video's drawing and the JPEG frames' run on the overlay thread.
    cam.sendVideo(out);
  }

  await cameras.apply(cameraConfigs);

  let closing: Promise<void> | undefined;
  return {
    address,
    cameras,
    metrics,
    engine,
    published$: published.asObservable(),
    video$: videoSent.asObservable(),
    whep,
    events: history,
    events$: eventsOut.asObservable(),
    targetMessages$: targetMessages.asObservable(),
    get config() {
      return config;
    },
    reload(next) {
      // The restart-only settings stay as started, so cameras are checked against what runs
      // (e.g. inference.confidence, which the engine cuts at).
      const effective: Config = {
        ...next,
        server: initial.server,
        inference: initial.inference,
        tracking: initial.tracking,
        events: initial.events,
        broker: initial.broker,
        ingest: { ...next.ingest, maxCameras: initial.ingest.maxCameras },
      };
      const needsRestart: string[] = (['server', 'inference', 'tracking', 'events', 'broker'] as const).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(initial[k]));
      if (next.ingest.maxCameras !== initial.ingest.maxCameras) needsRestart.push('ingest.maxCameras');
      return cameras.exclusive(async (ops) => {
        // The state file read again inside the step: an API change cannot slip in between.
        const before = state.current;
        if (state.path !== undefined) state.replace(readCameraState(state.path));
        let diff: CameraDiff;
        try {
          diff = await ops.apply(resolveCameras(effective, state.current, state.path));
        } catch (err) {
          state.replace(before);
          throw err;
        }
        config = effective;
        log.info({ ...diff, needsRestart }, 'configuration reloaded');
        if (needsRestart.length > 0) log.warn({ settings: needsRestart }, 'these settings changed but apply only after a restart');
        return { ...diff, needsRestart };
      });
    },
    close: () =>
      (closing ??= (async () => {
        await cameras.close();
        // The cameras' open events ended with them: their messages go out before the server closes.
        await recorder.idle();
        clearInterval(pruneTimer);
        clearInterval(touchTimer);
        history.closeOpen();
        await webhook?.drain(2000);
        await webhook?.close();
        eventsOut.complete();
        whep?.close();
        for (const s of subs) s.unsubscribe();
        published.complete();
        targetMessages.complete();
        videoSent.complete();
        await server.close();
        // After the server: /events requests being answered still read it.
        history.close();
        await drawer?.close();
        await engine.close();
        await clip?.close();
        log.info('stopped');
      })()),
  };
}

/** The server's certificate and key, read before anything starts (E_CONFIG naming the field). */
function readTlsFiles(config: Config): { cert: Buffer; key: Buffer } | undefined {
  const { tlsCert, tlsKey } = config.server;
  if (tlsCert === undefined || tlsKey === undefined) return undefined;
  const read = (field: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new SegstreamError('E_CONFIG', `invalid configuration: ${field}: cannot read '${path}': ${(err as Error).message}`, { expected: 'a readable PEM file', actual: path });
    }
  };
  return { cert: read('server.tlsCert', tlsCert), key: read('server.tlsKey', tlsKey) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}


/**
 * Readiness (`GET /readyz`): an inference worker is alive and every enabled camera delivers,
 * i.e. is `streaming`, or `ended` (a file that played to its end as asked). Each camera that
 * does not (a camera backing off counts as down) is listed with its state and error.
 */
function readiness(cameras: CameraManager, workers: number): { ok: boolean; [k: string]: unknown } {
  const enabled = cameras.list().filter((c) => c.config.enabled);
  const down = enabled.filter((c) => c.status.state !== 'streaming' && c.status.state !== 'ended').map((c) => c.view());
  return { ok: workers > 0 && down.length === 0, workers, ...(down.length > 0 ? { down } : {}), cameras: enabled.length };
}
