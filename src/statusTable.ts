import type { Subscription } from 'rxjs';
import type { App } from './app.js';

/** What the live table shows per camera, from the app's own streams. */
interface CameraRow {
  framesIn: number;
  processed: number;
  latencyMs: number;
  objects: number;
  dropped: number;
}

export interface StatusTableOptions {
  /** Redraw period, ms. */
  intervalMs?: number;
  /** Where to draw (an interactive terminal). */
  out?: NodeJS.WriteStream;
}

/**
 * The operator's view on an interactive terminal: one line per camera (state, frames in and
 * processed per second, latency, objects in the newest frame, frames dropped), redrawn in place
 * every second. Only for a TTY: when stdout is not one, nothing is drawn and the JSON logs
 * (stderr) are the record. Returns a stop function.
 */
export function startStatusTable(app: App, options: StatusTableOptions = {}): () => void {
  const out = options.out ?? process.stdout;
  if (!out.isTTY) return () => undefined;
  const rows = new Map<string, CameraRow>();
  const row = (camera: string): CameraRow => {
    let r = rows.get(camera);
    if (r === undefined) rows.set(camera, (r = { framesIn: 0, processed: 0, latencyMs: 0, objects: 0, dropped: 0 }));
    return r;
  };
  const subs: Subscription[] = app.sources.map((s) => s.frames$.subscribe(() => row(s.camera).framesIn++));
  subs.push(
    app.published$.subscribe(({ message, latencyMs }) => {
      const r = row(message.camera);
      r.processed++;
      r.latencyMs = latencyMs;
      r.objects = message.objects.length;
      r.dropped = message.dropped;
    }),
  );
  let drawn = 0;
  let last = new Map<string, { framesIn: number; processed: number; at: number }>();
  const draw = (): void => {
    const now = Date.now();
    const lines = [pad(['camera', 'state', 'in fps', 'out fps', 'latency', 'objects', 'dropped'])];
    const next = new Map<string, { framesIn: number; processed: number; at: number }>();
    for (const s of app.sources) {
      const r = row(s.camera);
      const before = last.get(s.camera);
      const dt = before ? (now - before.at) / 1000 : 0;
      const rate = (n: number, m: number | undefined) => (dt > 0 && m !== undefined ? ((n - m) / dt).toFixed(1) : '-');
      lines.push(pad([s.camera, s.status.state, rate(r.framesIn, before?.framesIn), rate(r.processed, before?.processed), r.processed ? `${Math.round(r.latencyMs)} ms` : '-', String(r.objects), String(r.dropped)]));
      next.set(s.camera, { framesIn: r.framesIn, processed: r.processed, at: now });
    }
    last = next;
    // Back to the table's first line, then each line cleared and rewritten.
    out.write((drawn > 0 ? `\x1b[${drawn}F` : '') + lines.map((l) => `\x1b[2K${l}\n`).join(''));
    drawn = lines.length;
  };
  draw();
  const timer = setInterval(draw, options.intervalMs ?? 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const s of subs) s.unsubscribe();
  };
}

const WIDTHS = [16, 13, 8, 8, 10, 8, 8];

function pad(cells: string[]): string {
  return cells.map((c, i) => c.slice(0, WIDTHS[i]! + 8).padEnd(WIDTHS[i]!)).join(' ');
}
