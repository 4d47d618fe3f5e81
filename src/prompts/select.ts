import { boxIou, maskHas, type Detections, type MaskCrop } from '../core/index.js';
import { promptError } from './errors.js';
import type { Prompt } from './schema.js';
import type { RgbImage } from './image.js';

/**
 * Prompt selection on one frame's Detections (FastSAM stage 2), pure and synchronous except
 * for the CLIP text path. Every function returns detection indices (ascending) or throws
 * E_PROMPT_NO_MATCH; nothing here keeps state.
 */

export type SelectionMethod = 'points' | 'box' | 'class' | 'clip';

export interface Selection {
  /** Selected detection indices, ascending, never empty. */
  readonly indices: number[];
  readonly method: SelectionMethod;
  /**
   * Per detection: box -> mask-vs-box IoU; clip -> softmax probability (0 for masks too small
   * to score). Absent for points and class names.
   */
  readonly scores?: Float32Array;
}


/**
 * Does detection i cover the point (source px)? With a mask: the pixel containing the point
 * is set; without one (a detector that decoded no mask): the point lies in the box.
 */
export function detectionContains(det: Detections, i: number, x: number, y: number): boolean {
  const mask = det.masks[i] ?? null;
  if (mask !== null) return maskHas(mask, Math.floor(x), Math.floor(y));
  const [x1, y1, x2, y2] = det.box(i);
  return x >= x1 && x < x2 && y >= y1 && y < y2;
}

/**
 * FastSAM point_prompt: the masks containing any foreground point, minus the masks containing
 * any background point, merged into one target (all indices are returned). FastSAM sums and
 * subtracts masks pixel by pixel; we select whole objects, which is what a tracked target
 * needs: a background point on an object removes that object, not just the overlap.
 */
export function selectByPoints(det: Detections, points: readonly { x: number; y: number; label: 0 | 1 }[]): number[] {
  const fg = points.filter((p) => p.label === 1);
  if (fg.length === 0) {
    throw promptError('E_PROMPT_NO_MATCH', 'point prompt has no foreground point (label 1), so it selects nothing', {
      expected: 'at least one point with label 1',
      actual: points.length,
    });
  }
  const bg = points.filter((p) => p.label === 0);
  const hit: number[] = [];
  let removed = 0;
  for (let i = 0; i < det.length; i++) {
    if (!fg.some((p) => detectionContains(det, i, p.x, p.y))) continue;
    if (bg.some((p) => detectionContains(det, i, p.x, p.y))) removed++;
    else hit.push(i);
  }
  if (hit.length === 0) {
    throw promptError(
      'E_PROMPT_NO_MATCH',
      removed > 0
        ? `every object under the foreground points also lies under a background point (${removed} removed)`
        : 'no object lies under the foreground points',
      { expected: 'an object mask under a foreground point', actual: { objects: det.length, removed } },
    );
  }
  return hit;
}

/**
 * FastSAM box_prompt IoU between a mask and a prompt box: the box is rounded to whole px and
 * clipped to the mask's frame, the intersection counts mask pixels inside it, and
 * union = box area + mask area - intersection.
 */
export function maskBoxIou(mask: MaskCrop, box: readonly [number, number, number, number]): number {
  const bx1 = Math.max(0, Math.round(box[0]));
  const by1 = Math.max(0, Math.round(box[1]));
  const bx2 = Math.round(box[2]);
  const by2 = Math.round(box[3]);
  const boxArea = Math.max(0, bx2 - bx1) * Math.max(0, by2 - by1);
  let area = 0;
  let inter = 0;
  const { width, height, data } = mask;
  for (let my = 0; my < height; my++) {
    const py = mask.y + my;
    const rowIn = py >= by1 && py < by2;
    const row = my * width;
    for (let mx = 0; mx < width; mx++) {
      if (data[row + mx] === 0) continue;
      area++;
      const px = mask.x + mx;
      if (rowIn && px >= bx1 && px < bx2) inter++;
    }
  }
  const union = boxArea + area - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * FastSAM box_prompt: the single detection whose mask best overlaps the box (mask-vs-box IoU,
 * as FastSAM computes it, so a large box around a small object is not won by a huge mask
 * whose bounding box happens to match). Detections without a mask fall back to box-vs-box
 * IoU. Ties go to the earlier detection. The best IoU must be > 0.
 */
export function selectByBox(det: Detections, box: readonly [number, number, number, number]): Selection {
  const scores = new Float32Array(det.length);
  let best = -1;
  let bestIou = 0;
  for (let i = 0; i < det.length; i++) {
    const mask = det.masks[i] ?? null;
    const iou = mask !== null ? maskBoxIou(mask, box) : boxIou(box, 0, det.boxes, i * 4);
    scores[i] = iou;
    if (iou > bestIou) {
      bestIou = iou;
      best = i;
    }
  }
  if (best < 0) {
    throw promptError('E_PROMPT_NO_MATCH', `no object overlaps the box [${box.join(', ')}]`, {
      expected: 'IoU > 0 with some object',
      actual: { objects: det.length, bestIou: 0 },
    });
  }
  return { indices: [best], method: 'box', scores };
}

/** A word (lowercase, singular) -> the class names it stands for. */
export type SynonymTable = ReadonlyMap<string, readonly string[]>;

/**
 * Words a text prompt may use for class names. A synonym maps to the class names it stands
 * for; names the model does not have are ignored. A Map, so that a prompt such as
 * "constructor" finds nothing rather than Object.prototype.
 */
export const DEFAULT_SYNONYMS: SynonymTable = new Map<string, readonly string[]>([
  ['vehicle', ['car', 'bus', 'truck', 'motorcycle']],
  ['motor vehicle', ['car', 'bus', 'truck', 'motorcycle']],
  ['automobile', ['car']],
  ['auto', ['car']],
  ['van', ['car', 'truck']],
  ['lorry', ['truck']],
  ['pickup', ['truck']],
  ['coach', ['bus']],
  ['bike', ['bicycle', 'motorcycle']],
  ['cycle', ['bicycle']],
  ['motorbike', ['motorcycle']],
  ['scooter', ['motorcycle']],
  ['person', ['person']],
  ['people', ['person']],
  ['pedestrian', ['person']],
  ['human', ['person']],
  ['man', ['person']],
  ['men', ['person']],
  ['woman', ['person']],
  ['women', ['person']],
  ['child', ['person']],
  ['children', ['person']],
  ['kid', ['person']],
  ['plane', ['airplane']],
  ['aeroplane', ['airplane']],
  ['aircraft', ['airplane']],
  ['ship', ['boat']],
  ['television', ['tv']],
  ['monitor', ['tv']],
  ['phone', ['cell phone']],
  ['cellphone', ['cell phone']],
  ['mobile phone', ['cell phone']],
  ['sofa', ['couch']],
  ['hydrant', ['fire hydrant']],
  ['traffic signal', ['traffic light']],
  ['puppy', ['dog']],
  ['kitten', ['cat']],
  ['animal', ['bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe']],
]);

/** Leading words a caption-style prompt may carry ("a photo of a truck" -> "truck"). */
const FILLER = /^(?:(?:a|an|the|photo|picture|image|of|all|every|any|some|this|that|these|those)\s+)+/;

/** "Trucks", " the  TRAFFIC LIGHTS " -> the lowercase forms to look up, most literal first. */
export function textCandidates(text: string): string[] {
  const base = text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}\s-]+/gu, ' ').replace(/\s+/g, ' ').trim();
  const stripped = base.replace(FILLER, '');
  const out: string[] = [];
  for (const phrase of stripped === base ? [base] : [base, stripped]) {
    if (phrase === '') continue;
    out.push(phrase);
    const words = phrase.split(' ');
    const last = words.pop()!;
    for (const s of singulars(last)) out.push([...words, s].join(' '));
  }
  return [...new Set(out)];
}

/** English plural -> candidate singulars (buses -> bus, ponies -> pony, knives -> knife, cars -> car). */
function singulars(w: string): string[] {
  const out: string[] = [];
  if (w.length > 3 && w.endsWith('ies')) out.push(`${w.slice(0, -3)}y`);
  if (w.length > 3 && w.endsWith('ves')) out.push(`${w.slice(0, -3)}f`, `${w.slice(0, -3)}fe`);
  if (w.length > 3 && /(?:s|x|z|ch|sh)es$/.test(w)) out.push(w.slice(0, -2));
  if (w.length > 2 && w.endsWith('s') && !w.endsWith('ss')) out.push(w.slice(0, -1));
  return out;
}

/**
 * Class ids a text names: a class name itself (case-insensitive, singular or plural), or a
 * synonym. Throws E_PROMPT_NO_MATCH when the text names no class of this model.
 */
export function resolveClassQuery(
  text: string,
  classNames: readonly string[],
  synonyms: SynonymTable = DEFAULT_SYNONYMS,
): number[] {
  const byName = new Map<string, number[]>();
  classNames.forEach((n, id) => {
    const key = n.toLowerCase().trim();
    byName.set(key, [...(byName.get(key) ?? []), id]);
  });
  for (const c of textCandidates(text)) {
    const direct = byName.get(c);
    if (direct) return direct;
    const syn = synonyms.get(c);
    if (syn) {
      const ids = syn.flatMap((n) => byName.get(n.toLowerCase()) ?? []);
      if (ids.length > 0) return [...new Set(ids)].sort((a, b) => a - b);
    }
  }
  throw promptError('E_PROMPT_NO_MATCH', `'${text}' names no class of this model (and no CLIP text encoder is configured)`, {
    expected: classNames.length <= 100 ? classNames : `one of ${classNames.length} class names`,
    actual: text,
  });
}

/** Text prompt without CLIP: every detection of the classes the text names. */
export function selectByClassName(
  det: Detections,
  text: string,
  classNames: readonly string[],
  synonyms?: SynonymTable,
): number[] {
  const ids = new Set(resolveClassQuery(text, classNames, synonyms));
  const hit: number[] = [];
  for (let i = 0; i < det.length; i++) if (ids.has(det.classIds[i]!)) hit.push(i);
  if (hit.length === 0) {
    throw promptError('E_PROMPT_NO_MATCH', `no '${text}' in this frame`, {
      expected: [...ids].map((id) => classNames[id] ?? `class${id}`),
      actual: { objects: det.length },
    });
  }
  return hit;
}

/** Ranks a frame's masks against a text; implemented by ClipTextSelector (clip.ts). */
export interface TextSelector {
  /**
   * Probabilities over the detections (softmax of scaled cosine similarity) and the argmax.
   * `image` is the frame the detections were made on. Throws E_PROMPT_NO_MATCH when no mask
   * can be scored.
   */
  selectByText(text: string, det: Detections, image: RgbImage): Promise<{ index: number; probabilities: Float32Array }>;
}

export interface SelectContext {
  /** The detector's class names (ModelInfo.classNames). */
  readonly classNames: readonly string[];
  readonly synonyms?: SynonymTable;
  /** When set (and `image` given), text prompts use CLIP instead of class names. */
  readonly textSelector?: TextSelector;
  /** The frame's picture, needed by the CLIP path. */
  readonly image?: RgbImage;
}

/** Points, box and class-name text: the synchronous core. */
export function selectSync(prompt: Prompt, det: Detections, ctx: SelectContext): Selection {
  if (det.length === 0) {
    throw promptError('E_PROMPT_NO_MATCH', 'the frame has no objects to select', { expected: '>= 1 object', actual: 0 });
  }
  switch (prompt.kind) {
    case 'points':
      return { indices: selectByPoints(det, prompt.points), method: 'points' };
    case 'box':
      return selectByBox(det, prompt.box);
    case 'text':
      return { indices: selectByClassName(det, prompt.text, ctx.classNames, ctx.synonyms), method: 'class' };
  }
}

/** Like selectSync, but a text prompt goes to the CLIP selector when one is configured. */
export async function select(prompt: Prompt, det: Detections, ctx: SelectContext): Promise<Selection> {
  if (prompt.kind !== 'text' || ctx.textSelector === undefined || ctx.image === undefined) return selectSync(prompt, det, ctx);
  if (det.length === 0) {
    throw promptError('E_PROMPT_NO_MATCH', 'the frame has no objects to select', { expected: '>= 1 object', actual: 0 });
  }
  const r = await ctx.textSelector.selectByText(prompt.text, det, ctx.image);
  return { indices: [r.index], method: 'clip', scores: r.probabilities };
}

/**
 * Track ids of the selected detections (Detections.trackIds, e.g. from trackedToDetections),
 * in selection order without duplicates. Throws E_PROMPT_NO_MATCH when none is tracked yet.
 */
export function trackIdsOf(det: Detections, indices: readonly number[]): number[] {
  const ids = [...new Set(indices.map((i) => det.trackIds[i] ?? -1).filter((id) => id >= 0))];
  if (ids.length === 0) {
    throw promptError('E_PROMPT_NO_MATCH', 'the selected objects are not tracked yet; try again in a moment', {
      expected: 'a tracked object',
      actual: { selected: indices.length, tracked: 0 },
    });
  }
  return ids;
}
