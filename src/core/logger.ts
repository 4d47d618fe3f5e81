import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stderr, so stdout stays free for command output (e.g. `segstream mot`). */
export function createLogger(level: string = process.env['SEGSTREAM_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level, base: { service: 'segstream' } }, pino.destination(2));
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
