import { describe, expect, it } from 'vitest';
import type { TargetedFrame } from '../../../src/cameraTargets.js';
import { computeLetterbox, Detections, type Frame, type MaskCrop } from '../../../src/core/index.js';
import type { SegmentedFrame } from '../../../src/pipeline/index.js';
import { liveTrackerOptions } from '../../../bench/evalPrompt/liveOptions.js';
import { centreDistance, promptMetrics, summarise, type PromptMetrics } from '../../../bench/evalPrompt/metrics.js';
import { choosePromptFrame, placePrompts, vehicleCandidates, type Box, type Candidate } from '../../../bench/evalPrompt/placement.js';
import { observeTarget, replayPrompt, type Observation, type Replay } from '../../../bench/evalPrompt/replay.js';
import { buildTimeline, meanInterval, pictureOf, replaySchedule } from '../../../bench/evalPrompt/schedule.js';
import { clipTable, markdownTable, presenceLabel } from '../../../bench/evalPrompt/table.js';

const CLASSES = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck'];
const lb = computeLetterbox(640, 480, 320, 320);

interface Car {
  box: Box;
  score: number;
  classId?: number;
}

/** One frame of solid-mask objects (class car unless given). */
function frameOf(seq: number, pts: number, cars: readonly Car[]): SegmentedFrame {
  const masks: MaskCrop[] = cars.map(({ box: [x1, y1, x2, y2] }) => ({ x: x1, y: y1, width: x2 - x1, height: y2 - y1, data: new Uint8Array((x2 - x1) * (y2 - y1)).fill(1) }));
  const frame: Frame = { camera: 'eval', seq, timestamp: 0, pts, width: 320, height: 320, format: 'rgb24', data: new Uint8Array(0), letterbox: lb };
  const detections = new Detections({
    boxes: Float32Array.from(cars.flatMap((c) => c.box)),
    scores: Float32Array.from(cars.map((c) => c.score)),
    classIds: Int32Array.from(cars.map((c) => c.classId ?? 2)),
    masks,
  });
  return { frame, detections, classNames: CLASSES, timings: { queueMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, masksMs: 0, batchSize: 1 } };
}

const cand = (index: number, area: number, score: number): Candidate => ({ index, box: [0, 0, area, 1], score, className: 'car', area });

describe('prompt placement', () => {
  it('vehicleCandidates keeps vehicle classes only, with box areas in px²', () => {
    const f = frameOf(0, 0, [
      { box: [0, 0, 10, 20], score: 0.9, classId: 0 }, // person
      { box: [100, 100, 140, 130], score: 0.8 }, // car
      { box: [200, 50, 260, 100], score: 0.4, classId: 7 }, // truck
      { box: [300, 50, 310, 60], score: 0.5, classId: 4 }, // airplane
    ]);
    const c = vehicleCandidates(f.detections, CLASSES);
    expect(c.map((x) => [x.index, x.className, x.area])).toEqual([
      [1, 'car', 1200],
      [2, 'truck', 3000],
    ]);
  });

  it('picks the largest, the median-area, the smallest and the lowest-score box, in that order', () => {
    // Areas 5000, 400, 2000, 900, 100 (smallest, score 0.45), and the lowest score 0.26 on a small one.
    const c = [cand(0, 5000, 0.9), cand(1, 400, 0.26), cand(2, 2000, 0.7), cand(3, 900, 0.8), cand(4, 100, 0.45)];
    const p = placePrompts(c);
    expect(p.map((x) => [x.role, x.index])).toEqual([
      ['largest', 0],
      ['median', 3], // ascending 100, 400, 900, 2000, 5000: rank 2
      ['smallest', 4],
      ['lowest score', 1],
    ]);
    expect(p.filter((x) => x.score < 0.5).map((x) => x.index)).toEqual([4, 1]);
  });

  it('uses each detection once: a smallest box that is also the lowest-score one gives 3 prompts', () => {
    const p = placePrompts([cand(0, 5000, 0.9), cand(1, 800, 0.7), cand(2, 100, 0.3)]);
    expect(p.map((x) => [x.role, x.index])).toEqual([
      ['largest', 0],
      ['median', 1],
      ['smallest', 2],
    ]);
  });

  it('with two vehicles the median is the smallest, so it is skipped; a lone vehicle gives one prompt', () => {
    expect(placePrompts([cand(0, 300, 0.3), cand(1, 5000, 0.9)]).map((x) => x.role)).toEqual(['largest', 'smallest']);
    expect(placePrompts([cand(0, 300, 0.3)]).map((x) => x.role)).toEqual(['largest']);
    expect(placePrompts([])).toEqual([]);
  });

  it('choosePromptFrame: the first frame with >= 2 vehicles, else the first frame within 2 s that has them, else one with 1', () => {
    const at = (vehicles: number[], stepMs = 100) => vehicles.map((v, i) => ({ pts: i * stepMs, vehicles: v }));
    expect(choosePromptFrame(at([3, 5]))).toBe(0);
    expect(choosePromptFrame(at([1, 0, 2, 4]))).toBe(2);
    // 2 vehicles only at 2.5 s: outside the window, so the first frame with one.
    expect(choosePromptFrame(at([0, 1, 0, 0, 0, 2], 500))).toBe(1);
    expect(choosePromptFrame(at([0, 0, 0, 0, 0, 3], 500))).toBeNull();
    expect(choosePromptFrame([])).toBeNull();
  });
});

describe('replay schedule', () => {
  it('real time: every frame forward, then every frame backward, ending on picture 0', () => {
    const s = replaySchedule(5, 0, 1);
    expect(s).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.map((c) => pictureOf(c, 5))).toEqual([0, 1, 2, 3, 4, 4, 3, 2, 1, 0]);
  });

  it('2 of 3 dropped keeps every third picture both ways and still ends on the prompt picture', () => {
    const s = replaySchedule(7, 0, 3);
    expect(s.map((c) => pictureOf(c, 7))).toEqual([0, 3, 6, 6, 3, 0]);
    expect(s).toEqual([0, 3, 6, 7, 10, 13]);
  });

  it('counts from a later prompt frame, processes it, and ends on its backward copy', () => {
    const s = replaySchedule(7, 1, 3);
    expect(s).toContain(1);
    expect(s.map((c) => pictureOf(c, 7))).toEqual([1, 4, 4, 1]);
    expect(s[s.length - 1]).toBe(2 * 7 - 1 - 1);
  });

  it('rejects a prompt picture outside the clip with TypeError', () => {
    expect(() => replaySchedule(5, 5, 1)).toThrow(TypeError);
    expect(() => replaySchedule(5, 0, 0)).toThrow(TypeError);
  });

  it('buildTimeline continues media time and seq after the forward part: backward k at end + (k + 1) * interval', () => {
    const fwd = [0, 1, 2, 3].map((i) => frameOf(i, i * 40, []));
    const bwd = [0, 1, 2, 3].map((i) => frameOf(i, i * 40 + 5, []));
    const t = buildTimeline(fwd, bwd);
    expect(t.map((s) => s.frame.pts)).toEqual([0, 40, 80, 120, 160, 200, 240, 280]);
    expect(t.map((s) => s.frame.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(meanInterval([0, 100, 300])).toBe(150);
  });
});

const obs = (c: number, o: Partial<Observation> = {}): Observation => ({
  c,
  backward: false,
  pictureMs: c * 100,
  trackIds: [1],
  box: [0, 0, 10, 10],
  predicted: false,
  reattached: 0,
  ended: null,
  ...o,
});

const accepted = (observations: Observation[], framesAfterPrompt = observations.length, forwardAfterPrompt = framesAfterPrompt): Replay => ({
  outcome: { ok: true, target: 1, tracks: [1], boundBox: [0, 0, 10, 10] },
  framesAfterPrompt,
  forwardAfterPrompt,
  observations,
});

describe('prompt metrics', () => {
  it('presence counts a frame only when the target is present', () => {
    const m = promptMetrics(accepted([obs(1), obs(2, { trackIds: [], box: null }), obs(3, { predicted: true }), obs(4, { backward: true })], 4, 3), [0, 0, 10, 10]);
    expect(m.present).toBe(3);
    expect(m.presence).toBe(0.75);
    expect(m.predictedOnly).toBe(1);
    expect(m.presentBackward).toBe(1);
    expect(presenceLabel(m)).toBe('75.0 % (fwd 2/3, bwd 1/1)');
  });

  it('observeTarget maps only the objects whose track the frame assigns to that target', () => {
    const seg = frameOf(0, 0, [
      { box: [0, 0, 10, 10], score: 0.9 },
      { box: [50, 50, 70, 60], score: 0.9 },
      { box: [100, 100, 120, 120], score: 0.9 },
    ]);
    const tf: TargetedFrame = {
      seg: { ...seg, detections: new Detections({ ...seg.detections, trackIds: Int32Array.from([5, 6, -1]) }) },
      targets: new Map([
        [5, 1],
        [6, 2],
      ]),
      reattached: [{ target: 2, from: 3, to: 6 }],
      ended: [{ target: 4, reason: 'lost' }],
    };
    expect(observeTarget(tf, 1)).toEqual({ trackIds: [5], box: [0, 0, 10, 10], predicted: false, reattached: 0, ended: null });
    expect(observeTarget(tf, 2)).toMatchObject({ trackIds: [6], box: [50, 50, 70, 60], reattached: 1 });
    expect(observeTarget(tf, 3)).toMatchObject({ trackIds: [], box: null });
    expect(observeTarget(tf, 4)).toMatchObject({ trackIds: [], ended: 'lost' });
  });

  it('a reattachment and its change of track id are one identity change; a bare change of track id is another', () => {
    const m = promptMetrics(accepted([obs(1), obs(2, { trackIds: [4], reattached: 1 }), obs(3, { trackIds: [] }), obs(4, { trackIds: [9] }), obs(5, { trackIds: [9] })]), [0, 0, 10, 10]);
    expect(m.reattached).toBe(1);
    expect(m.otherTrackChanges).toBe(1);
    expect(m.identityChanges).toBe(2);
  });

  it('FB error: IoU and centre distance of the last frame box and the prompt box', () => {
    const m = promptMetrics(accepted([obs(1), obs(2, { box: [5, 0, 15, 10] })]), [0, 0, 10, 10]);
    // Intersection 5 x 10 = 50, union 100 + 100 - 50 = 150.
    expect(m.fb?.iou).toBeCloseTo(1 / 3, 6);
    expect(m.fb?.centreErrorPx).toBeCloseTo(5, 6);
    expect(centreDistance([0, 0, 10, 10], [3, 4, 13, 14])).toBeCloseTo(5, 6);
    expect(m.survived).toBe(true);
  });

  it('FB error is absent when the target is absent on the last frame or ended before it', () => {
    expect(promptMetrics(accepted([obs(1), obs(2, { trackIds: [], box: null })]), [0, 0, 10, 10]).fb).toBeNull();
    const ended = promptMetrics(accepted([obs(1), obs(2, { trackIds: [], box: null, ended: 'lost', backward: true, pictureMs: 1500 })], 10), [0, 0, 10, 10]);
    expect(ended.fb).toBeNull();
    expect(ended.ended).toEqual({ reason: 'lost', backward: true, pictureMs: 1500 });
    expect(ended.presence).toBe(0.1);
    expect(ended.survived).toBe(false);
  });

  it('a rejected prompt has presence 0, did not survive, and counts 0 in the summary means', () => {
    const rejected = promptMetrics({ outcome: { ok: false, code: 'E_PROMPT_NO_MATCH', message: 'x' }, framesAfterPrompt: 10, forwardAfterPrompt: 5, observations: [] }, [0, 0, 10, 10]);
    expect(rejected).toMatchObject({ accepted: false, presence: 0, fb: null, survived: false, identityChanges: 0 });
    const good = promptMetrics(accepted([obs(1), obs(2)]), [0, 0, 10, 10]);
    const s = summarise([good, rejected]);
    expect(s).toMatchObject({ prompts: 2, accepted: 1, meanPresence: 0.5, meanFbIou: 0.5, presentAtEnd: 1, survived: 0.5, identityChanges: 0 });
  });
});

describe('replayPrompt through CameraTargets', () => {
  // A car drifting right 2 px per frame, and a distant low-score one that never gets a track by itself.
  const n = 7;
  const forward = Array.from({ length: n }, (_, i) =>
    frameOf(i, i * 100, [
      { box: [100 + 2 * i, 100, 160 + 2 * i, 140], score: 0.9 },
      { box: [400, 50, 412, 58], score: 0.3 },
    ]),
  );
  const backward = [...forward].reverse();
  const timeline = buildTimeline(forward, backward);
  const setup = { trackerOptions: liveTrackerOptions(), classNames: CLASSES };

  it('follows the car forward and back to where the prompt was (FB IoU 1)', async () => {
    const r = await replayPrompt(timeline, replaySchedule(n, 0, 1), 0, [100, 100, 160, 140], setup);
    expect(r.outcome).toMatchObject({ ok: true, target: 1 });
    expect(r.framesAfterPrompt).toBe(2 * n - 1);
    expect(r.forwardAfterPrompt).toBe(n - 1);
    expect(r.observations[r.observations.length - 1]!.c).toBe(2 * n - 1);
    const m = promptMetrics(r, [100, 100, 160, 140]);
    expect(m).toMatchObject({ presence: 1, identityChanges: 0, ended: null, survived: true });
    expect(m.fb?.iou).toBeCloseTo(1, 6);
  });

  it('with 2 of 3 dropped processes every third picture and observes only those', async () => {
    const schedule = replaySchedule(n, 0, 3);
    const r = await replayPrompt(timeline, schedule, 0, [100, 100, 160, 140], setup);
    expect(r.observations.map((o) => o.c)).toEqual(schedule.slice(1));
    expect(r.observations.map((o) => o.pictureMs)).toEqual([300, 600, 600, 300, 0]);
  });

  it('a box on the untracked low-score car makes it a target (the click confirms it) that is followed to the end', async () => {
    const r = await replayPrompt(timeline, replaySchedule(n, 0, 1), 0, [400, 50, 412, 58], setup);
    expect(r.outcome).toMatchObject({ ok: true, target: 1 });
    const m = promptMetrics(r, [400, 50, 412, 58]);
    expect(m).toMatchObject({ presence: 1, identityChanges: 0, ended: null, survived: true });
  });

  it('a box where nothing is detected is rejected with E_PROMPT_NO_MATCH', async () => {
    const r = await replayPrompt(timeline, replaySchedule(n, 0, 1), 0, [250, 250, 300, 300], setup);
    expect(r.outcome).toMatchObject({ ok: false, code: 'E_PROMPT_NO_MATCH' });
    expect(r.observations).toEqual([]);
  });
});

describe('tables', () => {
  it('markdownTable escapes pipes and aligns columns', () => {
    expect(markdownTable(['a', 'b'], [['x|y', '1']], ['left', 'right'])).toBe('| a | b |\n|---|---:|\n| x\\|y | 1 |');
  });

  it('clipTable writes one row per prompt and mode, "absent" where the target is not on the last frame', () => {
    const prompt = { ...cand(0, 1200, 0.31), role: 'smallest' as const };
    const metrics: PromptMetrics = promptMetrics(accepted([obs(1, { trackIds: [], box: null })]), prompt.box);
    const table = clipTable([prompt], [{ prompt, mode: 'real time', outcome: { ok: true, target: 1, tracks: [1], boundBox: prompt.box }, metrics }]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('| 1 | smallest | car | 1200 | 0.31 | real time | track 1 (IoU 1.00) |');
    expect(lines[2]).toContain('| absent | - |');
  });
});
