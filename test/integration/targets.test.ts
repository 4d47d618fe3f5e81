import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import type { FrameMessage, WireObject } from '../../src/publish/index.js';
import { makeSegment } from '../helpers/clipSegment.js';
import { CCTV_640x480 } from '../helpers/media.js';
import { processesMatching, waitUntil } from '../helpers/processes.js';
import { boxArea, boxIou, maskVsBox, VEHICLE_LABELS, type WireBox } from '../helpers/wireObjects.js';
import { TestClient, type Msg } from '../helpers/wsClient.js';

/**
 * Acceptance tests for prompted targets on weak detections, through the running service:
 * real ffmpeg at the clip's own frame rate (not --fast), the real model, real WebSocket.
 * Nothing is hand-picked but the clip and the start offset: the prompt comes from the
 * service's own frame messages.
 */

const MODEL = join(import.meta.dirname, '../../../shared/models/yolov8n-seg-320.onnx');
const CAM = 'road';
// 14.5 s into the 640x480, 30 fps intersection clip: far up the road sit small, distant cars
// (30-45 px wide) that YOLOv8n scores 0.25-0.49, and cars drive off towards the top right.
// 14 s of it covers both tests (about 4 + 8 s of media time) with room to spare.
const SEGMENT_START_S = 14.5;
const SEGMENT_S = 14;

/** "Small": a box of at most 1 % of the frame (3072 px² at 640x480). */
const SMALL_FRACTION = 0.01;
/** A box within this many px of the frame edge is a vehicle cut off by it, not a small one. */
const EDGE_PX = 2;
/** Media time the target must survive, ms. */
const KEEP_MS = 3000;
/** Mask pixel centres may lie this far outside their box (boxes are rounded to 0.1 px, masks to whole pixels). */
const MASK_TOLERANCE_PX = 1;

const isFrame = (m: Msg): boolean => m.type === 'frame' && m['camera'] === CAM;
const fmtBox = (b: WireBox): string => `[${b.map((v) => Math.round(v)).join(',')}]`;
const sizeOf = (b: WireBox): string => `${Math.round(b[2] - b[0])}x${Math.round(b[3] - b[1])} px`;
const describeObject = (o: WireObject): string =>
  `${o.label} score ${o.score} box ${fmtBox(o.box)} (${sizeOf(o.box)})${o.id === undefined ? ', no track id' : `, track ${o.id}`}`;

describe('prompted targets on small, weak detections (real clip at its frame rate, model, tracker, WebSocket)', () => {
  let dir: string;
  let app: App | undefined;
  let c: TestClient | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'segstream-targets-'));
    const clip = join(dir, 'intersection-14.5s.mp4');
    makeSegment(CCTV_640x480, clip, SEGMENT_START_S, SEGMENT_S);
    // realtime: the file is played at its own 30 fps, as a camera would send it; frames the
    // pipeline cannot keep up with are dropped (seq gaps), so media time is read off `pts`.
    app = await startApp(
      parseConfig({ cameras: [{ id: CAM, url: clip }], inference: { model: MODEL, threads: 1 }, server: { host: '127.0.0.1', port: 0 }, ingest: { realtime: true } }),
    );
    c = await TestClient.connect(app.address.port);
  });

  afterAll(async () => {
    c?.close();
    await app?.close();
    // The camera's ffmpeg has the segment's path on its command line: none may outlive the app.
    if (dir) {
      await waitUntil('the ffmpeg reading the segment to exit', () => processesMatching(dir).length === 0, 5000);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** The first frame message after `seq` (already received or still to come). */
  const frameAfter = async (seq: number, timeoutMs = 10_000): Promise<FrameMessage> =>
    (await c!.next((m) => isFrame(m) && (m['seq'] as number) > seq, timeoutMs)) as unknown as FrameMessage;

  /** The reply (`prompt.*` or `error`) to the request sent right after `before` messages. */
  const replyAfter = (before: number): Promise<Msg> =>
    c!.next((m) => (m.type.startsWith('prompt.') || m.type === 'error') && c!.messages.indexOf(m) >= before);

  const lastSeq = (): number => {
    const frames = c!.messages.filter(isFrame);
    return frames.length === 0 ? -1 : (frames[frames.length - 1]!['seq'] as number);
  };

  /**
   * Reads frame messages for up to `searchMs` of media time and returns, from the first frame
   * that has one, its smallest vehicle (car, truck, bus, motorcycle) with score < 0.5, a small
   * box clear of the frame edge, and a vehicle box overlapping it (IoU >= 0.3) in the frame
   * message before (so it is an object, not a one-frame blip). Tracked or not.
   */
  async function pickSmallLowScoreVehicle(searchMs: number): Promise<{ frame: FrameMessage; object: WireObject }> {
    let prev: FrameMessage | undefined;
    let f = await frameAfter(lastSeq());
    const firstPts = f.pts;
    const seen: WireObject[] = [];
    let frames = 0;
    for (;;) {
      frames++;
      const maxArea = SMALL_FRACTION * f.width * f.height;
      const vehicles = f.objects.filter((o) => VEHICLE_LABELS.has(o.label) && !o.predicted);
      seen.push(...vehicles.filter((o) => o.score < 0.5));
      const candidates = vehicles
        .filter(
          (o) =>
            o.score < 0.5 &&
            boxArea(o.box) <= maxArea &&
            o.box[0] >= EDGE_PX &&
            o.box[1] >= EDGE_PX &&
            o.box[2] <= f.width - EDGE_PX &&
            o.box[3] <= f.height - EDGE_PX &&
            prev !== undefined &&
            prev.objects.some((p) => VEHICLE_LABELS.has(p.label) && boxIou(p.box, o.box) >= 0.3),
        )
        .sort((a, b) => boxArea(a.box) - boxArea(b.box));
      if (candidates[0]) return { frame: f, object: candidates[0] };
      if (f.pts - firstPts >= searchMs) {
        const smallest = [...seen].sort((a, b) => boxArea(a.box) - boxArea(b.box)).slice(0, 5);
        throw new Error(
          `no vehicle with score < 0.5 and a box of at most ${maxArea} px² (clear of the frame edge, seen in two consecutive frames) ` +
            `in ${frames} frame messages over ${f.pts - firstPts} ms of media time; smallest low-score vehicles seen: ` +
            (smallest.length === 0 ? 'none' : smallest.map(describeObject).join('; ')),
        );
      }
      prev = f;
      f = await frameAfter(f.seq);
    }
  }

  it('a box prompt on a small, low-score vehicle keeps its target for at least 3 s of media time', { timeout: 45_000 }, async () => {
    const pick = await pickSmallLowScoreVehicle(3000);
    const picked = `${describeObject(pick.object)} in frame ${pick.frame.seq} (pts ${pick.frame.pts} ms)`;

    const before = c!.messages.length;
    c!.ws.send(JSON.stringify({ type: 'prompt', camera: CAM, box: pick.object.box, id: 'small' }));
    const reply = await replyAfter(before);
    expect(reply, `box prompt on the ${picked} was answered ${JSON.stringify(reply)}`).toMatchObject({ type: 'prompt.ok', camera: CAM, method: 'box' });
    const target = reply['target'] as number;
    const promptSeq = reply['seq'] as number;
    const replyAt = c!.messages.indexOf(reply);

    // Frames after the one the prompt was evaluated on, until KEEP_MS of media time have passed.
    const evaluated = c!.messages.find((m) => isFrame(m) && m['seq'] === promptSeq) as FrameMessage | undefined;
    const startPts = evaluated?.pts ?? (await frameAfter(promptSeq)).pts;
    await c!.next((m) => isFrame(m) && (m['seq'] as number) > promptSeq && (m['pts'] as number) >= startPts + KEEP_MS, 15_000);
    const window: FrameMessage[] = [];
    for (const m of c!.messages) {
      if (!isFrame(m) || (m['seq'] as number) <= promptSeq) continue;
      window.push(m as unknown as FrameMessage);
      if ((m['pts'] as number) >= startPts + KEEP_MS) break;
    }
    const windowEnd = c!.messages.indexOf(window[window.length - 1] as unknown as Msg);

    // target.ended comes just before the frame message of the frame it ended on.
    const endedAt = c!.messages.findIndex((m, i) => i > replyAt && i <= windowEnd && m.type === 'target.ended' && m['target'] === target);
    const ended = endedAt < 0 ? undefined : c!.messages[endedAt]!;
    const endedPts = ended ? ((c!.messages.slice(endedAt).find(isFrame)?.['pts'] as number | undefined) ?? NaN) : NaN;

    let present = 0;
    let lastPresentPts = NaN;
    let prevBox: WireBox = pick.object.box;
    const jumps: string[] = [];
    const tracks = new Set<number>();
    for (const f of window) {
      const mine = f.objects.filter((o) => o.target === target);
      if (mine.length === 0) continue;
      present++;
      lastPresentPts = f.pts;
      // A box prompt binds one object; should a target ever carry more, follow the one nearest its path.
      const o = mine.reduce((a, b) => (boxIou(b.box, prevBox) > boxIou(a.box, prevBox) ? b : a));
      if (o.id !== undefined) tracks.add(o.id);
      if (boxIou(prevBox, o.box) <= 0) jumps.push(`frame ${f.seq} (+${f.pts - startPts} ms): ${fmtBox(prevBox)} -> ${fmtBox(o.box)}`);
      prevBox = o.box;
    }
    const spanMs = window[window.length - 1]!.pts - startPts;
    const fraction = present / window.length;
    const summary =
      `target ${target} (box prompt on the ${picked}; bound to track(s) ${JSON.stringify(reply['tracks'])} on frame ${promptSeq}) ` +
      `present in ${present}/${window.length} frame messages (${(100 * fraction).toFixed(1)} %) over ${(spanMs / 1000).toFixed(2)} s of media time; ` +
      (Number.isNaN(lastPresentPts) ? 'never present; ' : `last present at +${((lastPresentPts - startPts) / 1000).toFixed(2)} s; `) +
      (ended ? `target.ended (${String(ended['reason'])}) at +${((endedPts - startPts) / 1000).toFixed(2)} s; ` : 'not ended; ') +
      `tracks carrying it: ${JSON.stringify([...tracks])}; frames dropped by the pipeline in the window: ${window[window.length - 1]!.dropped - (evaluated?.dropped ?? window[0]!.dropped)}`;
    console.log(summary);

    expect(spanMs).toBeGreaterThanOrEqual(KEEP_MS);
    expect.soft(ended, `no target.ended for target ${target} within ${KEEP_MS} ms: ${summary}`).toBeUndefined();
    expect.soft(fraction, `target ${target} in >= 90 % of frame messages: ${summary}`).toBeGreaterThanOrEqual(0.9);
    expect.soft(jumps, `target ${target} box never jumps (IoU with its previous box > 0): ${summary}`).toEqual([]);

    // Leave no target behind for the next test (clearing all never fails, even once it ended).
    const beforeClear = c!.messages.length;
    c!.ws.send(JSON.stringify({ type: 'prompt.clear', camera: CAM }));
    expect(await replyAfter(beforeClear)).toMatchObject({ type: 'prompt.cleared', camera: CAM });
  });

  it('every mask, predicted objects included, is non-empty and lies inside its object box (1 px tolerance)', { timeout: 45_000 }, async () => {
    // Targets on the vehicles in view: a target whose object the detector misses for a frame
    // is reported predicted, so this makes predicted objects likelier; the tracker reports
    // briefly lost tracks as predicted anyway. A prompt matching nothing is fine here.
    const before = c!.messages.length;
    c!.ws.send(JSON.stringify({ type: 'prompt', camera: CAM, text: 'vehicles' }));
    const reply = await replyAfter(before);
    const promptNote = reply.type === 'prompt.ok' ? `targets on tracks ${JSON.stringify(reply['tracks'])}` : `prompt answered ${String(reply['code'])}`;

    // At least 4 s of media time, and on (up to 8 s) until 8 predicted objects were seen.
    const frames: FrameMessage[] = [];
    let f = await frameAfter(lastSeq());
    const startPts = f.pts;
    let predicted = 0;
    for (;;) {
      frames.push(f);
      predicted += f.objects.filter((o) => o.predicted).length;
      const elapsed = f.pts - startPts;
      if ((elapsed >= 4000 && predicted >= 8) || elapsed >= 8000) break;
      f = await frameAfter(f.seq);
    }

    let detected = 0;
    let predictedWithTarget = 0;
    const empty: string[] = [];
    const areaMismatch: string[] = [];
    const outsideDetected: string[] = [];
    const outsidePredicted: string[] = [];
    const outsideShares: number[] = [];
    for (const fr of frames) {
      for (const o of fr.objects) {
        const what = `frame ${fr.seq} ${o.predicted ? 'predicted ' : ''}${o.label}${o.id === undefined ? '' : ` #${o.id}`}${o.target === undefined ? '' : ` (target ${o.target})`} box ${fmtBox(o.box)}`;
        if (o.predicted) {
          if (o.target !== undefined) predictedWithTarget++;
        } else detected++;
        const r = maskVsBox(o, MASK_TOLERANCE_PX);
        if (r === null || r.pixels === 0) {
          empty.push(`${what}: ${r === null ? 'no mask' : 'empty mask'}`);
          continue;
        }
        if (r.pixels !== o.area) areaMismatch.push(`${what}: area ${o.area}, mask ${r.pixels} px`);
        if (r.outside > 0) {
          const share = r.outside / r.pixels;
          const line = `${what}: ${r.outside}/${r.pixels} px (${(100 * share).toFixed(1)} %) outside, up to ${r.maxOvershoot.toFixed(1)} px beyond the box`;
          if (o.predicted) {
            outsidePredicted.push(line);
            outsideShares.push(share);
          } else outsideDetected.push(line);
        }
      }
    }
    const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
    const shares = outsideShares.length === 0 ? '' : ` (${pct(Math.min(...outsideShares))} to ${pct(Math.max(...outsideShares))} of their pixels outside)`;
    const summary =
      `${frames.length} frame messages over ${((frames[frames.length - 1]!.pts - startPts) / 1000).toFixed(2)} s of media time (${promptNote}): ` +
      `${detected + predicted} objects checked, ${detected} detected and ${predicted} predicted (${predictedWithTarget} of them with a target); ` +
      `masks with pixels outside the box: ${outsideDetected.length}/${detected} detected, ${outsidePredicted.length}/${predicted} predicted${shares}; ` +
      `empty or missing masks: ${empty.length}; area != mask pixels: ${areaMismatch.length}`;
    console.log(summary);
    expect(detected).toBeGreaterThan(0);
    // Targets on every vehicle for 4-8 s at 30 fps: the detector misses some of them on some
    // frames, so predicted objects occur (38 in a typical run); without any, half the check is void.
    expect(predicted, summary).toBeGreaterThan(0);
    expect.soft(empty, summary).toEqual([]);
    expect.soft(areaMismatch, summary).toEqual([]);
    expect.soft(outsideDetected, summary).toEqual([]);
    expect.soft(outsidePredicted, summary).toEqual([]);
  });
});
