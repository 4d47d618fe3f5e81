import { filter, firstValueFrom, timeout } from 'rxjs';
import { CameraSource, DEFAULT_SOURCE_OPTIONS, parseSourceSpec, type CameraSourceOptions, type SourceStatus } from '../../src/ingest/index.js';

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

/**
 * Makes CameraSources (camera id `id`, model input 320x320 unless `defaults` say otherwise)
 * and stops every one made so far on `stopAll()` (an afterEach).
 */
export function sourceFactory(id: string, defaults: Partial<CameraSourceOptions>): { source(url: string, options?: Partial<CameraSourceOptions>): CameraSource; stopAll(): Promise<void> } {
  const open: CameraSource[] = [];
  const base: CameraSourceOptions = { ...DEFAULT_SOURCE_OPTIONS, modelWidth: 320, modelHeight: 320, ...defaults };
  return {
    source(url, options = {}) {
      const s = new CameraSource(parseSourceSpec(`${id}=${url}`, 0), { ...base, ...options });
      open.push(s);
      return s;
    },
    stopAll: async () => {
      await Promise.all(open.splice(0).map((s) => s.stop()));
    },
  };
}
