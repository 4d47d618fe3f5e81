import { basename, extname } from 'node:path';
import { z } from 'zod';
import { cocoRleSchema, type CocoRle } from '../protocol/index.js';

/** A box as COCO writes it: top-left x, y, width, height, px (no +1). */
export type CocoBbox = [x: number, y: number, w: number, h: number];

/**
 * One detection in COCO's results format (what pycocotools' `loadRes` reads). `file_name` and
 * `category_name` are segstream's additions; the evaluator ignores them.
 */
export interface CocoResult {
  image_id: number;
  category_id: number;
  bbox: CocoBbox;
  score: number;
  segmentation?: CocoRle;
  file_name?: string;
  category_name?: string;
}

const finite = z.number().finite();
const resultSchema = z.object({
  image_id: z.number().int(),
  category_id: z.number().int(),
  bbox: z.tuple([finite, finite, finite.min(0), finite.min(0)]),
  score: finite,
  segmentation: cocoRleSchema.optional(),
  file_name: z.string().optional(),
  category_name: z.string().optional(),
});
const resultsSchema = z.array(resultSchema);

/** Checks a parsed results file; throws TypeError naming the first bad entry. */
export function parseCocoResults(json: unknown): CocoResult[] {
  const r = resultsSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new TypeError(`not COCO results: at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data as CocoResult[];
}

/**
 * COCO image ids for a set of image files: the number in the file name when the name without
 * its extension is all digits (`000000000009.jpg` -> 9), else the file's index among the file
 * names sorted by UTF-16 code units (JavaScript's default sort; Python's `sorted` agrees on
 * BMP names). Returned in the order given. Throws when two files would share an id.
 */
export function cocoImageIds(files: readonly string[]): number[] {
  const names = files.map((f) => basename(f));
  const position = new Map([...names].sort().map((name, i) => [name, i] as const));
  const ids = names.map((name) => {
    const stem = name.slice(0, name.length - extname(name).length);
    return /^\d+$/.test(stem) ? Number(stem) : position.get(name)!;
  });
  const seen = new Map<number, string>();
  ids.forEach((id, i) => {
    const other = seen.get(id);
    if (other !== undefined) throw new RangeError(`image id ${id} given to both ${other} and ${names[i]!}`);
    seen.set(id, names[i]!);
  });
  return ids;
}
