/**
 * npm run soak [-- --minutes 10 ...]: see bench/soak/run.ts. The service runs in this
 * process with the same glibc tuning bin/segstream.js gives it (src/core/mallocTuning.ts);
 * set MALLOC_MMAP_THRESHOLD_ yourself to soak it with another value.
 */
import { relaunchWithMallocTuning } from '../src/core/mallocTuning.js';

if (!relaunchWithMallocTuning()) await import('./soak/run.js');
