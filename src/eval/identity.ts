import type { MotAccumulator } from './accumulator.js';
import { motmetricsAssignment } from './motmetricsLsa.js';

export interface IdentityCounts {
  /** Identity false positives, false negatives, true positives (box counts). */
  readonly idfp: number;
  readonly idfn: number;
  readonly idtp: number;
}

/**
 * Identity measures' global assignment (py-motmetrics `id_global_assignment`, Ristani et
 * al. 2016): every ground-truth id is matched to at most one hypothesis id over the whole
 * sequence, minimising IDFP + IDFN. Square (no + nh) problem: real pairs cost
 * (frames(o) - together) + (frames(h) - together), each id may instead take its own dummy at
 * the cost of all its frames, dummy-dummy pairs cost 0, other dummy pairs are forbidden.
 * "together" counts frames where o and h were within the distance threshold.
 */
export function idGlobalAssignment(acc: MotAccumulator): IdentityCounts {
  const oids = [...acc.objectFrames.keys()];
  const hids = [...acc.hypothesisFrames.keys()];
  const no = oids.length;
  const nh = hids.length;
  const size = no + nh;
  const hIndex = new Map(hids.map((h, c) => [h, c]));
  const fp = new Float64Array(size * size);
  const fn = new Float64Array(size * size);
  for (let r = no; r < size; r++) for (let c = 0; c < nh; c++) fp[r * size + c] = NaN;
  for (let r = 0; r < no; r++) for (let c = nh; c < size; c++) fn[r * size + c] = NaN;
  oids.forEach((o, r) => {
    const oc = acc.objectFrames.get(o)!;
    for (let c = 0; c < nh; c++) fn[r * size + c] = oc;
    fn[r * size + nh + r] = oc;
  });
  hids.forEach((h, c) => {
    const hc = acc.hypothesisFrames.get(h)!;
    for (let r = 0; r < no; r++) fp[r * size + c] = hc;
    fp[(c + no) * size + c] = hc;
  });
  oids.forEach((o, r) => {
    for (const [h, ex] of acc.pairFrames.get(o) ?? []) {
      const c = hIndex.get(h)!;
      fp[r * size + c]! -= ex;
      fn[r * size + c]! -= ex;
    }
  });
  const costs = new Float64Array(size * size);
  for (let k = 0; k < costs.length; k++) costs[k] = fp[k]! + fn[k]!;
  const sol = motmetricsAssignment(costs, size, size);
  let idfp = 0;
  let idfn = 0;
  for (let k = 0; k < sol.rows.length; k++) {
    const at = sol.rows[k]! * size + sol.cols[k]!;
    idfp += fp[at]!;
    idfn += fn[at]!;
  }
  let numObjects = 0;
  for (const e of acc.events) if (e.oid !== null) numObjects++;
  return { idfp, idfn, idtp: numObjects - idfn };
}
