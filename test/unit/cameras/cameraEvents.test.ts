import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TargetedFrame } from '../../../src/cameraTargets.js';
import { CameraEvents } from '../../../src/cameras/cameraEvents.js';
import { parseConfig, type EventsConfig, type ZoneEntry } from '../../../src/config/index.js';
import { computeLetterbox, Detections, type Frame } from '../../../src/core/index.js';
import type { EventRecorder, HealthTransition, Transition, TransitionContext } from '../../../src/events/index.js';

const CLASSES = ['person', 'bicycle', 'car'];
/** Wall clock of media time 0, ms. */
const T0 = 1_700_000_000_000;
const FPS = 10;

const square = (x0: number, y0: number, x1: number, y1: number): ZoneEntry['polygon'] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];
const road: ZoneEntry = { name: 'road', polygon: square(10, 10, 90, 90), rules: [{ kind: 'presence', seconds: 1 }] };
const shoulder: ZoneEntry = { name: 'shoulder', polygon: square(0, 0, 50, 50), rules: [{ kind: 'presence', seconds: 1 }] };

function config(): EventsConfig {
  const events = parseConfig({}).events;
  return { ...events, health: { ...events.health, enabled: false } };
}

interface Call {
  what: 'rule' | 'health';
  camera: string;
  t: Transition | HealthTransition;
  ctx: TransitionContext;
  /** Media time of the last frame fed when it came, s. */
  at: number;
}

/** Records what CameraEvents hands the recorder (the only two methods it calls). */
function fakeRecorder(clock: { now: number }): { recorder: EventRecorder; calls: Call[] } {
  const calls: Call[] = [];
  const recorder = {
    rule: (camera: string, t: Transition, ctx: TransitionContext) => void calls.push({ what: 'rule', camera, t, ctx, at: clock.now }),
    health: (camera: string, t: HealthTransition, ctx: TransitionContext) => void calls.push({ what: 'health', camera, t, ctx, at: clock.now }),
    forget: () => undefined,
  };
  return { recorder: recorder as unknown as EventRecorder, calls };
}

/** Frame `i` at 10 fps (source srcW x srcH, a 100 x 100 frame), with a car at box `box` of track `track` (none: null). */
function targeted(i: number, box: [number, number, number, number] | null, o: { track?: number; classId?: number; src?: number } = {}): TargetedFrame {
  const src = o.src ?? 100;
  const pts = (i * 1000) / FPS;
  const data = new Uint8Array(100 * 100 * 3).fill(90);
  const frame: Frame = { camera: 'cam', seq: i, timestamp: T0 + pts, pts, width: 100, height: 100, format: 'rgb24', data, letterbox: computeLetterbox(src, src, 64, 64, 100, 100) };
  const detections =
    box === null
      ? Detections.empty()
      : new Detections({
          boxes: Float32Array.from(box),
          scores: Float32Array.of(0.9),
          classIds: Int32Array.of(o.classId ?? 2),
          trackIds: Int32Array.of(o.track ?? 7),
          masks: [{ x: box[0], y: box[1], width: box[2] - box[0], height: box[3] - box[1], data: new Uint8Array((box[2] - box[0]) * (box[3] - box[1])).fill(1) }],
        });
  return { seg: { frame, detections, classNames: CLASSES, timings: { queueMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, masksMs: 0, batchSize: 1 } }, targets: new Map(), reattached: [], ended: [] };
}

function rig(zones: readonly ZoneEntry[] = [road], cfg: EventsConfig = config()) {
  const clock = { now: 0 };
  const { recorder, calls } = fakeRecorder(clock);
  const events = new CameraEvents('cam', zones, { recorder, config: cfg, classNames: CLASSES });
  /** Feeds frames from..to-1 (10 fps) with what `at(i)` gives. */
  const feed = (from: number, to: number, at: (i: number) => TargetedFrame): void => {
    for (let i = from; i < to; i++) {
      clock.now = i / FPS;
      events.onFrame(at(i));
    }
  };
  return { events, calls, feed };
}

const car: [number, number, number, number] = [30, 30, 60, 60];
const summary = (calls: readonly Call[]): string[] => calls.map((c) => `${c.what} ${c.t.state} ${'zone' in c.t ? c.t.zone : c.t.kind}`);

describe('CameraEvents', () => {
  it('a tracked car in a zone with a 1 s presence rule starts an event at about 1 s, dated by the frame clocks', () => {
    const { calls, feed } = rig();
    feed(0, 9, (i) => targeted(i, car));
    expect(calls).toEqual([]);
    feed(9, 15, (i) => targeted(i, car));
    expect(summary(calls)).toEqual(['rule start road']);
    const start = calls[0]!;
    expect(start.camera).toBe('cam');
    expect(start.at).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(start.at).toBeLessThanOrEqual(1.1 + 1e-9);
    const t = start.t as Transition;
    expect(t.tracks).toEqual([7]);
    expect(t.labels).toEqual(['car']);
    expect(t.startS).toBe(0);
    // Media seconds -> the wall clock of the frames (timestamp T0 + pts).
    expect(start.ctx.wallOf(0)).toBe(T0);
    expect(start.ctx.wallOf(1.25)).toBe(T0 + 1250);
    expect(typeof start.ctx.snapshot).toBe('function');
  });

  it("the start's snapshot resolves to a JPEG at the source size, the zone drawn on it", async () => {
    // Source 200 x 200 capped to a 100 x 100 frame: zone and car in source px.
    const zone: ZoneEntry = { ...road, polygon: square(20, 20, 180, 180) };
    const { calls, feed } = rig([zone]);
    feed(0, 12, (i) => targeted(i, [60, 60, 120, 120], { src: 200 }));
    const jpeg = await calls[0]!.ctx.snapshot!();
    expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 200, 200]);
    const { data } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number): number[] => [...data.subarray((y * 200 + x) * 3, (y * 200 + x) * 3 + 3)];
    // The zone's top edge (source y 20) in its yellow; far from everything, the grey picture.
    const edge = at(100, 20);
    expect(edge[0]).toBeGreaterThan(200);
    expect(edge[1]).toBeGreaterThan(160);
    expect(edge[2]).toBeLessThan(80);
    for (const v of at(100, 195)) expect(Math.abs(v - 90)).toBeLessThan(10);
    // Inside the car's mask: tinted red.
    const inside = at(90, 90);
    expect(inside[0]! - inside[2]!).toBeGreaterThan(50);
  });

  it('untracked objects (track -1) take no part in rules', () => {
    const { calls, feed, events } = rig();
    feed(0, 30, (i) => targeted(i, car, { track: -1 }));
    expect(calls).toEqual([]);
    expect(events.outlines()[0]!.active).toBe(false);
  });

  it('an object outside every zone starts nothing', () => {
    const { calls, feed } = rig([{ ...road, polygon: square(70, 70, 95, 95) }]);
    feed(0, 30, (i) => targeted(i, [5, 5, 30, 30]));
    expect(calls).toEqual([]);
  });

  it('new zones end the open events of the old ones; the same zones again change nothing', () => {
    const { calls, feed, events } = rig();
    feed(0, 12, (i) => targeted(i, car));
    expect(summary(calls)).toEqual(['rule start road']);
    events.setZones([{ ...road, polygon: square(10, 10, 90, 90), rules: [{ kind: 'presence', seconds: 1 }] }]);
    expect(summary(calls)).toEqual(['rule start road']);
    events.setZones([shoulder]);
    expect(summary(calls)).toEqual(['rule start road', 'rule end road']);
    const end = calls[1]!.t as Transition;
    expect(end.key).toBe((calls[0]!.t as Transition).key);
    // Ended at the last time it held (the last frame, 1.1 s), dated by that frame's clocks.
    expect(end.endS).toBeCloseTo(1.1, 9);
    expect(calls[1]!.ctx.wallOf(end.endS!)).toBeCloseTo(T0 + 1100, 6);
    expect(events.zones).toEqual([shoulder]);
    expect(events.outlines()).toEqual([{ name: 'shoulder', polygon: shoulder.polygon, active: false }]);
    // The new zone starts afresh: its own wait of 1 s from the next frame.
    feed(12, 21, (i) => targeted(i, car));
    expect(calls).toHaveLength(2);
    feed(21, 24, (i) => targeted(i, car));
    expect(summary(calls)).toEqual(['rule start road', 'rule end road', 'rule start shoulder']);
  });

  it('endOpen() ends the open events; later frames start afresh', () => {
    const { calls, feed, events } = rig();
    feed(0, 12, (i) => targeted(i, car));
    events.endOpen();
    expect(summary(calls)).toEqual(['rule start road', 'rule end road']);
    expect(events.outlines()[0]!.active).toBe(false);
    feed(12, 21, (i) => targeted(i, car));
    expect(calls).toHaveLength(2);
    feed(21, 24, (i) => targeted(i, car));
    expect(summary(calls)).toEqual(['rule start road', 'rule end road', 'rule start road']);
    expect((calls[2]!.t as Transition).startS).toBeCloseTo(1.2, 9);
  });

  it('close() ends the open events once; a second close() and later frames do nothing', () => {
    const { calls, feed, events } = rig();
    feed(0, 12, (i) => targeted(i, car));
    events.close();
    expect(summary(calls)).toEqual(['rule start road', 'rule end road']);
    expect(() => events.close()).not.toThrow();
    events.endOpen();
    feed(12, 40, (i) => targeted(i, car));
    events.tick();
    expect(calls).toHaveLength(2);
  });

  it('outlines() marks a zone active while its event is open, and only that zone', () => {
    const far: ZoneEntry = { name: 'far', polygon: square(70, 0, 100, 20), rules: [{ kind: 'presence', seconds: 1 }] };
    const { feed, events, calls } = rig([road, far]);
    const active = (): Record<string, boolean> => Object.fromEntries(events.outlines().map((z) => [z.name, z.active]));
    feed(0, 5, (i) => targeted(i, car));
    expect(active()).toEqual({ road: false, far: false });
    feed(5, 12, (i) => targeted(i, car));
    expect(active()).toEqual({ road: true, far: false });
    expect(events.outlines()[0]!.polygon).toEqual(road.polygon);
    // The car leaves; the event ends once it was gone endSeconds (2 s by default).
    feed(12, 40, (i) => targeted(i, null));
    expect(summary(calls)).toEqual(['rule start road', 'rule end road']);
    expect(active()).toEqual({ road: false, far: false });
  });

  it("with privacy on, a bystander person's mask is pixelated in the start's snapshot", async () => {
    const cfg = config();
    const { calls, events } = rig([road], { ...cfg, privacy: { enabled: true, classes: ['person'] } });
    // A checkerboard picture; the car in the zone, a person outside it at 0..10 x 0..10.
    const frameAt = (i: number): TargetedFrame => {
      const tf = targeted(i, null);
      const data = tf.seg.frame.data;
      for (let y = 0; y < 100; y++) for (let x = 0; x < 100; x++) data.fill((x + y) & 1 ? 255 : 0, (y * 100 + x) * 3, (y * 100 + x) * 3 + 3);
      const full = (b: number[]) => ({ x: b[0]!, y: b[1]!, width: b[2]! - b[0]!, height: b[3]! - b[1]!, data: new Uint8Array((b[2]! - b[0]!) * (b[3]! - b[1]!)).fill(1) });
      const detections = new Detections({
        boxes: Float32Array.of(...car, 0, 0, 10, 10),
        scores: Float32Array.of(0.9, 0.9),
        classIds: Int32Array.of(2, 0),
        trackIds: Int32Array.of(7, 8),
        masks: [full(car), full([0, 0, 10, 10])],
      });
      return { ...tf, seg: { ...tf.seg, detections } };
    };
    for (let i = 0; i < 12; i++) events.onFrame(frameAt(i));
    expect(summary(calls)).toEqual(['rule start road']);
    expect((calls[0]!.t as Transition).tracks).toEqual([7]);
    const { data } = await sharp(await calls[0]!.ctx.snapshot!()).greyscale().raw().toBuffer({ resolveWithObject: true });
    const grey = (x: number, y: number): number => data[y * 100 + x]!;
    // Under the person (one 10 px block): no checkerboard left, one grey (JPEG noise aside).
    const under: number[] = [];
    for (let y = 2; y < 8; y++) for (let x = 2; x < 8; x++) under.push(grey(x, y));
    expect(Math.max(...under) - Math.min(...under)).toBeLessThan(40);
    // Away from everything, the checkerboard's contrast survives the JPEG.
    const away: number[] = [];
    for (let y = 92; y < 98; y++) for (let x = 92; x < 98; x++) away.push(grey(x, y));
    expect(Math.max(...away) - Math.min(...away)).toBeGreaterThan(100);
  });

  it('with privacy on, the hidden classes are known and a person under them does not stop the rules', () => {
    const cfg = config();
    const { calls, feed, events } = rig([road], { ...cfg, privacy: { enabled: true, classes: ['person'] } });
    expect(events.hiddenClasses).toEqual(new Set(['person']));
    feed(0, 12, (i) => targeted(i, car, { classId: 0 }));
    expect(summary(calls)).toEqual(['rule start road']);
    expect((calls[0]!.t as Transition).labels).toEqual(['person']);
    expect(rig().events.hiddenClasses).toBeNull();
  });
});

describe('CameraEvents health', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("video_lost starts when frames stop and ends at the next frame, its times on the camera's media clock", () => {
    // The monotonic clock, ms: 1000 s plus 100 ms a frame (the media clock runs alongside from 0).
    let monoMs = 1_000_000;
    vi.spyOn(performance, 'now').mockImplementation(() => monoMs);
    const clock = { now: 0 };
    const { recorder, calls } = fakeRecorder(clock);
    const events = new CameraEvents('cam', [], { recorder, config: parseConfig({}).events, classNames: CLASSES });
    for (let i = 0; i < 20; i++) {
      monoMs = 1_000_000 + i * 100;
      events.onFrame(targeted(i, null));
    }
    // Less than a second without frames: nothing checked yet.
    monoMs += 900;
    events.tick();
    expect(calls).toEqual([]);
    // 6 s without frames (videoLostS 5).
    monoMs = 1_001_900 + 6000;
    const wallBefore = Date.now();
    events.tick();
    const wallAfter = Date.now();
    expect(summary(calls)).toEqual(['health start video_lost']);
    const start = calls[0]!;
    // Health samples twice a second: the last one was frame 15 (media 1.5 s), where the loss counts from.
    expect(start.t.startS).toBeCloseTo(1.5, 9);
    expect(start.ctx.snapshot).toBeUndefined();
    // Media now is 1.9 + 6 = 7.9 s, at the wall clock of the tick.
    const wall = start.ctx.wallOf(start.t.startS);
    expect(wall).toBeGreaterThanOrEqual(wallBefore - 6400 - 1);
    expect(wall).toBeLessThanOrEqual(wallAfter - 6400 + 1);
    // A frame again (media 2.0 s): the loss ends there.
    monoMs += 1000;
    events.onFrame(targeted(20, null));
    expect(summary(calls)).toEqual(['health start video_lost', 'health end video_lost']);
    expect(calls[1]!.t.endS).toBeCloseTo(2, 9);
  });

  it('close() ends an open health event, once', () => {
    let monoMs = 1_000_000;
    vi.spyOn(performance, 'now').mockImplementation(() => monoMs);
    const clock = { now: 0 };
    const { recorder, calls } = fakeRecorder(clock);
    const events = new CameraEvents('cam', [], { recorder, config: parseConfig({}).events, classNames: CLASSES });
    events.onFrame(targeted(0, null));
    monoMs += 6000;
    events.tick();
    expect(summary(calls)).toEqual(['health start video_lost']);
    events.close();
    events.close();
    expect(summary(calls)).toEqual(['health start video_lost', 'health end video_lost']);
  });
});

describe('CameraEvents: rule classes the model does not have', () => {
  it('warns once per zone change, naming the rule and the unknown classes (a typo never matches)', () => {
    const warn = vi.fn();
    const log = { warn, info: vi.fn(), error: vi.fn(), debug: vi.fn() } as unknown as NonNullable<ConstructorParameters<typeof CameraEvents>[2]['log']>;
    const zones: ZoneEntry[] = [{ name: 'road', polygon: [[0, 0], [100, 0], [100, 100]], rules: [{ kind: 'presence', classes: ['car', 'Car', 'lorry'], seconds: 1 }, { kind: 'unknown', expected: ['person'], seconds: 1 }] }];
    const events = new CameraEvents('cam', zones, { recorder: { rule: vi.fn(), health: vi.fn(), forget: vi.fn() } as unknown as EventRecorder, config: parseConfig({}).events, classNames: CLASSES, log });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatchObject({ zone: 'road', field: 'zones[0].rules[0]', unknown: ['Car', 'lorry'] });
    events.setZones([{ ...zones[0]!, rules: [{ kind: 'presence', classes: ['person'], seconds: 1 }] }]);
    expect(warn).toHaveBeenCalledTimes(1);
    events.close();
  });
});
