import { performance } from 'node:perf_hooks';
import { Observable, type OperatorFunction } from 'rxjs';
import { SegstreamError, toSegstreamError, type Frame } from '../core/index.js';
import type { BatchTimings, ImageResult, WorkerImage } from './workerProtocol.js';
import type { BatchOutput } from './engine.js';
import { LatestFrameScheduler } from './scheduler.js';

/** The slice of InferenceEngine this operator needs. */
export interface BatchRunner {
  readonly idle: number;
  readonly maxBatch: number;
  run(images: WorkerImage[]): Promise<BatchOutput>;
}

/** How long a camera counts as active after its newest frame, for batch waiting, ms. */
const ACTIVE_MS = 2000;

/** How often waiting frames look for a worker again after a failed batch, ms. */
const RETRY_MS = 50;

export interface InferredFrame {
  frame: Frame;
  image: ImageResult;
  timings: BatchTimings & { queueMs: number; batchSize: number };
}

export interface InferLatestHooks {
  /** A waiting frame was replaced by a newer one of the same camera. */
  onDrop?: (dropped: Frame) => void;
  /** A camera's slot became occupied (true) or free (false): backpressure for files. */
  onSlot?: (camera: string, occupied: boolean) => void;
  /** Inference failed for these frames; the stream goes on. */
  onError?: (frames: Frame[], err: SegstreamError) => void;
  /** A batch came back from its worker: its size and session.run time, once per batch. */
  onBatch?: (size: number, inferenceMs: number) => void;
  /**
   * Camera ids that stopped (removed or replaced): each one's waiting frame and frames still in
   * a worker are dropped without a hook, and its frame order starts over (a camera added again
   * under that id counts `seq` from 0).
   */
  forget$?: Observable<string>;
  /**
   * A free worker waits up to this long for frames of other active cameras (those that sent a
   * frame in the last 2 s and have none in inference) before it runs a smaller batch; it never
   * waits once `maxBatch` frames or every such camera's frame is there. 0: never waits, ms.
   */
  maxWaitMs?: number;
}

/**
 * Frames in, inference results out, never more than the runner's idle workers in flight.
 * While every worker is busy each camera keeps only its newest frame (latest wins);
 * when a worker frees up it takes a batch of waiting frames from different cameras.
 */
export function inferLatest(runner: BatchRunner, hooks: InferLatestHooks = {}): OperatorFunction<Frame, InferredFrame> {
  return (source) =>
    new Observable<InferredFrame>((subscriber) => {
      const scheduler = new LatestFrameScheduler();
      const queuedAt = new Map<Frame, number>();
      // With several workers a camera's newer frame can finish first: its result is held until
      // the older frames of that camera in inference are back (at most `workers` results), so
      // each camera's results go forward in order (the tracker and clients rely on it) and a
      // file read as fast as possible loses nothing. lastSeq is the guard behind it.
      const lastSeq = new Map<string, number>();
      /** Per camera, its frames now in inference; and the results held behind older ones. */
      const running = new Map<string, Set<Frame>>();
      const held = new Map<string, InferredFrame[]>();
      const emit = (item: InferredFrame): void => {
        const f = item.frame;
        if (f.seq <= (lastSeq.get(f.camera) ?? -1)) {
          hooks.onDrop?.(f);
          return;
        }
        lastSeq.set(f.camera, f.seq);
        subscriber.next(item);
      };
      /** The oldest seq of `camera` still in inference, or Infinity. */
      const oldestRunning = (camera: string): number => {
        let min = Infinity;
        for (const f of running.get(camera) ?? []) if (f.seq < min) min = f.seq;
        return min;
      };
      /** Emits `camera`'s held results that no older frame in inference holds back any more. */
      const flush = (camera: string): void => {
        const queue = held.get(camera);
        if (!queue) return;
        const oldest = oldestRunning(camera);
        while (queue.length > 0 && queue[0]!.frame.seq < oldest) emit(queue.shift()!);
        if (queue.length === 0) held.delete(camera);
      };
      const finished = (frames: readonly Frame[]): void => {
        for (const f of frames) {
          const set = running.get(f.camera);
          set?.delete(f);
          if (set?.size === 0) running.delete(f.camera);
        }
      };
      // Forgotten cameras, by the count of forgets then: a result of a frame sent before its
      // camera was forgotten is dropped. An entry goes once no batch in flight was sent before
      // it, so this holds at most the cameras removed while some batch ran.
      const forgottenAt = new Map<string, number>();
      const sentAts: number[] = [];
      let forgets = 0;
      const settled = (sentAt: number): void => {
        sentAts.splice(sentAts.indexOf(sentAt), 1);
        const oldest = Math.min(...sentAts);
        for (const [camera, at] of forgottenAt) if (at <= oldest) forgottenAt.delete(camera);
      };
      let inFlight = 0;
      let sourceDone = false;
      let closed = false;
      const maxWaitMs = hooks.maxWaitMs ?? 0;
      /** Newest frame time per camera (performance.now()), for who may still send one. */
      const lastSeen = new Map<string, number>();
      let waitTimer: NodeJS.Timeout | undefined;
      let waitOver = false;
      /** Whether a free worker should wait for more cameras' frames before it runs. */
      const shouldWait = (): boolean => {
        if (maxWaitMs <= 0 || waitOver || sourceDone || scheduler.size >= runner.maxBatch) return false;
        const now = performance.now();
        let expected = 0;
        for (const [camera, at] of lastSeen) {
          if (now - at > ACTIVE_MS) lastSeen.delete(camera);
          else if (!running.get(camera)?.size) expected++;
        }
        return scheduler.size < Math.min(expected, runner.maxBatch);
      };

      const maybeComplete = (): void => {
        if (sourceDone && inFlight === 0 && scheduler.size === 0 && held.size === 0) subscriber.complete();
      };

      const pump = (): void => {
        while (!closed && runner.idle > 0 && scheduler.size > 0) {
          if (shouldWait()) {
            waitTimer ??= setTimeout(() => {
              waitTimer = undefined;
              waitOver = true;
              pump();
            }, maxWaitMs);
            return;
          }
          clearTimeout(waitTimer);
          waitTimer = undefined;
          waitOver = false;
          const frames = scheduler.take(runner.maxBatch);
          for (const f of frames) {
            const set = running.get(f.camera) ?? new Set<Frame>();
            set.add(f);
            running.set(f.camera, set);
          }
          const sentAt = forgets;
          sentAts.push(sentAt);
          const start = performance.now();
          for (const f of frames) hooks.onSlot?.(f.camera, false);
          inFlight++;
          runner.run(frames.map((f) => ({ data: f.data, letterbox: f.letterbox }))).then(
            (out) => {
              inFlight--;
              finished(frames);
              if (closed) return;
              // Refill the worker before the results are processed downstream, so it never
              // idles while the main thread assembles masks and publishes.
              pump();
              hooks.onBatch?.(frames.length, out.timings.inferenceMs);
              const missing = frames.filter((_, i) => !out.images[i]);
              if (missing.length > 0) {
                hooks.onError?.(missing, new SegstreamError('E_INFERENCE', `inference returned ${out.images.length} results for ${frames.length} frames`));
              }
              frames.forEach((f, i) => {
                const queueMs = start - (queuedAt.get(f) ?? start);
                queuedAt.delete(f);
                const image = out.images[i];
                if (!image || (forgottenAt.get(f.camera) ?? -1) > sentAt) return;
                const item: InferredFrame = { frame: { ...f, data: out.inputs[i] ?? f.data }, image, timings: { ...out.timings, queueMs, batchSize: frames.length } };
                if (oldestRunning(f.camera) < f.seq) {
                  const queue = held.get(f.camera) ?? [];
                  queue.push(item);
                  queue.sort((a, b) => a.frame.seq - b.frame.seq);
                  held.set(f.camera, queue);
                } else emit(item);
              });
              for (const camera of new Set(frames.map((f) => f.camera))) flush(camera);
              settled(sentAt);
              maybeComplete();
            },
            (err: unknown) => {
              inFlight--;
              finished(frames);
              settled(sentAt);
              for (const f of frames) queuedAt.delete(f);
              if (closed) return;
              hooks.onError?.(frames, toSegstreamError(err, 'E_INFERENCE'));
              for (const camera of new Set(frames.map((f) => f.camera))) flush(camera);
              pump();
              retryUntilIdle();
              maybeComplete();
            },
          );
        }
      };

      // A failed batch may mean a dead worker that is being replaced: until it is back no
      // worker is idle, and a paused file source sends no frame that would call pump().
      let retry: NodeJS.Timeout | undefined;
      const retryUntilIdle = (): void => {
        if (closed || retry || scheduler.size === 0 || runner.idle > 0) return;
        retry = setTimeout(() => {
          retry = undefined;
          pump();
          retryUntilIdle();
        }, RETRY_MS);
      };

      const forgetSub = hooks.forget$?.subscribe((camera) => {
        const waiting = scheduler.remove(camera);
        if (waiting) queuedAt.delete(waiting);
        lastSeq.delete(camera);
        lastSeen.delete(camera);
        running.delete(camera);
        held.delete(camera);
        if (sentAts.length > 0) forgottenAt.set(camera, ++forgets);
        maybeComplete();
      });
      const sub = source.subscribe({
        next: (frame) => {
          const now = performance.now();
          queuedAt.set(frame, now);
          lastSeen.set(frame.camera, now);
          const dropped = scheduler.offer(frame);
          if (dropped) {
            queuedAt.delete(dropped);
            hooks.onDrop?.(dropped);
          } else hooks.onSlot?.(frame.camera, true);
          pump();
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          maybeComplete();
        },
      });
      return () => {
        closed = true;
        clearTimeout(retry);
        clearTimeout(waitTimer);
        sub.unsubscribe();
        forgetSub?.unsubscribe();
      };
    });
}
