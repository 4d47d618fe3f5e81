import type { MotAccumulator, MotEvent } from './accumulator.js';
import { idGlobalAssignment } from './identity.js';

/** CLEAR-MOT and identity measures, named and defined as py-motmetrics' summary. */
export interface MotMetrics {
  readonly numFrames: number;
  /** Ground-truth boxes (sum of per-object appearances). */
  readonly numObjects: number;
  readonly numUniqueObjects: number;
  /** Hypothesis boxes. */
  readonly numPredictions: number;
  readonly numMatches: number;
  /** ID switches. */
  readonly numSwitches: number;
  readonly numFalsePositives: number;
  readonly numMisses: number;
  /** Matches + switches. */
  readonly numDetections: number;
  /** Objects tracked for >= 80 % / 20-80 % / < 20 % of their appearances. */
  readonly mostlyTracked: number;
  readonly partiallyTracked: number;
  readonly mostlyLost: number;
  /** Tracked -> missed transitions within each object's tracked span. */
  readonly numFragmentations: number;
  /** 1 - (FN + IDSW + FP) / numObjects. */
  readonly mota: number;
  /** Mean distance (1 - IoU) of matched pairs: lower is better (MOTChallenge reports 1 - this). */
  readonly motp: number;
  readonly precision: number;
  readonly recall: number;
  readonly idfp: number;
  readonly idfn: number;
  readonly idtp: number;
  readonly idp: number;
  readonly idr: number;
  readonly idf1: number;
}

export function computeMotMetrics(acc: MotAccumulator): MotMetrics {
  const ev = acc.events;
  const count = (t: MotEvent['type']) => ev.reduce((n, e) => n + (e.type === t ? 1 : 0), 0);
  const numMatches = count('MATCH');
  const numSwitches = count('SWITCH');
  const numFalsePositives = count('FP');
  const numMisses = count('MISS');
  const numDetections = numMatches + numSwitches;

  // Events per object in frame order (one per object per frame).
  const perObject = new Map<number, MotEvent[]>();
  for (const e of ev) {
    if (e.oid === null) continue;
    let list = perObject.get(e.oid);
    if (list === undefined) perObject.set(e.oid, (list = []));
    list.push(e);
  }
  let numObjects = 0;
  let mostlyTracked = 0;
  let partiallyTracked = 0;
  let mostlyLost = 0;
  let numFragmentations = 0;
  for (const list of perObject.values()) {
    numObjects += list.length;
    const tracked = list.filter((e) => e.type !== 'MISS').length;
    const ratio = tracked / list.length;
    if (ratio >= 0.8) mostlyTracked++;
    else if (ratio >= 0.2) partiallyTracked++;
    else mostlyLost++;
    const first = list.findIndex((e) => e.type !== 'MISS');
    if (first < 0) continue;
    let last = list.length - 1;
    while (list[last]!.type === 'MISS') last--;
    for (let k = first + 1; k <= last; k++) {
      if (list[k]!.type === 'MISS' && list[k - 1]!.type !== 'MISS') numFragmentations++;
    }
  }
  let distSum = 0;
  for (const e of ev) if (e.type === 'MATCH' || e.type === 'SWITCH') distSum += e.distance;
  const numPredictions = numDetections + numFalsePositives;
  const { idfp, idfn, idtp } = idGlobalAssignment(acc);
  return {
    numFrames: new Set(acc.frames).size,
    numObjects,
    numUniqueObjects: perObject.size,
    numPredictions,
    numMatches,
    numSwitches,
    numFalsePositives,
    numMisses,
    numDetections,
    mostlyTracked,
    partiallyTracked,
    mostlyLost,
    numFragmentations,
    mota: 1 - (numMisses + numSwitches + numFalsePositives) / numObjects,
    motp: distSum / numDetections,
    precision: numDetections / (numFalsePositives + numDetections),
    recall: numDetections / numObjects,
    idfp,
    idfn,
    idtp,
    idp: idtp / (idtp + idfp),
    idr: idtp / (idtp + idfn),
    idf1: (2 * idtp) / (numObjects + numPredictions),
  };
}
