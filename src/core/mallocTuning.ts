import { spawn } from 'node:child_process';

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
 * child, and its exit status (or the signal that ended it) becomes this process's.
 */
export function relaunchWithMallocTuning(): boolean {
  if (process.platform !== 'linux' || Object.keys(MALLOC_TUNING).every((k) => process.env[k] !== undefined)) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, ...MALLOC_TUNING },
  });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`segstream: cannot start: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
  return true;
}
