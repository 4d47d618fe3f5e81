import { costMatrix, linearSumAssignment } from '../tracking/assignment.js';

/**
 * py-motmetrics' `linear_sum_assignment` with its scipy solver: NaN / infinite entries are
 * replaced by 2 * (largest finite cost) + 1 (1 when none is finite), then a full
 * min(rows, cols) minimum-cost assignment is solved. Callers drop the pairs that were
 * not finite. Reproducing the replacement, not just "forbid", keeps results identical.
 */
export function motmetricsAssignment(
  data: Float64Array,
  rows: number,
  cols: number,
): { rows: Int32Array; cols: Int32Array } {
  let max = -Infinity;
  let anyInvalid = false;
  for (const v of data) {
    if (Number.isFinite(v)) max = Math.max(max, v);
    else anyInvalid = true;
  }
  let costs = data;
  if (anyInvalid) {
    const inv = max === -Infinity ? 1 : 2 * max + 1;
    costs = Float64Array.from(data, (v) => (Number.isFinite(v) ? v : inv));
  }
  return linearSumAssignment(costMatrix(rows, cols, costs));
}
