import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker from a module URL next to the caller. Built code (`.js`) loads directly;
 * when running from TypeScript sources (tests, `tsx`) the worker registers tsx's loader
 * first, because Node 20 workers do not inherit the parent's module hooks.
 */
export function spawnModuleWorker(url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

/** The sibling module `name` of `base`, with the same extension (.ts in sources, .js built). */
export function siblingModule(base: string, name: string): URL {
  const ext = base.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, base);
}
