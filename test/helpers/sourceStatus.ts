import { filter, firstValueFrom, timeout } from 'rxjs';
import type { CameraSource, SourceStatus } from '../../src/ingest/index.js';

/** Every status the source reports from now on (the current one first). */
export function statesOf(s: CameraSource): SourceStatus[] {
  const seen: SourceStatus[] = [];
  s.status$.subscribe((st) => seen.push(st));
  return seen;
}

/** The first status (current or future) that satisfies `pred`; rejects after `ms`. */
export function statusWhere(s: CameraSource, pred: (st: SourceStatus) => boolean, ms: number): Promise<SourceStatus> {
  return firstValueFrom(s.status$.pipe(filter(pred), timeout(ms)));
}
