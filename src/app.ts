import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { merge, mergeMap, Subject, tap, type Observable, type Subscription } from 'rxjs';
import { SegstreamError, silentLogger, type Logger } from './core/index.js';
import { liveTrackerOptions, type AppConfig } from './config.js';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec, resolveSource, type SourceStatus } from './ingest/index.js';
import { createMetrics, type Metrics } from './metrics.js';
import { decodeFrame, InferenceEngine, inferLatest, readModelFile, type EngineOptions, type StageTimings } from './pipeline/index.js';
import { frameMessage, PublishServer, type FrameMessage } from './publish/index.js';
import { CameraTargets, type TargetedFrame } from './cameraTargets.js';
import { ClipThreadSelector } from './prompts/index.js';

/** Emitted after each frame message went out: for benchmarks and monitoring. */
export interface PublishedFrame {
  message: FrameMessage;
  timings: StageTimings & { publishMs: number };
  /** Capture -> sent, ms. */
  latencyMs: number;
}

export interface App {
  readonly address: AddressInfo;
  readonly sources: readonly CameraSource[];
  readonly metrics: Metrics;
  readonly engine: InferenceEngine;
  readonly published$: Observable<PublishedFrame>;
  close(): Promise<void>;
}

/** The inference engine's options for a config (also used by bench/eval-prompt). */
export function engineOptions(config: AppConfig): EngineOptions {
  return {
    workers: config.workers,
    threadsPerWorker: config.threads,
    maxBatch: config.maxBatch,
    executionProviders: [config.executionProvider],
    decode: { confidence: config.confidence, iouThreshold: config.iou, agnostic: config.agnosticNms, maxDetections: config.maxDetections },
  };
}

/**
 * Wires the stages: model -> inference workers, cameras -> latest-frame scheduler ->
 * inference -> masks -> WebSocket. Throws (E_MODEL_*, E_CONFIG, listen errors) before
 * anything runs; after start, failures of one camera or client stay with it.
 */
export async function startApp(config: AppConfig, log: Logger = silentLogger()): Promise<App> {
  // Every source is checked (scheme allow-list, files against the media roots) before anything starts.
  const specs = config.sources.map((s, i) => resolveSource(parseSourceSpec(s, i), { mediaRoots: config.mediaRoots, tlsVerify: config.tlsVerify }));
  const ids = new Set<string>();
  for (const s of specs) {
    if (ids.has(s.id)) throw new SegstreamError('E_CONFIG', `camera id '${s.id}' is used twice`, { expected: 'unique camera ids', actual: s.id });
    ids.add(s.id);
  }
  const { bytes, info } = await readModelFile(config.model);
  const engine = await InferenceEngine.create(info, bytes, engineOptions(config), log);
  log.info({ model: info.path, classes: info.numClasses, input: `${info.inputWidth}x${info.inputHeight}`, batch: info.batch ?? 'dynamic' }, 'model loaded');

  const metrics = createMetrics();
  const sources = specs.map(
    (spec) =>
      new CameraSource(
        spec,
        {
          ...DEFAULT_SOURCE_OPTIONS,
          modelWidth: info.inputWidth,
          modelHeight: info.inputHeight,
          realtime: config.realtime,
          loop: config.loop,
          networkTimeoutS: config.networkTimeoutS,
          stallTimeoutS: config.stallTimeoutS,
          reconnectMinMs: config.reconnectMinMs,
          reconnectMaxMs: config.reconnectMaxMs,
          fastRetryWindowMs: config.fastRetryWindowMs,
          tlsVerify: config.tlsVerify,
          ...(config.tlsCaFile === undefined ? {} : { caFile: config.tlsCaFile }),
        },
        log.child({ camera: spec.id }),
      ),
  );
  const byId = new Map(sources.map((s) => [s.camera, s]));
  let clip: ClipThreadSelector | undefined;
  if (config.clip) {
    try {
      clip = await ClipThreadSelector.load(config.clip);
    } catch (err) {
      await engine.close();
      throw err;
    }
  }
  // One tracker and one target registry per camera: ids are per camera and never shared.
  const targets = new CameraTargets(
    sources.map((s) => s.camera),
    config.tracking ? liveTrackerOptions(config) : null,
    info.classNames,
    clip,
  );
  const dropped = new Map<string, number>();

  const server = new PublishServer(
    {
      host: config.host,
      port: config.port,
      maxMessageBytes: config.maxMessageBytes,
      maxPayloadBytes: Math.max(config.maxMessageBytes * 4, 1 << 20),
      maxBufferedBytes: config.maxBufferedBytes,
      slowClientTimeoutMs: config.slowClientTimeoutMs,
      slowClientCloseGraceMs: config.slowClientCloseGraceMs,
      maxClients: config.maxClients,
    },
    {
      hello: () => ({
        model: { file: basename(info.path), classes: info.classNames, input: [info.inputWidth, info.inputHeight] },
        cameras: sources.map(cameraView),
      }),
      // /healthz: the process serves; /readyz: it publishes every camera (503 says which is down and why).
      health: () => ({ ok: true, workers: engine.workerCount, cameras: sources.map(cameraView) }),
      ready: () => readiness(sources, engine.workerCount),
      cameraIds: () => sources.map((s) => s.camera),
      handlers: { prompt: (m) => targets.handle(m), 'prompt.clear': (m) => targets.handle(m) },
    },
    metrics,
    log,
  );
  let address: AddressInfo;
  try {
    address = await server.listen();
  } catch (err) {
    await engine.close();
    await clip?.close();
    throw err;
  }
  log.info({ port: address.port, host: address.address }, 'listening: GET /healthz, /readyz, /metrics, WebSocket /ws');

  const published = new Subject<PublishedFrame>();
  const subs: Subscription[] = [];
  for (const s of sources) {
    subs.push(
      s.status$.subscribe((st) => {
        if (st.state === 'reconnecting') metrics.sourceRestarts.inc({ camera: st.camera });
        server.broadcast(statusMessage(st));
      }),
    );
  }

  // Files read as fast as possible wait for the pipeline instead of dropping frames.
  const backpressure = (camera: string, occupied: boolean): void => {
    const src = byId.get(camera);
    if (!src || config.realtime || src.spec.kind !== 'file') return;
    if (occupied) src.pause();
    else src.resume();
  };

  const frames$ = merge(...sources.map((s) => s.frames$)).pipe(tap((f) => metrics.framesIn.inc({ camera: f.camera })));
  subs.push(
    frames$
      .pipe(
        inferLatest(engine, {
          onDrop: (f) => {
            dropped.set(f.camera, (dropped.get(f.camera) ?? 0) + 1);
            metrics.framesDropped.inc({ camera: f.camera });
          },
          onSlot: backpressure,
          onError: (frames, err) => {
            for (const f of frames) metrics.inferenceErrors.inc({ camera: f.camera });
            log.error({ code: err.code, err: err.message, cameras: frames.map((f) => f.camera) }, 'inference failed');
          },
          onBatch: (size, inferenceMs) => metrics.inferenceSeconds.observe({ batch: String(size) }, inferenceMs / 1000),
        }),
        mergeMap((item) => {
          try {
            return [targets.process(decodeFrame(item, info))];
          } catch (err) {
            log.error({ err, camera: item.frame.camera, seq: item.frame.seq }, 'mask decoding or tracking failed; frame skipped');
            metrics.framesFailed.inc({ camera: item.frame.camera });
            return [];
          }
        }),
      )
      .subscribe({
        next: (seg) => publish(seg),
        error: (err: unknown) => log.error({ err }, 'pipeline stopped'),
      }),
  );

  function publish({ seg, targets: assignments, reattached, ended }: TargetedFrame): void {
    const t0 = performance.now();
    const camera = seg.frame.camera;
    for (const r of reattached) server.broadcast({ type: 'target.reattached', camera, target: r.target, from: r.from, to: r.to });
    for (const e of ended) server.broadcast({ type: 'target.ended', camera, target: e.target, reason: e.reason });
    const message = frameMessage(seg, dropped.get(camera) ?? 0, Date.now(), assignments);
    server.publishFrame(seg.frame.camera, JSON.stringify(message));
    const publishMs = performance.now() - t0;
    const latencyMs = Date.now() - seg.frame.timestamp;
    metrics.framesProcessed.inc({ camera: seg.frame.camera });
    metrics.newestPublished.set(camera, seg.frame.timestamp);
    metrics.latency.observe({ camera: seg.frame.camera }, latencyMs / 1000);
    published.next({ message, timings: { ...seg.timings, publishMs }, latencyMs });
  }

  for (const s of sources) s.start();

  let closing: Promise<void> | undefined;
  return {
    address,
    sources,
    metrics,
    engine,
    published$: published.asObservable(),
    close: () =>
      (closing ??= (async () => {
        await Promise.all(sources.map((s) => s.stop()));
        for (const s of subs) s.unsubscribe();
        published.complete();
        await server.close();
        await engine.close();
        await clip?.close();
        log.info('stopped');
      })()),
  };
}

function cameraView(s: CameraSource): Record<string, unknown> {
  const st = s.status;
  return {
    id: s.camera,
    kind: s.spec.kind,
    url: s.displayUrl,
    state: st.state,
    ...(st.stream ? { width: st.stream.width, height: st.stream.height, fps: st.stream.fps } : {}),
    ...(st.error ? { error: st.error.toJSON() } : {}),
    framesRead: s.framesRead,
  };
}

function statusMessage(st: SourceStatus): Record<string, unknown> {
  return {
    type: 'status',
    camera: st.camera,
    state: st.state,
    restarts: st.restarts,
    ...(st.stream ? { width: st.stream.width, height: st.stream.height, fps: st.stream.fps } : {}),
    ...(st.error ? { error: st.error.toJSON() } : {}),
  };
}

/**
 * Readiness (`GET /readyz`): an inference worker is alive and every camera delivers, i.e. is
 * `streaming`, or `ended` (a file that played to its end as asked). Each camera that does
 * not is listed with its state and error, so a monitor can say why.
 */
function readiness(sources: readonly CameraSource[], workers: number): { ok: boolean; [k: string]: unknown } {
  const down = sources.filter((s) => s.status.state !== 'streaming' && s.status.state !== 'ended').map(cameraView);
  return { ok: workers > 0 && down.length === 0, workers, ...(down.length > 0 ? { down } : {}), cameras: sources.length };
}
