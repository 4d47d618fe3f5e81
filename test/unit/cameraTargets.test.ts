import { describe, expect, it } from 'vitest';
import { CameraTargets } from '../../src/cameraTargets.js';
import { computeLetterbox, Detections, type Frame, type MaskCrop } from '../../src/core/index.js';
import type { SegmentedFrame } from '../../src/pipeline/segmentedFrame.js';

const lb = computeLetterbox(640, 480, 320, 320);

/** One frame with a solid 40x30 car at (x, 100) (none when x is null), at media time ptsMs. */
function frameWithCar(seq: number, x: number | null, letterbox = lb, o: { score?: number; ptsMs?: number } = {}): SegmentedFrame {
  const frame: Frame = { camera: 'cam0', seq, timestamp: 0, pts: o.ptsMs ?? 0, width: 320, height: 320, format: 'rgb24', data: new Uint8Array(0), letterbox };
  const detections =
    x === null
      ? Detections.empty()
      : new Detections({
          boxes: Float32Array.from([x, 100, x + 40, 130]),
          scores: Float32Array.from([o.score ?? 0.95]),
          classIds: Int32Array.from([2]),
          masks: [{ x, y: 100, width: 40, height: 30, data: new Uint8Array(40 * 30).fill(1) } satisfies MaskCrop],
          coefficients: Float32Array.of(1, 0.5, 0, 0.2),
        });
  return { frame, detections, classNames: ['person', 'bicycle', 'car'], timings: { queueMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, masksMs: 0, batchSize: 1 } };
}

describe('CameraTargets', () => {
  it('endAll ends every live target with the reason given (the camera is removed or restarts), once', async () => {
    const t = new CameraTargets(['cam0'], {}, ['person', 'bicycle', 'car']);
    for (let i = 0; i < 3; i++) t.process(frameWithCar(i, 100 + 2 * i));
    await t.handle({ type: 'prompt', camera: 'cam0', points: [[120, 110, 1]] });
    expect(t.endAll('restarted')).toEqual([{ camera: 'cam0', ended: [{ target: 1, reason: 'restarted' }] }]);
    expect(t.endAll('removed')).toEqual([{ camera: 'cam0', ended: [] }]);
  });

  it('binds a point prompt to the tracked car and tags it in later frames', async () => {
    const t = new CameraTargets(['cam0'], {}, ['person', 'bicycle', 'car']);
    for (let i = 0; i < 3; i++) t.process(frameWithCar(i, 100 + 2 * i));
    const reply = await t.handle({ type: 'prompt', camera: 'cam0', points: [[120, 110, 1]] });
    expect(reply).toMatchObject({ type: 'prompt.ok', camera: 'cam0', target: 1, method: 'points', seq: 2 });
    const next = t.process(frameWithCar(3, 106));
    const id = next.seg.detections.trackIds[0]!;
    expect(reply['tracks']).toEqual([id]);
    expect(next.targets.get(id)).toBe(1);
  });

  it('a box prompt on a low-score car no track owns makes it a target at once; it is followed through misses and ends when unseen too long', async () => {
    // MOT defaults: 0.3 is far below the new-track score (0.8), so the car never gets an id by itself.
    const t = new CameraTargets(['cam0'], {}, ['person', 'bicycle', 'car']);
    const low = (seq: number, x: number | null) => t.process(frameWithCar(seq, x, lb, { score: 0.3, ptsMs: seq * 100 }));
    for (let i = 0; i < 3; i++) expect(Array.from(low(i, 100 + i).seg.detections.trackIds)).toEqual([-1]);
    const reply = await t.handle({ type: 'prompt', camera: 'cam0', box: [95, 95, 150, 135] });
    expect(reply).toMatchObject({ type: 'prompt.ok', target: 1, method: 'box' });
    const [id] = reply['tracks'] as number[];
    let f = low(3, 103);
    expect(f.seg.detections.trackIds[0]).toBe(id);
    expect(f.targets.get(id!)).toBe(1);
    // Missed for 0.5 s: still out, predicted.
    for (let i = 4; i < 9; i++) f = low(i, null);
    expect(f.seg.detections.length).toBe(1);
    expect(f.seg.detections.predicted[0]).toBe(1);
    expect(f.targets.get(id!)).toBe(1);
    // Unseen for 3 s more (not reported), then back 30 px further on: the same id, the same target.
    for (let i = 9; i < 40; i++) f = low(i, null);
    expect(f.seg.detections.length).toBe(0);
    expect(f.ended).toEqual([]);
    f = low(40, 133);
    expect(Array.from(f.seg.detections.trackIds)).toEqual([id]);
    expect(f.targets.get(id!)).toBe(1);
    // Gone for more than the target memory (10 s): the target ends, once, as lost.
    const ended = [];
    for (let i = 41; i < 160; i++) ended.push(...low(i, null).ended);
    expect(ended).toEqual([{ target: 1, reason: 'lost' }]);
  });

  it('a refused prompt (E_TARGET_LIMIT) leaves no track behind for the detection it selected', async () => {
    const t = new CameraTargets(['cam0'], {}, ['person', 'bicycle', 'car']);
    // 17 weak cars in a row, 30 px apart: none gets a track by itself.
    const row = (seq: number): SegmentedFrame => {
      const xs = Array.from({ length: 17 }, (_, i) => 5 + 30 * i);
      const f = frameWithCar(seq, null, lb, { ptsMs: seq * 100 });
      const detections = new Detections({
        boxes: Float32Array.from(xs.flatMap((x) => [x, 300, x + 20, 320])),
        scores: new Float32Array(17).fill(0.3),
        classIds: new Int32Array(17).fill(2),
        masks: xs.map((x) => ({ x, y: 300, width: 20, height: 20, data: new Uint8Array(400).fill(1) })),
      });
      return { ...f, detections };
    };
    t.process(row(0));
    for (let i = 0; i < 16; i++) await t.handle({ type: 'prompt', camera: 'cam0', box: [5 + 30 * i - 2, 298, 5 + 30 * i + 22, 322] });
    await expect(t.handle({ type: 'prompt', camera: 'cam0', box: [5 + 30 * 16 - 2, 298, 5 + 30 * 16 + 22, 322] })).rejects.toMatchObject({ code: 'E_TARGET_LIMIT' });
    const next = t.process(row(1));
    expect(next.seg.detections.trackIds[16]).toBe(-1);
    expect(new Set(Array.from(next.seg.detections.trackIds).slice(0, 16)).size).toBe(16);
  });

  it("a predicted target leaving the picture is cut to the frame, then dropped; its mask stays inside the box", async () => {
    const t = new CameraTargets(['cam0'], {}, ['person', 'bicycle', 'car']);
    // A car at the right edge driving out at 600 px/s (20 px per 1/30 s).
    for (let i = 0; i < 8; i++) t.process(frameWithCar(i, 440 + 20 * i, lb, { ptsMs: (i * 1000) / 30 }));
    await t.handle({ type: 'prompt', camera: 'cam0', box: [575, 95, 625, 135] });
    for (let i = 8; i < 30; i++) {
      const f = t.process(frameWithCar(i, null, lb, { ptsMs: (i * 1000) / 30 }));
      for (let k = 0; k < f.seg.detections.length; k++) {
        const [x1, , x2] = f.seg.detections.box(k);
        expect(x1).toBeGreaterThanOrEqual(0);
        expect(x2).toBeLessThanOrEqual(640);
        const m = f.seg.detections.masks[k]!;
        expect(m.x).toBeGreaterThanOrEqual(Math.floor(x1));
        expect(m.x + m.width).toBeLessThanOrEqual(Math.ceil(x2));
        expect(m.data.some((v) => v === 1)).toBe(true);
      }
      if (i >= 20) expect(f.seg.detections.length).toBe(0);
    }
  });

  it("targetsOf gives the targets bound now to an earlier result's tracks, without stepping anything", async () => {
    const t = new CameraTargets(['cam0'], {}, ['person', 'bicycle', 'car']);
    let last = t.process(frameWithCar(0, 100));
    for (let i = 1; i < 3; i++) last = t.process(frameWithCar(i, 100 + 2 * i));
    const id = last.seg.detections.trackIds[0]!;
    expect(t.targetsOf('cam0', last.seg.detections).size).toBe(0);
    await t.handle({ type: 'prompt', camera: 'cam0', points: [[120, 110, 1]] });
    expect([...t.targetsOf('cam0', last.seg.detections)]).toEqual([[id, 1]]);
    // The prompt was answered on the same frame: the tracker did not move.
    expect(await t.handle({ type: 'prompt', camera: 'cam0', points: [[120, 110, 1]] })).toMatchObject({ seq: 2 });
    expect(new CameraTargets(['cam0'], null, ['car']).targetsOf('cam0', last.seg.detections).size).toBe(0);
  });

  it('a newer prompt taking all tracks of a target ends it as replaced', async () => {
    const t = new CameraTargets(['cam0'], {}, ['person', 'bicycle', 'car']);
    for (let i = 0; i < 3; i++) t.process(frameWithCar(i, 100 + 2 * i));
    await t.handle({ type: 'prompt', camera: 'cam0', points: [[120, 110, 1]] });
    await t.handle({ type: 'prompt', camera: 'cam0', box: [95, 95, 150, 135] });
    expect(t.process(frameWithCar(3, 106)).ended).toEqual([{ target: 1, reason: 'replaced' }]);
  });

  it.each(['constructor', 'hasOwnProperty', 'toString', 'valueOf', '__proto__'])(
    "a text prompt '%s' is E_PROMPT_NO_MATCH, not a TypeError from Object.prototype",
    async (text) => {
      const t = new CameraTargets(['cam0'], {}, ['person', 'bicycle', 'car']);
      for (let i = 0; i < 3; i++) t.process(frameWithCar(i, 100 + 2 * i));
      await expect(t.handle({ type: 'prompt', camera: 'cam0', text })).rejects.toMatchObject({ code: 'E_PROMPT_NO_MATCH' });
      await expect(t.handle({ type: 'prompt', camera: text, text: 'car' })).rejects.toMatchObject({ code: 'E_UNKNOWN_CAMERA' });
    },
  );

  it('with tracking off keeps detections untracked and answers prompts with E_PROMPT_INVALID', async () => {
    const t = new CameraTargets(['cam0'], null, ['person', 'bicycle', 'car']);
    const out = t.process(frameWithCar(0, 100));
    expect(Array.from(out.seg.detections.trackIds)).toEqual([-1]);
    await expect(t.handle({ type: 'prompt', camera: 'cam0', box: [90, 90, 150, 140] })).rejects.toMatchObject({ code: 'E_PROMPT_INVALID' });
    await expect(t.handle({ type: 'prompt', camera: 'other', box: [90, 90, 150, 140] })).rejects.toMatchObject({ code: 'E_UNKNOWN_CAMERA' });
  });

  it('answers a prompt before any frame with E_PROMPT_NO_MATCH', async () => {
    const t = new CameraTargets(['cam0'], {}, ['car']);
    await expect(t.handle({ type: 'prompt', camera: 'cam0', text: 'car' })).rejects.toMatchObject({ code: 'E_PROMPT_NO_MATCH' });
  });

  it('when the picture size changes, ends the targets with reason resolution and starts tracks over', async () => {
    const t = new CameraTargets(['cam0'], {}, ['person', 'bicycle', 'car']);
    for (let i = 0; i < 3; i++) t.process(frameWithCar(i, 100 + 2 * i));
    await t.handle({ type: 'prompt', camera: 'cam0', points: [[120, 110, 1]] });
    const same = t.process(frameWithCar(3, 106));
    expect(same.ended).toEqual([]);
    const oldId = same.seg.detections.trackIds[0]!;

    const resized = t.process(frameWithCar(4, 106, computeLetterbox(1280, 720, 320, 320)));
    expect(resized.ended).toEqual([{ target: 1, reason: 'resolution' }]);
    expect(resized.targets.size).toBe(0);
    // The tracker started over (no track carried into the new geometry) and ids go on counting.
    const later = t.process(frameWithCar(6, 108, computeLetterbox(1280, 720, 320, 320)));
    expect(later.seg.detections.trackIds[0]).toBeGreaterThan(oldId);
    // A later frame at the new size is not another change.
    expect(later.ended).toEqual([]);
  });
});
