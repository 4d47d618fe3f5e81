/**
 * Runs ByteTracker (default options) on the MOT15 public detections of TUD-Campus and
 * TUD-Stadtmitte, scores the result against ground truth with our py-motmetrics-equivalent
 * evaluation (IoU >= 0.5), and prints a markdown table beside SORT's published row.
 *
 *   npx tsx bench/eval-mot.ts
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluateMot, type MotMetrics } from '../src/eval/index.js';
import { parseMotDetections, runTrackerOnMot, DEFAULT_TRACKER_OPTIONS } from '../src/tracking/index.js';

const MOT15 = fileURLToPath(new URL('../../shared/data/mot/MOT15/', import.meta.url));
const SEQUENCES = ['TUD-Campus', 'TUD-Stadtmitte'] as const;

const pct = (v: number) => (100 * v).toFixed(1);

function row(name: string, m: MotMetrics, ms: number): string {
  return `| ${name} | ${pct(m.mota)} | ${pct(1 - m.motp)} | ${pct(m.idf1)} | ${m.numSwitches} | ${m.numFalsePositives} | ${m.numMisses} | ${m.mostlyTracked} | ${m.mostlyLost} | ${ms.toFixed(1)} |`;
}

const lines = [
  '| Sequence / tracker | MOTA % | MOTP (IoU) % | IDF1 % | IDsw | FP | FN | MT | ML | track ms |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const seq of SEQUENCES) {
  const gt = parseMotDetections(readFileSync(`${MOT15}${seq}/gt/gt.txt`, 'utf8'));
  const det = parseMotDetections(readFileSync(`${MOT15}${seq}/det/det.txt`, 'utf8'));
  const t0 = performance.now();
  const rows = runTrackerOnMot(det);
  const ms = performance.now() - t0;
  lines.push(row(`${seq} / segstream ByteTracker`, evaluateMot(gt, rows), ms));
  if (seq === 'TUD-Campus') {
    // abewley/sort README (MOTChallenge devkit); MOTP, IDF1, MT, ML not published there.
    lines.push(`| ${seq} / SORT (published) | 62.7 | - | - | 6 | 15 | 113 | - | - | - |`);
  }
}
console.log(lines.join('\n'));
console.log(`\nOptions: ${JSON.stringify(DEFAULT_TRACKER_OPTIONS)}`);
console.log('MOT results hold matched tracks only (no predicted rows), as SORT writes them.');
