import { performance } from 'node:perf_hooks';
import { Observable, type OperatorFunction } from 'rxjs';
import { SegstreamError, toSegstreamError, type Frame } from '../core/index.js';
import type { BatchTimings, ImageResult } from './workerProtocol.js';
import type { BatchOutput } from './engine.js';
import { LatestFrameScheduler } from './scheduler.js';

/** The slice of InferenceEngine this operator needs. */
export interface BatchRunner {
  readonly idle: number;
  readonly maxBatch: number;
  run(images: Uint8Array[]): Promise<BatchOutput>;
}

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
      // With several workers a camera's newer frame can finish first; an older one that
      // finishes later is dropped so each camera's results keep going forward (the tracker
      // and clients rely on it).
      const lastSeq = new Map<string, number>();
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

      const maybeComplete = (): void => {
        if (sourceDone && inFlight === 0 && scheduler.size === 0) subscriber.complete();
      };

      const pump = (): void => {
        while (!closed && runner.idle > 0 && scheduler.size > 0) {
          const frames = scheduler.take(runner.maxBatch);
          const sentAt = forgets;
          sentAts.push(sentAt);
          const start = performance.now();
          for (const f of frames) hooks.onSlot?.(f.camera, false);
          inFlight++;
          runner.run(frames.map((f) => f.data)).then(
            (out) => {
              inFlight--;
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
                if (f.seq <= (lastSeq.get(f.camera) ?? -1)) {
                  hooks.onDrop?.(f);
                  return;
                }
                lastSeq.set(f.camera, f.seq);
                subscriber.next({
                  frame: { ...f, data: out.inputs[i] ?? f.data },
                  image,
                  timings: { ...out.timings, queueMs, batchSize: frames.length },
                });
              });
              settled(sentAt);
              maybeComplete();
            },
            (err: unknown) => {
              inFlight--;
              settled(sentAt);
              for (const f of frames) queuedAt.delete(f);
              if (closed) return;
              hooks.onError?.(frames, toSegstreamError(err, 'E_INFERENCE'));
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
        if (sentAts.length > 0) forgottenAt.set(camera, ++forgets);
        maybeComplete();
      });
      const sub = source.subscribe({
        next: (frame) => {
          queuedAt.set(frame, performance.now());
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
        sub.unsubscribe();
        forgetSub?.unsubscribe();
      };
    });
}
