import type { Subscription } from 'rxjs';
import type { App } from './app.js';

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
  // Latency and objects of each camera's newest published frame; counts come from the cameras.
  const newest = new Map<string, { latencyMs: number; objects: number }>();
  const sub: Subscription = app.published$.subscribe(({ message, latencyMs }) => newest.set(message.camera, { latencyMs, objects: message.objects.length }));
  let drawn = 0;
  let last = new Map<string, { framesIn: number; processed: number; at: number }>();
  const draw = (): void => {
    const now = Date.now();
    const lines = [pad(['camera', 'state', 'in fps', 'out fps', 'latency', 'objects', 'dropped'])];
    const next = new Map<string, { framesIn: number; processed: number; at: number }>();
    for (const cam of app.cameras.list()) {
      const r = { framesIn: cam.source?.framesRead ?? 0, processed: cam.framesProcessed };
      const n = newest.get(cam.id);
      const before = last.get(cam.id);
      const dt = before ? (now - before.at) / 1000 : 0;
      const rate = (x: number, y: number | undefined) => (dt > 0 && y !== undefined ? ((x - y) / dt).toFixed(1) : '-');
      lines.push(
        pad([cam.id, cam.status.state, rate(r.framesIn, before?.framesIn), rate(r.processed, before?.processed), n ? `${Math.round(n.latencyMs)} ms` : '-', String(n?.objects ?? 0), String(cam.framesDropped)]),
      );
      next.set(cam.id, { ...r, at: now });
    }
    for (const id of newest.keys()) if (!next.has(id)) newest.delete(id);
    last = next;
    // Back to the table's first line, each line cleared and rewritten, then whatever a longer
    // table (a removed camera) left below cleared.
    out.write((drawn > 0 ? `\x1b[${drawn}F` : '') + lines.map((l) => `\x1b[2K${l}\n`).join('') + '\x1b[J');
    drawn = lines.length;
  };
  draw();
  const timer = setInterval(draw, options.intervalMs ?? 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    sub.unsubscribe();
  };
}

const WIDTHS = [16, 13, 8, 8, 10, 8, 8];

function pad(cells: string[]): string {
  return cells.map((c, i) => c.slice(0, WIDTHS[i]! + 8).padEnd(WIDTHS[i]!)).join(' ');
}
