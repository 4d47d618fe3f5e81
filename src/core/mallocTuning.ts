import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/**
 * glibc raises its mmap threshold each time a large block is freed; from then on the 0.3-1 MB
 * frame and prototype buffers segstream allocates dozens of times a second come from the
 * heap, which fragments, and RSS creeps up (about 140-170 MiB/h in a 10-minute soak; with the
 * threshold fixed, no growth could be measured: README "Soak"). Blocks above a fixed
 * threshold are always mmapped and go back to the system when freed.
 */
export const MALLOC_TUNING: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: String(128 * 1024) };

/**
 * Runs this same command again in a child with MALLOC_TUNING in its environment, unless that
 * is set already or this is not Linux (glibc reads it only when a process starts). Returns
 * true when the child runs: the caller then does nothing more. Signals are passed on to the
 * child, and its exit status (or 128 + the signal that ended it) becomes this process's.
 */
export function relaunchWithMallocTuning(): boolean {
  if (process.platform !== 'linux') return false;
  if (Object.keys(MALLOC_TUNING).every((k) => process.env[k] !== undefined)) {
    // The relaunched child: if the launcher dies (SIGKILL, a crash), stop as on SIGTERM
    // instead of running on unowned, holding the port. The channel keeps nothing alive.
    if (process.channel) {
      process.channel.unref();
      process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    }
    return false;
  }
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...MALLOC_TUNING },
  });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`segstream: cannot start: ${err.message}\n`);
    process.exit(1);
  });
  // Ended by a signal: the shell convention 128 + its number (no re-raise: a core dump of
  // the child would make one of the launcher too).
  child.on('exit', (code, signal) => process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)));
  return true;
}
