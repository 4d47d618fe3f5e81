/**
 * Runs the tracker (default options) on the public detections of every MOTChallenge sequence
 * under ../shared/data/mot/MOT15/ (or SEGSTREAM_MOT15_DIR: every folder with gt/gt.txt and
 * det/det.txt; frame rate from its seqinfo.ini, else the known table, else 30) at the sequence's own frame rate, scores it against ground truth
 * with our py-motmetrics-equivalent evaluation (IoU >= 0.5), and prints one row per sequence
 * beside SORT's published row where there is one, then the overall figures. A second table runs
 * the same with 2 of 3 frames dropped (a loaded machine): the tracker steps by media time, so
 * the skipped frames are predicted through.
 *
 *   npm run eval:mot
 */
import { cpus } from 'node:os';
import type { MotMetrics } from '../src/eval/index.js';
import { DEFAULT_TRACKER_OPTIONS } from '../src/tracking/index.js';
import { loadSequences, score, type LoadedSequence } from './mot/sequences.js';

const pct = (v: number) => (100 * v).toFixed(1);
const seqs = loadSequences();
if (seqs.length === 0) throw new Error('no MOT15 sequence found under ../shared/data/mot/MOT15/');

function table(title: string, keep?: (frame: number) => boolean): string[] {
  const lines = [
    title,
    '',
    '| Sequence (fps, camera) | MOTA % | SORT MOTA % | IDsw | SORT IDsw | FP | FN | IDF1 % | MOTP (IoU) % | MT | ML | track ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const all: { seq: LoadedSequence; m: MotMetrics }[] = [];
  for (const seq of seqs) {
    const t0 = performance.now();
    const m = score(seq, {}, keep);
    const ms = performance.now() - t0;
    all.push({ seq, m });
    const s = seq.sort;
    lines.push(
      `| ${seq.name} (${seq.fps}, ${seq.camera}) | ${pct(m.mota)} | ${s ? s.mota.toFixed(1) : '-'} | ${m.numSwitches} | ${s?.idsw ?? '-'} | ${m.numFalsePositives} | ${m.numMisses} | ${pct(m.idf1)} | ${pct(1 - m.motp)} | ${m.mostlyTracked} | ${m.mostlyLost} | ${ms.toFixed(0)} |`,
    );
  }
  // Overall: CLEAR-MOT summed over sequences (as the MOTChallenge devkit's "OVERALL" row).
  const sum = (f: (m: MotMetrics) => number) => all.reduce((a, x) => a + f(x.m), 0);
  const gt = sum((m) => m.numObjects);
  const errors = sum((m) => m.numMisses + m.numFalsePositives + m.numSwitches);
  lines.push(`| **overall** (${all.length} sequences) | ${pct(1 - errors / gt)} | | ${sum((m) => m.numSwitches)} | | ${sum((m) => m.numFalsePositives)} | ${sum((m) => m.numMisses)} | | | | | |`);
  const withSort = all.filter((x) => x.seq.sort);
  const better = withSort.filter((x) => 100 * x.m.mota > x.seq.sort!.mota && x.m.numSwitches <= x.seq.sort!.idsw);
  lines.push('', `Sequences with a SORT row where MOTA is above SORT's and IDsw at most SORT's: ${better.length} of ${withSort.length}.`);
  return lines;
}

const out = [
  ...table(`Every frame (${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}):`),
  '',
  ...table('2 of 3 frames dropped (frames 1, 4, 7, ... processed; scored on those frames; SORT columns are its full-rate rows):', (f) => (f - 1) % 3 === 0),
  '',
  `Options: ${JSON.stringify(DEFAULT_TRACKER_OPTIONS)}`,
  'MOT results hold matched tracks only (no predicted rows), as SORT writes them.',
];
console.log(out.join('\n'));
