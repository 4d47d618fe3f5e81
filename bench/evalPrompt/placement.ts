import type { Detections } from '../../src/core/index.js';

/** x1, y1, x2, y2, source-frame px. */
export type Box = readonly [number, number, number, number];

/** COCO class names counted as vehicles (looked up in SegmentedFrame.classNames). */
export const VEHICLE_CLASSES = ['bicycle', 'car', 'motorcycle', 'bus', 'truck'] as const;

export const PROMPT_ROLES = ['largest', 'median', 'smallest', 'lowest score'] as const;
export type PromptRole = (typeof PROMPT_ROLES)[number];

/** How long after the clip's first frame a prompt frame may be, ms. */
export const PROMPT_WINDOW_MS = 2000;
/** A prompt frame should show at least this many vehicles. */
export const MIN_VEHICLES = 2;

/**
 * The placement rule, printed with the results. Label-free and fixed before looking at the
 * clips: it picks boxes by rank (area, score) only, so small distant vehicles with low scores
 * are prompted whenever the frame has them.
 */
export const PLACEMENT_RULE =
  `prompt frame: the clip's first frame if it has >= ${MIN_VEHICLES} vehicles (${VEHICLE_CLASSES.join(', ')}), ` +
  `else the first frame within ${PROMPT_WINDOW_MS / 1000} s that has, else the first within it with one; ` +
  'prompts: the largest box, the box at the median area (rank floor((n-1)/2) by ascending area), the smallest box ' +
  'and the lowest-score box, each detection at most once (claimed by largest, smallest, median, lowest score in turn; so up to 4); ' +
  'the prompt box is the detection box';

export interface Candidate {
  /** Index in the frame's Detections. */
  readonly index: number;
  readonly box: Box;
  readonly score: number;
  readonly className: string;
  /** Box area, px². */
  readonly area: number;
}

export interface PlacedPrompt extends Candidate {
  readonly role: PromptRole;
}

export type DetectionLike = Pick<Detections, 'length' | 'boxes' | 'scores' | 'classIds'>;

/** The frame's vehicle detections, in detection order. */
export function vehicleCandidates(det: DetectionLike, classNames: readonly string[]): Candidate[] {
  const vehicles = new Set<string>(VEHICLE_CLASSES);
  const out: Candidate[] = [];
  for (let i = 0; i < det.length; i++) {
    const className = classNames[det.classIds[i]!] ?? `class${det.classIds[i]}`;
    if (!vehicles.has(className)) continue;
    const b = det.boxes;
    const box: Box = [b[i * 4]!, b[i * 4 + 1]!, b[i * 4 + 2]!, b[i * 4 + 3]!];
    out.push({ index: i, box, score: det.scores[i]!, className, area: (box[2] - box[0]) * (box[3] - box[1]) });
  }
  return out;
}

/** Up to four prompts by the rule in PLACEMENT_RULE; ties go to the earlier detection. */
export function placePrompts(candidates: readonly Candidate[]): PlacedPrompt[] {
  if (candidates.length === 0) return [];
  // Stable sorts: equal keys keep detection order.
  const byArea = [...candidates].sort((a, b) => a.area - b.area);
  const byScore = [...candidates].sort((a, b) => a.score - b.score);
  const largest = [...candidates].sort((a, b) => b.area - a.area)[0]!;
  // Claimed in this order, so with two vehicles the second is 'smallest', not 'median'.
  const picks: [PromptRole, Candidate][] = [
    ['largest', largest],
    ['smallest', byArea[0]!],
    ['median', byArea[Math.floor((byArea.length - 1) / 2)]!],
    ['lowest score', byScore[0]!],
  ];
  const used = new Set<number>();
  const out: PlacedPrompt[] = [];
  for (const [role, c] of picks) {
    if (used.has(c.index)) continue;
    used.add(c.index);
    out.push({ ...c, role });
  }
  return out.sort((a, b) => PROMPT_ROLES.indexOf(a.role) - PROMPT_ROLES.indexOf(b.role));
}

/**
 * Index of the prompt frame (see PLACEMENT_RULE), or null when no frame within the window
 * shows a vehicle. `pts` is media time, ms.
 */
export function choosePromptFrame(
  frames: readonly { pts: number; vehicles: number }[],
  windowMs = PROMPT_WINDOW_MS,
  minVehicles = MIN_VEHICLES,
): number | null {
  const first = frames[0];
  if (!first) return null;
  const inWindow = frames.filter((f) => f.pts - first.pts <= windowMs).length;
  for (const need of [minVehicles, 1]) {
    for (let i = 0; i < inWindow; i++) if (frames[i]!.vehicles >= need) return i;
  }
  return null;
}
