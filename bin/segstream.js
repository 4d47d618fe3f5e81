#!/usr/bin/env node
// Runs the compiled CLI (npm install / npm run build produce dist/), in a child whose
// environment fixes glibc's mmap threshold (src/core/mallocTuning.ts says why).
import { relaunchWithMallocTuning } from '../dist/core/mallocTuning.js';

if (!relaunchWithMallocTuning()) await import('../dist/cli.js');
