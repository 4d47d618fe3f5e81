/**
 * Leave-one-sequence-out tuning of the tracker defaults on every labelled MOT15 sequence (those
 * under ../shared/data/mot/MOT15/, or SEGSTREAM_MOT15_DIR):
 * scores a small grid of options on each sequence (at its own frame rate), then for each
 * sequence picks the options with the best mean MOTA on the OTHER sequences and reports the
 * held-out sequence's figures with them. The last line is the choice on all sequences: the
 * defaults in src/tracking/options.ts are that row (docs/tracking.md records both).
 *
 *   npm run tune:mot            # the grid below (576 sets), ~20 min on 2 cores
 *   npm run tune:mot -- --quick # a 16-point grid, for a smoke run
 */
import { cpus } from 'node:os';
import { loadSequences, score } from './mot/sequences.js';
import type { TrackerOptionsInput } from '../src/tracking/index.js';

type Grid = Record<string, readonly unknown[]>;

const FULL: Grid = {
  highScoreThreshold: [0.6, 0.7, 0.8],
  newTrackThreshold: [0.7, 0.8, 0.9],
  matchIouHigh: [0.2, 0.3],
  maxAgeS: [0.5, 1, 2],
  minHits: [2, 3],
  cameraMotion: [false, true],
  outputBox: ['detection', 'filtered', 'mean'],
};
const QUICK: Grid = { highScoreThreshold: [0.6, 0.7], matchIouHigh: [0.2, 0.3], maxAgeS: [0.5, 1], minHits: [2, 3] };

function expand(grid: Grid): TrackerOptionsInput[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(grid)) out = out.flatMap((o) => values.map((v) => ({ ...o, [k]: v })));
  // newTrackThreshold must be >= highScoreThreshold.
  return out.filter((o) => (o['newTrackThreshold'] ?? 1) >= (o['highScoreThreshold'] ?? 0)) as TrackerOptionsInput[];
}

const quick = process.argv.includes('--quick');
const configs = expand(quick ? QUICK : FULL);
const seqs = loadSequences();
const t0 = performance.now();
// mota[c][s], idsw[c][s]
const mota: number[][] = [];
const idsw: number[][] = [];
configs.forEach((c, ci) => {
  const m = seqs.map((s) => score(s, c));
  mota.push(m.map((x) => x.mota));
  idsw.push(m.map((x) => x.numSwitches));
  if (ci % 20 === 19) process.stderr.write(`${ci + 1}/${configs.length} configs, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
});

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Best config index by mean MOTA over the sequences `on` (ties: fewer identity switches). */
function best(on: number[]): number {
  let bi = 0;
  let bm = -Infinity;
  let bs = Infinity;
  configs.forEach((_, ci) => {
    const m = mean(on.map((s) => mota[ci]![s]!));
    const sw = on.reduce((a, s) => a + idsw[ci]![s]!, 0);
    if (m > bm + 1e-12 || (Math.abs(m - bm) <= 1e-12 && sw < bs)) [bi, bm, bs] = [ci, m, sw];
  });
  return bi;
}

const pct = (v: number) => (100 * v).toFixed(1);
const all = seqs.map((_, i) => i);
const lines = [
  `Leave-one-sequence-out over ${seqs.length} MOT15 sequences, ${configs.length} option sets (${((performance.now() - t0) / 1000).toFixed(0)} s, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'})`,
  '',
  '| held-out sequence | options chosen on the others | held-out MOTA % | IDsw | SORT MOTA % | SORT IDsw |',
  '|---|---|---:|---:|---:|---:|',
];
for (const s of all) {
  const ci = best(all.filter((x) => x !== s));
  const seq = seqs[s]!;
  lines.push(`| ${seq.name} | \`${JSON.stringify(configs[ci])}\` | ${pct(mota[ci]![s]!)} | ${idsw[ci]![s]} | ${seq.sort ? seq.sort.mota.toFixed(1) : '-'} | ${seq.sort?.idsw ?? '-'} |`);
}
const ci = best(all);
lines.push('', `Chosen on all sequences: \`${JSON.stringify(configs[ci])}\`, mean MOTA ${pct(mean(mota[ci]!))} %`);
console.log(lines.join('\n'));
