import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { parse as parseYaml } from 'yaml';
import type { CocoCategory, CocoGroundTruth, CocoGtAnnotation, CocoImage } from './cocoEval.js';
import { cocoImageIds } from './cocoResults.js';
import { polygonBbox, rasterizePolygon } from './polygon.js';
import { runLengthsFromBitmap } from './runLengths.js';

/** Image file extensions a dataset folder is read for (Ultralytics' IMG_FORMATS, the ones sharp decodes). */
export const IMAGE_EXTENSIONS = ['.bmp', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp'] as const;

export interface YoloSegOptions {
  /** Folder of label files; default: the images folder with its last `images` component replaced by `labels` (as Ultralytics). */
  readonly labels?: string;
  /** Class names by index; default: none (categories are then the classes that occur in the labels). */
  readonly names?: readonly string[];
}

/** A YOLO segmentation data set as COCO ground truth, plus the image files in image-id order. */
export interface YoloSegDataset extends CocoGroundTruth {
  readonly images: readonly (CocoImage & { readonly file_name: string; readonly path: string })[];
}

/** The image files of a folder (not recursive), sorted by name. */
export function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f));
}

/** Ultralytics' img2label_paths for a folder: the last `/images/` becomes `/labels/`. */
export function labelsDirFor(imagesDir: string): string {
  const p = join(imagesDir, sep);
  const i = p.lastIndexOf(`${sep}images${sep}`);
  if (i < 0) throw new RangeError(`cannot find the labels of ${imagesDir}: no 'images' folder in the path; give the labels folder`);
  return resolve(p.slice(0, i), 'labels', p.slice(i + `${sep}images${sep}`.length));
}

/** Class names from a data set's YAML (`names:` as a list or as an index -> name map). */
export function readClassNames(yamlFile: string): string[] {
  const doc = parseYaml(readFileSync(yamlFile, 'utf8')) as { names?: unknown } | null;
  const names = doc?.names;
  if (Array.isArray(names)) return names.map(String);
  if (names !== null && typeof names === 'object') {
    const out: string[] = [];
    for (const [k, v] of Object.entries(names)) out[Number(k)] = String(v);
    return out;
  }
  throw new TypeError(`${yamlFile} has no 'names'`);
}

/**
 * Reads a YOLO-format segmentation data set (one `class x1 y1 x2 y2 ...` line per instance,
 * coordinates normalised to 0..1, one polygon per line) as COCO ground truth: category id =
 * class index, polygon in px (times the image's width and height as sharp reads them, EXIF
 * orientation not applied), box = the polygon's bounding box, mask = the polygon rasterised at
 * image resolution by `rasterizePolygon` (pixel centre inside, even-odd). An image without a
 * label file has no instances (its detections are all false positives). Image ids as
 * `cocoImageIds`.
 */
export async function loadYoloSegDataset(imagesDir: string, options: YoloSegOptions = {}): Promise<YoloSegDataset> {
  const labelsDir = options.labels ?? labelsDirFor(imagesDir);
  const files = listImages(imagesDir);
  const ids = cocoImageIds(files);
  const images: (CocoImage & { file_name: string; path: string })[] = [];
  const annotations: CocoGtAnnotation[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < files.length; i++) {
    const path = files[i]!;
    const meta = await sharp(path).metadata();
    const width = meta.width;
    const height = meta.height;
    if (!width || !height) throw new TypeError(`cannot read the size of ${path}`);
    const id = ids[i]!;
    images.push({ id, width, height, file_name: basename(path), path });
    const labelFile = join(labelsDir, `${basename(path, extname(path))}.txt`);
    if (!existsSync(labelFile)) continue;
    for (const inst of parseYoloSegLabels(readFileSync(labelFile, 'utf8'), labelFile)) {
      const poly = inst.points.map((v, k) => v * (k % 2 === 0 ? width : height));
      seen.add(inst.classId);
      annotations.push({
        image_id: id,
        category_id: inst.classId,
        bbox: polygonBbox(poly),
        mask: runLengthsFromBitmap(rasterizePolygon(poly, width, height), width, height),
      });
    }
  }
  const categories: CocoCategory[] =
    options.names !== undefined
      ? options.names.map((name, id) => ({ id, name }))
      : [...seen].sort((a, b) => a - b).map((id) => ({ id }));
  return { images: images.sort((a, b) => a.id - b.id), categories, annotations };
}

/** The lines of one YOLO segmentation label file; throws SyntaxError naming the line of a malformed one. */
export function parseYoloSegLabels(text: string, where = 'labels'): { classId: number; points: number[] }[] {
  const out: { classId: number; points: number[] }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const tokens = line.trim().split(/\s+/).filter((t) => t !== '');
    if (tokens.length === 0) return;
    const nums = tokens.map(Number);
    const classId = nums[0]!;
    if (!Number.isInteger(classId) || classId < 0 || nums.some((v) => !Number.isFinite(v))) {
      throw new SyntaxError(`${where}:${i + 1}: not a 'class x1 y1 x2 y2 ...' line`);
    }
    if (tokens.length < 7 || tokens.length % 2 === 0) {
      throw new SyntaxError(`${where}:${i + 1}: a polygon needs at least 3 x y pairs after the class, got ${tokens.length - 1} numbers`);
    }
    out.push({ classId, points: nums.slice(1) });
  });
  return out;
}
