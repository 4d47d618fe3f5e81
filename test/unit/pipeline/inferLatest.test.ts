import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { computeLetterbox, SegstreamError, type Frame } from '../../../src/core/index.js';
import type { BatchOutput, WorkerImage } from '../../../src/pipeline/engine.js';
import { inferLatest, type BatchRunner, type InferredFrame } from '../../../src/pipeline/inferLatest.js';
import type { ImageResult } from '../../../src/pipeline/workerProtocol.js';

const lb = computeLetterbox(2, 2, 2, 2);
function frame(camera: string, seq: number): Frame {
  return { camera, seq, timestamp: seq, pts: seq, width: 2, height: 2, format: 'rgb24', data: new Uint8Array(12), letterbox: lb };
}

interface Call {
  images: Uint8Array[];
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * A BatchRunner driven by hand: `workers` slots, each run() takes one until the test
 * settles it. Records every call and the highest concurrency seen; run() without an
 * idle worker is recorded as a violation (the real engine rejects it).
 */
class HandRunner implements BatchRunner {
  idle: number;
  readonly calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  violations = 0;

  constructor(
    workers: number,
    readonly maxBatch: number,
  ) {
    this.idle = workers;
  }

  run(pictures: WorkerImage[]): Promise<BatchOutput> {
    const images = pictures.map((p) => p.data);
    if (this.idle <= 0) this.violations++;
    this.idle--;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<BatchOutput>((resolve, reject) => {
      const free = (): void => {
        this.idle++;
        this.inFlight--;
      };
      this.calls.push({
        images,
        resolve: () => {
          free();
          resolve({
            images: images.map((_, i): ImageResult => ({
              raw: { boxes: new Float32Array(0), scores: Float32Array.of(i), classIds: new Int32Array(0), coefficients: new Float32Array(0) },
              protos: new Float32Array(0),
            })),
            timings: { preprocessMs: 1, inferenceMs: 2, postprocessMs: 3 },
            // The worker hands back the buffers it was given (copies here, to tell them apart).
            inputs: images.map((im) => im.slice()),
          });
        },
        reject: (err) => {
          free();
          reject(err);
        },
      });
    });
  }
}

/** Lets promise callbacks (the operator's then handlers) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function harness(runner: HandRunner, maxWaitMs = 0) {
  const source = new Subject<Frame>();
  const forget = new Subject<string>();
  const out: InferredFrame[] = [];
  const drops: Frame[] = [];
  const slots: string[] = [];
  const errors: { frames: Frame[]; err: SegstreamError }[] = [];
  const batches: [number, number][] = [];
  let completed = false;
  const sub = source
    .pipe(
      inferLatest(runner, {
        onDrop: (f) => drops.push(f),
        onSlot: (camera, occupied) => slots.push(`${camera}:${occupied ? 'on' : 'off'}`),
        onError: (frames, err) => errors.push({ frames, err }),
        onBatch: (size, ms) => batches.push([size, ms]),
        forget$: forget,
        maxWaitMs,
      }),
    )
    .subscribe({ next: (r) => out.push(r), complete: () => (completed = true) });
  const byData = new Map<Uint8Array, Frame>();
  const push = (...frames: Frame[]): void => {
    for (const f of frames) {
      byData.set(f.data, f);
      source.next(f);
    }
  };
  /** The frames of call k, as camera#seq. */
  const batch = (k: number): string[] => runner.calls[k]!.images.map((im) => name(byData.get(im)!));
  return { source, forget, sub, out, drops, slots, errors, batches, push, batch, isCompleted: () => completed };
}
const name = (f: Frame): string => `${f.camera}#${f.seq}`;

describe('inferLatest', () => {
  it('forgets a removed camera: its waiting frame and its frames in a worker are dropped, and its seq may start over', async () => {
    const runner = new HandRunner(1, 1);
    const h = harness(runner);
    h.push(frame('a', 5), frame('b', 0), frame('a', 6));
    expect(h.batch(0)).toEqual(['a#5']);
    // a is removed while a#5 runs and a#6 waits; a camera of the same id comes back from seq 0.
    h.forget.next('a');
    h.push(frame('a', 0));
    runner.calls[0]!.resolve();
    await settle();
    expect(h.out.map((r) => name(r.frame))).toEqual([]);
    expect(h.batch(1)).toEqual(['b#0']);
    runner.calls[1]!.resolve();
    await settle();
    expect(h.batch(2)).toEqual(['a#0']);
    runner.calls[2]!.resolve();
    await settle();
    // The new camera's seq 0 is not "older" than the removed camera's 6; b was never touched.
    expect(h.out.map((r) => name(r.frame))).toEqual(['b#0', 'a#0']);
    expect(h.drops).toEqual([]);
  });

  it('never runs more batches at once than the runner has idle workers', async () => {
    const runner = new HandRunner(2, 1);
    const h = harness(runner);
    h.push(frame('a', 0), frame('b', 0), frame('c', 0), frame('d', 0), frame('e', 0));
    expect(runner.calls.length).toBe(2);
    runner.calls[0]!.resolve();
    await settle();
    expect(runner.calls.length).toBe(3);
    for (const c of runner.calls.slice(1)) c.resolve();
    await settle();
    runner.calls[3]!.resolve();
    runner.calls[4]!.resolve();
    await settle();
    expect(runner.calls.length).toBe(5);
    expect(runner.maxInFlight).toBe(2);
    expect(runner.violations).toBe(0);
    expect(h.out.map((r) => name(r.frame))).toEqual(['a#0', 'b#0', 'c#0', 'd#0', 'e#0']);
  });

  it('while busy keeps only the newest frame per camera and reports the replaced ones', async () => {
    const runner = new HandRunner(1, 4);
    const h = harness(runner);
    const a1 = frame('a', 1);
    const a2 = frame('a', 2);
    h.push(frame('a', 0), a1, frame('b', 0), a2, frame('a', 3));
    expect(h.drops).toEqual([a1, a2]);
    runner.calls[0]!.resolve();
    await settle();
    expect(h.batch(0)).toEqual(['a#0']);
    expect(h.batch(1)).toEqual(['a#3', 'b#0']);
    runner.calls[1]!.resolve();
    await settle();
    expect(h.out.map((r) => name(r.frame))).toEqual(['a#0', 'a#3', 'b#0']);
  });

  it('batches waiting frames of different cameras up to maxBatch, longest-waiting first', async () => {
    const runner = new HandRunner(1, 2);
    const h = harness(runner);
    h.push(frame('x', 0), frame('a', 0), frame('b', 0), frame('c', 0));
    runner.calls[0]!.resolve();
    await settle();
    runner.calls[1]!.resolve();
    await settle();
    expect([h.batch(0), h.batch(1), h.batch(2)]).toEqual([['x#0'], ['a#0', 'b#0'], ['c#0']]);
    expect(h.out.map((r) => r.timings.batchSize)).toEqual([1, 2, 2]);
    // onBatch: once per batch (size, session.run ms), not once per frame.
    expect(h.batches).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });

  it('emits each frame with its own image result, the returned buffer and the batch timings', async () => {
    const runner = new HandRunner(1, 2);
    const h = harness(runner);
    const a = frame('a', 0);
    h.push(a);
    runner.calls[0]!.resolve();
    await settle();
    const r = h.out[0]!;
    expect(r.frame.camera).toBe('a');
    expect(r.frame.data).not.toBe(a.data); // the buffer the worker handed back
    expect(r.frame.data.length).toBe(a.data.length);
    expect(r.image.raw.scores[0]).toBe(0);
    expect(r.timings).toMatchObject({ preprocessMs: 1, inferenceMs: 2, postprocessMs: 3, batchSize: 1 });
    expect(r.timings.queueMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a failed batch through onError and goes on with the next frames', async () => {
    const runner = new HandRunner(1, 4);
    const h = harness(runner);
    h.push(frame('a', 0));
    h.push(frame('a', 1), frame('b', 1));
    runner.calls[0]!.reject(new Error('worker died'));
    await settle();
    expect(h.errors.length).toBe(1);
    expect(h.errors[0]!.frames.map(name)).toEqual(['a#0']);
    expect(h.errors[0]!.err).toBeInstanceOf(SegstreamError);
    expect(h.errors[0]!.err.code).toBe('E_INFERENCE');
    expect(h.errors[0]!.err.message).toContain('worker died');
    expect(runner.calls.length).toBe(2);
    runner.calls[1]!.resolve();
    await settle();
    expect(h.out.map((r) => name(r.frame))).toEqual(['a#1', 'b#1']);
    expect(h.isCompleted()).toBe(false);
  });

  it('completes only after the batches in flight have resolved', async () => {
    const runner = new HandRunner(1, 1);
    const h = harness(runner);
    h.push(frame('a', 0), frame('b', 0));
    h.source.complete();
    await settle();
    expect(h.isCompleted()).toBe(false);
    runner.calls[0]!.resolve();
    await settle();
    expect(h.isCompleted()).toBe(false); // b#0 is now in flight
    runner.calls[1]!.resolve();
    await settle();
    expect(h.out.map((r) => name(r.frame))).toEqual(['a#0', 'b#0']);
    expect(h.isCompleted()).toBe(true);
  });

  it('completes after a failed last batch too', async () => {
    const runner = new HandRunner(1, 1);
    const h = harness(runner);
    h.push(frame('a', 0));
    h.source.complete();
    runner.calls[0]!.reject(new Error('boom'));
    await settle();
    expect(h.isCompleted()).toBe(true);
  });

  it('completes at once when the source ends with nothing in flight', () => {
    const h = harness(new HandRunner(1, 1));
    h.source.complete();
    expect(h.isCompleted()).toBe(true);
  });

  it('signals a camera slot occupied when a frame waits and free when it is taken', async () => {
    const runner = new HandRunner(1, 4);
    const h = harness(runner);
    h.push(frame('a', 0)); // idle worker: in and straight out
    h.push(frame('a', 1)); // waits
    h.push(frame('a', 2)); // replaces a#1: the slot stays occupied, no new signal
    h.push(frame('b', 0));
    expect(h.slots).toEqual(['a:on', 'a:off', 'a:on', 'b:on']);
    runner.calls[0]!.resolve();
    await settle();
    expect(h.slots).toEqual(['a:on', 'a:off', 'a:on', 'b:on', 'a:off', 'b:off']);
  });

  it('emits nothing for batches that finish after unsubscribe', async () => {
    const runner = new HandRunner(1, 1);
    const h = harness(runner);
    h.push(frame('a', 0));
    h.sub.unsubscribe();
    runner.calls[0]!.resolve();
    await settle();
    expect(h.out).toEqual([]);
    expect(runner.calls.length).toBe(1);
  });

  it('after a failed batch, waiting frames run once a worker is back, without a new frame arriving', async () => {
    const runner = new HandRunner(1, 1);
    const h = harness(runner);
    h.push(frame('a', 0));
    h.push(frame('a', 1)); // waits: the only worker is busy
    // The worker dies and its replacement is not up yet: no idle worker for a while.
    runner.calls[0]!.reject(new Error('worker died'));
    runner.idle = 0;
    await settle();
    expect(runner.calls).toHaveLength(1);
    runner.idle = 1; // the replacement worker is ready; no frame arrives to trigger pump()
    await new Promise((r) => setTimeout(r, 120));
    expect(runner.calls).toHaveLength(2);
    expect(h.batch(1)).toEqual(['a#1']);
    h.sub.unsubscribe();
  });
});

describe('inferLatest with several workers', () => {
  it("holds a camera's newer result until its older frame is back, so results go forward in order and none is lost", async () => {
    const runner = new HandRunner(3, 1);
    const h = harness(runner);
    h.push(frame('a', 0)); // worker 1
    h.push(frame('a', 1)); // worker 2
    h.push(frame('b', 0)); // worker 3
    expect(runner.calls).toHaveLength(3);
    runner.calls[1]!.resolve(); // a#1 finishes first: held behind a#0
    runner.calls[2]!.resolve(); // b is not held back by a
    await settle();
    expect(h.out.map((r) => name(r.frame))).toEqual(['b#0']);
    runner.calls[0]!.resolve(); // a#0 back: both go out, in order
    await settle();
    expect(h.out.map((r) => name(r.frame))).toEqual(['b#0', 'a#0', 'a#1']);
    expect(h.drops).toEqual([]);
    h.sub.unsubscribe();
  });

  it("lets a held result go when the older frame's batch fails", async () => {
    const runner = new HandRunner(2, 1);
    const h = harness(runner);
    h.push(frame('a', 0), frame('a', 1));
    runner.calls[1]!.resolve();
    await settle();
    expect(h.out).toEqual([]);
    runner.calls[0]!.reject(new SegstreamError('E_INFERENCE', 'worker died'));
    await settle();
    expect(h.out.map((r) => name(r.frame))).toEqual(['a#1']);
    expect(h.errors.map((e) => e.frames.map(name))).toEqual([['a#0']]);
    h.sub.unsubscribe();
  });

  describe('maxWaitMs: a free worker waits briefly for the other active cameras', () => {
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

    it('waits for the frames of cameras seen recently, and runs at once when all are there', async () => {
      const runner = new HandRunner(1, 8);
      const h = harness(runner, 1000);
      // First frames of a and b: nobody seen before a, so a runs alone at once.
      h.push(frame('a', 0));
      expect(h.batch(0)).toEqual(['a#0']);
      h.push(frame('b', 0));
      runner.calls[0]!.resolve();
      await settle();
      // b waits in the scheduler; the worker is free and a (seen, not busy) may send a frame.
      expect(runner.calls.length).toBe(1);
      h.push(frame('a', 1));
      // Both active cameras have a frame waiting: no more waiting.
      expect(h.batch(1)).toEqual(['b#0', 'a#1']);
      runner.calls[1]!.resolve();
      await settle();
      h.sub.unsubscribe();
    });

    it('runs what is there once the wait is over', async () => {
      const runner = new HandRunner(1, 8);
      const h = harness(runner, 30);
      h.push(frame('a', 0));
      h.push(frame('b', 0));
      runner.calls[0]!.resolve();
      await settle();
      // b#0 and ... a is free and active: b waits for it, but not longer than 30 ms.
      expect(runner.calls.length).toBe(1);
      await sleep(60);
      expect(h.batch(1)).toEqual(['b#0']);
      runner.calls[1]!.resolve();
      await settle();
      h.sub.unsubscribe();
    });

    it('does not wait for a camera whose frame is in inference, nor once maxBatch frames are there', async () => {
      const runner = new HandRunner(2, 2);
      const h = harness(runner, 1000);
      h.push(frame('a', 0), frame('b', 0), frame('c', 0));
      // a and b each ran at once (every camera seen was busy or had its frame there); c waits
      // for a worker.
      expect(h.batch(0)).toEqual(['a#0']);
      expect(h.batch(1)).toEqual(['b#0']);
      runner.calls[0]!.resolve();
      await settle();
      // A worker is free: c waits for a (free now), not for b (still in inference).
      expect(runner.calls.length).toBe(2);
      h.push(frame('a', 1));
      expect(h.batch(2)).toEqual(['c#0', 'a#1']);
      runner.calls[1]!.resolve();
      await settle();
      // maxBatch 2 reached at once: d and b run without waiting for a and c.
      h.push(frame('d', 0), frame('b', 1));
      expect(h.batch(3)).toEqual(['d#0', 'b#1']);
      for (const c of runner.calls.slice(2)) c.resolve();
      await settle();
      h.sub.unsubscribe();
    });
  });
});
