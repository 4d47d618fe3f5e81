/**
 * The MOT15 training sequences under ../shared/data/mot/MOT15/, with the frame rates and
 * SORT rows that ../shared/data/README.md gives (SORT: abewley/sort README, MOTChallenge devkit).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluateMot, type MotMetrics } from '../../src/eval/index.js';
import { parseMotDetections, runTrackerOnMot, type MotRow, type TrackerOptionsInput } from '../../src/tracking/index.js';

export const MOT15_DIR = fileURLToPath(new URL('../../../shared/data/mot/MOT15/', import.meta.url));

export interface SortRow {
  mota: number;
  idsw: number;
  fp: number;
  fn: number;
}

export interface Sequence {
  readonly name: string;
  readonly fps: number;
  readonly camera: 'static' | 'moving';
  readonly sort?: SortRow;
}

export const SEQUENCES: readonly Sequence[] = [
  { name: 'TUD-Campus', fps: 25, camera: 'static', sort: { mota: 62.7, idsw: 6, fp: 15, fn: 113 } },
  { name: 'TUD-Stadtmitte', fps: 25, camera: 'static' },
  { name: 'ETH-Sunnyday', fps: 14, camera: 'moving', sort: { mota: 59.1, idsw: 22, fp: 319, fn: 418 } },
  { name: 'ETH-Pedcross2', fps: 14, camera: 'moving', sort: { mota: 45.4, idsw: 77, fp: 330, fn: 3014 } },
  { name: 'ADL-Rundle-6', fps: 30, camera: 'static' },
  { name: 'ADL-Rundle-8', fps: 30, camera: 'moving', sort: { mota: 28.6, idsw: 103, fp: 959, fn: 3781 } },
  { name: 'Venice-2', fps: 30, camera: 'static', sort: { mota: 18.6, idsw: 57, fp: 1650, fn: 4109 } },
  { name: 'PETS09-S2L1', fps: 7, camera: 'static' },
  { name: 'KITTI-13', fps: 10, camera: 'moving' },
  { name: 'ETH-Bahnhof', fps: 14, camera: 'moving' },
];

export interface LoadedSequence extends Sequence {
  readonly gt: MotRow[];
  readonly det: MotRow[];
}

/** Reads gt and det of every sequence that is present (a missing one is skipped with a warning). */
export function loadSequences(names?: readonly string[]): LoadedSequence[] {
  const out: LoadedSequence[] = [];
  for (const s of SEQUENCES) {
    if (names && !names.includes(s.name)) continue;
    try {
      // Ground-truth rows with confidence 0 are ignored, as py-motmetrics' MOTChallenge loader
      // (min_confidence=1) and the devkit do: they mark objects the benchmark does not score.
      const gt = parseMotDetections(readFileSync(`${MOT15_DIR}${s.name}/gt/gt.txt`, 'utf8')).filter((r) => r.score >= 1);
      const det = parseMotDetections(readFileSync(`${MOT15_DIR}${s.name}/det/det.txt`, 'utf8'));
      out.push({ ...s, gt, det });
    } catch (err) {
      process.stderr.write(`skipping ${s.name}: ${(err as Error).message}\n`);
    }
  }
  return out;
}

/** Tracks one sequence with the options at its own frame rate and scores it. */
export function score(seq: LoadedSequence, options: TrackerOptionsInput, keep?: (frame: number) => boolean): MotMetrics {
  const rows = runTrackerOnMot(seq.det, options, { fps: seq.fps, ...(keep ? { frames: keep } : {}) });
  // Frames the tracker skipped have no output: score only the frames it processed.
  const gt = keep ? seq.gt.filter((r) => keep(r.frame)) : seq.gt;
  return evaluateMot(gt, rows);
}
