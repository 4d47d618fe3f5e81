import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InferenceEngine, readModelFile, type SegmentedFrame } from '../../src/pipeline/index.js';
import type { TrackerOptionsInput } from '../../src/tracking/index.js';
import { liveEngineOptions, liveTrackerOptions } from './liveOptions.js';
import { promptMetrics, summarise, type PromptMetrics } from './metrics.js';
import { choosePromptFrame, placePrompts, PLACEMENT_RULE, vehicleCandidates, type PlacedPrompt } from './placement.js';
import { replayPrompt } from './replay.js';
import { buildTimeline, meanInterval, MODES, replaySchedule } from './schedule.js';
import { segmentFile, writeReversed } from './segment.js';
import { clipTable, summaryRow, summaryTable, type PromptRow } from './table.js';

export interface EvalPromptOptions {
  /** Clip paths. */
  readonly clips: readonly string[];
  /** Forward part of each clip limited to this many seconds; null: whole clip. */
  readonly maxSeconds: number | null;
  readonly model: string;
}

type Print = (line: string) => void;

const CAMERA = 'eval';
const s1 = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Per clip: one inference pass forward and one over a reversed copy, then every prompt
 * replayed in every mode on those detections; prints a table per clip and a summary.
 */
export async function evalPrompt(options: EvalPromptOptions, print: Print = console.log): Promise<void> {
  const t0 = performance.now();
  const trackerOptions = liveTrackerOptions();
  const engineOptions = liveEngineOptions();
  print(`# segstream eval:prompt: label-free target following`);
  print('');
  print(`- machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores (${availableParallelism()} available)`);
  print(`- model: ${basename(options.model)}; engine: ${engineOptions.workers} worker(s) x ${engineOptions.threadsPerWorker} onnxruntime threads, batch <= ${engineOptions.maxBatch}, confidence >= ${engineOptions.decode.confidence}`);
  print(`- clips: ${options.clips.map((c) => basename(c)).join(', ')}; forward part: ${options.maxSeconds === null ? 'whole clip' : `first ${options.maxSeconds} s`}`);
  print(`- placement: ${PLACEMENT_RULE}`);
  print(`- replay: one CameraTargets run per prompt and mode (prompts never interact), tracker options as the live service (config.ts liveTrackerOptions, defaults) ${JSON.stringify(trackerOptions)}; forward play then backward play (a reversed copy, re-encoded once) as one run, pts continuing; the box prompt is sent right after the prompt frame is processed`);
  print(`- modes: ${MODES.map((m) => `${m.name} (every ${m.step === 1 ? '' : `${m.step}rd `}frame)`).join(', ')}; the run ends on the prompt frame's picture played backward`);
  print(`- presence: processed frames after the prompt with an object mapped to the target (tracker predictions included; 'predicted only' counts those); identity changes: reattached entries plus other changes of the track id carrying the target; FB: on the last frame, IoU and centre distance of the target's box and the prompt box`);

  const { bytes, info } = await readModelFile(options.model);
  const engine = await InferenceEngine.create(info, bytes, engineOptions);
  const tmp = mkdtempSync(join(tmpdir(), 'segstream-evalprompt-'));
  const all = new Map<string, PromptMetrics[]>(MODES.map((m) => [m.name, []]));
  const summaryRows: string[][] = [];
  try {
    for (const clip of options.clips) {
      const rows = await evalClip(engine, clip, tmp, options.maxSeconds === null ? Infinity : options.maxSeconds * 1000, trackerOptions, print);
      for (const m of MODES) {
        const ms = rows.filter((r) => r.mode === m.name).map((r) => r.metrics);
        all.get(m.name)!.push(...ms);
        summaryRows.push(summaryRow(basename(clip), m.name, summarise(ms)));
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await engine.close();
  }
  for (const m of MODES) summaryRows.push(summaryRow('**all**', m.name, summarise(all.get(m.name)!)));
  print('');
  print('## Summary');
  print('');
  print(summaryTable(summaryRows));
  print('');
  print(`Run time: ${s1(performance.now() - t0)}`);
}

async function evalClip(
  engine: InferenceEngine,
  clip: string,
  tmp: string,
  limitMs: number,
  trackerOptions: TrackerOptionsInput,
  print: Print,
): Promise<PromptRow[]> {
  const name = basename(clip);
  let t = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const ms = now - t;
    t = now;
    return ms;
  };
  const forward = (await segmentFile(engine, clip, CAMERA, limitMs)).frames;
  const forwardMs = lap();
  const n = forward.length;
  if (n === 0) throw new Error(`${name}: no frame decoded`);
  const reversed = join(tmp, `${name}.reversed.mp4`);
  await writeReversed(clip, reversed, n);
  const reverseMs = lap();
  const backward = (await segmentFile(engine, reversed, CAMERA)).frames;
  rmSync(reversed, { force: true });
  const backwardMs = lap();
  if (backward.length !== n) {
    throw new Error(`${name}: the reversed copy has ${backward.length} frames, the forward part ${n}: pictures would not line up`);
  }

  const classNames = engine.info.classNames;
  const vehicles = forward.map((s) => ({ pts: s.frame.pts, vehicles: vehicleCandidates(s.detections, classNames).length }));
  const p = choosePromptFrame(vehicles);
  const fps = 1000 / meanInterval(forward.map((s) => s.frame.pts));
  const src = forward[0]!.frame.letterbox;
  print('');
  print(`## ${name}`);
  print('');
  print(`${src.srcWidth}x${src.srcHeight}, ${n} frames per direction (last at ${s1(forward[n - 1]!.frame.pts)}, ${fps.toFixed(2)} fps mean), ` +
    `${(vehicles.reduce((s, v) => s + v.vehicles, 0) / n).toFixed(1)} vehicle detections per frame; ` +
    `forward decode + inference ${s1(forwardMs)} (${((n * 1000) / forwardMs).toFixed(1)} fps), reverse encode ${s1(reverseMs)}, backward decode + inference ${s1(backwardMs)}`);
  if (p === null) {
    print('');
    print(`No vehicle in the first 2 s: no prompt.`);
    return [];
  }
  const prompts = placePrompts(vehicleCandidates(forward[p]!.detections, classNames));
  const timeline: SegmentedFrame[] = buildTimeline(forward, backward);
  const rows: PromptRow[] = [];
  for (const mode of MODES) {
    const schedule = replaySchedule(n, p, mode.step);
    for (const prompt of prompts) {
      const replay = await replayPrompt(timeline, schedule, p, prompt.box, { trackerOptions, classNames });
      rows.push({ prompt, mode: mode.name, outcome: replay.outcome, metrics: promptMetrics(replay, prompt.box) });
    }
  }
  const replayMs = lap();
  print(`Prompt frame ${p} (${s1(forward[p]!.frame.pts)}), ${vehicles[p]!.vehicles} vehicles on it, ${prompts.length} prompts; replays ${s1(replayMs)}.`);
  print('');
  print(clipTable(prompts, orderRows(prompts, rows)));
  const rejections = new Set(rows.flatMap((r) => (r.outcome.ok ? [] : [`${r.outcome.code}: ${r.outcome.message}`])));
  if (rejections.size > 0) print('');
  for (const r of rejections) print(`Rejected: ${r}`);
  return rows;
}

/** Rows grouped by prompt, modes in MODES order. */
function orderRows(prompts: readonly PlacedPrompt[], rows: readonly PromptRow[]): PromptRow[] {
  const mode = (r: PromptRow): number => MODES.findIndex((m) => m.name === r.mode);
  return [...rows].sort((a, b) => prompts.indexOf(a.prompt) - prompts.indexOf(b.prompt) || mode(a) - mode(b));
}
