import { createWriteStream, type WriteStream } from 'node:fs';

export interface LogEntryCount {
  level: number;
  msg: string;
  /** The entry's `code` and `camera` fields, when it has them. */
  code?: string;
  camera?: string;
  count: number;
  /** Date.now() of the first one. */
  first: number;
  /** The first such line (cut to 400 characters). */
  example: string;
}

export const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * A pino destination that counts the service's log entries by level, message, code and
 * camera (memory stays bounded however long the soak runs) and, when given a path, also
 * appends every line to that file.
 */
export class LogSink {
  private readonly entries = new Map<string, LogEntryCount>();
  private readonly out: WriteStream | undefined;
  readonly byLevel = new Map<number, number>();

  constructor(file?: string) {
    this.out = file ? createWriteStream(file, { flags: 'a' }) : undefined;
  }

  write(line: string): void {
    this.out?.write(line);
    let e: { level?: unknown; msg?: unknown; code?: unknown; camera?: unknown; time?: unknown };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      return;
    }
    const level = typeof e.level === 'number' ? e.level : 0;
    this.byLevel.set(level, (this.byLevel.get(level) ?? 0) + 1);
    const msg = typeof e.msg === 'string' ? e.msg : '';
    const code = typeof e.code === 'string' ? e.code : undefined;
    const camera = typeof e.camera === 'string' ? e.camera : undefined;
    const key = JSON.stringify([level, msg, code, camera]);
    const known = this.entries.get(key);
    if (known) known.count++;
    else {
      this.entries.set(key, {
        level,
        msg,
        ...(code ? { code } : {}),
        ...(camera ? { camera } : {}),
        count: 1,
        first: typeof e.time === 'number' ? e.time : Date.now(),
        example: line.trim().slice(0, 400),
      });
    }
  }

  /** Entries at `minLevel` or above, most frequent first. */
  counts(minLevel = 0): LogEntryCount[] {
    return [...this.entries.values()].filter((e) => e.level >= minLevel).sort((a, b) => b.level - a.level || b.count - a.count);
  }

  close(): Promise<void> {
    const out = this.out;
    if (!out) return Promise.resolve();
    return new Promise((resolve) => out.end(() => resolve()));
  }
}
