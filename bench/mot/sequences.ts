/**
 * The MOT15 training sequences under ../shared/data/mot/MOT15/, with the frame rates and
 * SORT rows that ../shared/data/README.md gives (SORT: abewley/sort README, MOTChallenge devkit).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluateMot, type MotMetrics } from '../../src/eval/index.js';
import { DEFAULT_MOT_FPS, parseMotDetections, runTrackerOnMot, type MotRow, type TrackerOptionsInput } from '../../src/tracking/index.js';

/** ../shared/data/mot/MOT15/, or the folder in SEGSTREAM_MOT15_DIR (sequences elsewhere). */
export const MOT15_DIR = process.env['SEGSTREAM_MOT15_DIR']
  ? `${process.env['SEGSTREAM_MOT15_DIR'].replace(/\/+$/, '')}/`
  : fileURLToPath(new URL('../../../shared/data/mot/MOT15/', import.meta.url));

export interface SortRow {
  mota: number;
  idsw: number;
  fp: number;
  fn: number;
}

export interface Sequence {
  readonly name: string;
  readonly fps: number;
  readonly camera: 'static' | 'moving' | 'unknown';
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

/**
 * Every sequence under MOT15_DIR with `gt/gt.txt` and `det/det.txt`: the known ones above that
 * are there, then any other folder found there (its frame rate from `seqinfo.ini` `frameRate=` when present, else
 * DEFAULT_MOT_FPS; camera motion unknown; no SORT row).
 */
export function allSequences(): Sequence[] {
  const known = new Map(SEQUENCES.map((s) => [s.name, s]));
  let found: string[] = [];
  try {
    found = readdirSync(MOT15_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(`${MOT15_DIR}${d.name}/gt/gt.txt`) && existsSync(`${MOT15_DIR}${d.name}/det/det.txt`))
      .map((d) => d.name)
      .sort();
  } catch {
    return [...SEQUENCES];
  }
  const extra = found.filter((n) => !known.has(n)).map((name): Sequence => ({ name, fps: seqinfoFps(name) ?? DEFAULT_MOT_FPS, camera: 'unknown' }));
  const present = SEQUENCES.filter((s) => found.includes(s.name)).map((s) => ({ ...s, fps: seqinfoFps(s.name) ?? s.fps }));
  return [...present, ...extra];
}

function seqinfoFps(name: string): number | undefined {
  try {
    const m = /^\s*frameRate\s*=\s*([\d.]+)/im.exec(readFileSync(`${MOT15_DIR}${name}/seqinfo.ini`, 'utf8'));
    const fps = m ? Number(m[1]) : NaN;
    return fps > 0 ? fps : undefined;
  } catch {
    return undefined;
  }
}

/** Reads gt and det of every sequence that is present (a missing one is skipped with a warning). */
export function loadSequences(names?: readonly string[]): LoadedSequence[] {
  const out: LoadedSequence[] = [];
  for (const s of allSequences()) {
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
