import { readFile, writeFile } from 'node:fs/promises';
import { SegstreamError } from '../core/index.js';
import { DEFAULT_MOT_FPS, formatMotResults, parseMotDetections, runTrackerOnMot } from './mot.js';
import { parseTrackerOptions, type TrackerOptionsInput } from './options.js';

export type MotCommandOptions = {
  /** MOTChallenge detections file (`det.txt`). */
  det: string;
  /** Result file to write (MOTChallenge format). */
  out: string;
  /** Also write predicted (unmatched) objects; default false, as SORT. */
  includePredicted?: boolean;
  /** The sequence's frame rate (MOTChallenge files have no timestamps); default 30. */
  fps?: number;
} & TrackerOptionsInput;

/**
 * `segstream mot --det det.txt --out result.txt`: tracks MOTChallenge detections offline.
 * Tracker options are validated before the file is read (E_CONFIG); an unreadable det file
 * gives E_SOURCE_UNREADABLE.
 */
export async function motCommand(opts: MotCommandOptions): Promise<void> {
  const { det, out, includePredicted, fps, ...trackerInput } = opts;
  const options = parseTrackerOptions(trackerInput);
  if (fps !== undefined && !(Number.isFinite(fps) && fps > 0 && fps <= 1000)) {
    throw new SegstreamError('E_CONFIG', '--fps must be a frame rate in (0, 1000]', { expected: '(0, 1000]', actual: fps });
  }
  let text: string;
  try {
    text = await readFile(det, 'utf8');
  } catch (err) {
    throw new SegstreamError('E_SOURCE_UNREADABLE', `cannot read detections ${det}`, { cause: err });
  }
  const rows = runTrackerOnMot(parseMotDetections(text), options, { includePredicted: includePredicted ?? false, fps: fps ?? DEFAULT_MOT_FPS });
  await writeFile(out, formatMotResults(rows));
}
