import { readdirSync, readFileSync } from 'node:fs';

const MiB = 1024 * 1024;

/** Open file descriptors of this process (entries of /proc/self/fd, less the one readdir itself holds). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length - 1;
}

export interface ChildProcessInfo {
  pid: number;
  /** Command name as the kernel keeps it (15 characters at most): ffmpeg, ffprobe, python3. */
  comm: string;
  /** R, S, Z (zombie), ... */
  state: string;
}

/** Every process below `root` (children, their children, ...), from /proc/<pid>/stat. */
export function descendants(root: number = process.pid): ChildProcessInfo[] {
  const byParent = new Map<number, ChildProcessInfo[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const [state = '?', ppid = '0'] = stat.slice(close + 2).split(' ');
    const info: ChildProcessInfo = { pid: Number(name), comm: stat.slice(open + 1, close), state };
    const siblings = byParent.get(Number(ppid));
    if (siblings) siblings.push(info);
    else byParent.set(Number(ppid), [info]);
  }
  const out: ChildProcessInfo[] = [];
  const todo = [root];
  while (todo.length > 0) {
    for (const child of byParent.get(todo.pop()!) ?? []) {
      out.push(child);
      todo.push(child.pid);
    }
  }
  return out;
}

/** Counts by command name, zombies counted apart as `<comm> (zombie)`. */
export function countByComm(procs: readonly ChildProcessInfo[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of procs) {
    const key = p.state === 'Z' ? `${p.comm} (zombie)` : p.comm;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export interface MemorySample {
  rssMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
}

export function memory(): MemorySample {
  const m = process.memoryUsage();
  return { rssMiB: m.rss / MiB, heapUsedMiB: m.heapUsed / MiB, externalMiB: m.external / MiB };
}

export interface LinearFit {
  /** Units of y per unit of x. */
  slope: number;
  intercept: number;
  /** Standard error of the slope (same units); NaN with fewer than 3 points. */
  slopeStdErr: number;
  n: number;
}

/** Ordinary least squares y = intercept + slope * x; null with fewer than 2 points or no spread in x. */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit | null {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - intercept - slope * xs[i]!) ** 2;
  const slopeStdErr = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : NaN;
  return { slope, intercept, slopeStdErr, n };
}
