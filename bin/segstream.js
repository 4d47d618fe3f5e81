#!/usr/bin/env node
// Runs the compiled CLI (npm install / npm run build produce dist/).
import '../dist/cli.js';
