import { describe, expect, it } from 'vitest';
import { CameraTargets } from '../../src/cameraTargets.js';
import { computeLetterbox, Detections, type Frame, type MaskCrop } from '../../src/core/index.js';
import type { SegmentedFrame } from '../../src/pipeline/segmentedFrame.js';

const lb = computeLetterbox(640, 480, 320, 320);

/** One frame with a solid 40x30 car at (x, 100). */
function frameWithCar(seq: number, x: number, letterbox = lb): SegmentedFrame {
  const mask: MaskCrop = { x, y: 100, width: 40, height: 30, data: new Uint8Array(40 * 30).fill(1) };
  const frame: Frame = { camera: 'cam0', seq, timestamp: 0, pts: 0, width: 320, height: 320, format: 'rgb24', data: new Uint8Array(0), letterbox };
  const detections = new Detections({
    boxes: Float32Array.from([x, 100, x + 40, 130]),
    scores: Float32Array.from([0.9]),
    classIds: Int32Array.from([2]),
    masks: [mask],
  });
  return { frame, detections, classNames: ['person', 'bicycle', 'car'], timings: { queueMs: 0, preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, masksMs: 0, batchSize: 1 } };
}

describe('CameraTargets', () => {
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
