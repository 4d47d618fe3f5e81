/**
 * npm run eval:prompt [-- --clip name.mp4 ... --max-seconds N --model path]
 *
 * Label-free evaluation of prompted target following: per shared clip, box prompts on
 * vehicles of the first frame, replayed through CameraTargets forward then backward, in real
 * time and with 2 of 3 frames dropped. See bench/evalPrompt/run.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/config/index.js';
import { evalPrompt } from './evalPrompt/run.js';

const VIDEOS = join(PACKAGE_ROOT, '../shared/data/videos');

const { values: args } = parseArgs({
  options: {
    clip: { type: 'string', multiple: true },
    'max-seconds': { type: 'string' },
    model: { type: 'string', default: join(PACKAGE_ROOT, '../shared/models/yolov8n-seg-320.onnx') },
  },
});

function fail(message: string): never {
  console.error(`eval:prompt: ${message}`);
  process.exit(2);
}

const available = readdirSync(VIDEOS).filter((f) => f.endsWith('.mp4')).sort();
const clips = (args.clip ?? available).map((c) => (c.includes('/') ? c : join(VIDEOS, c)));
for (const c of clips) if (!existsSync(c)) fail(`no clip ${c}; the shared clips are ${available.join(', ')}`);
const maxSeconds = args['max-seconds'] === undefined ? null : Number(args['max-seconds']);
if (maxSeconds !== null && !(maxSeconds > 0)) fail(`--max-seconds takes a positive number of seconds, got '${args['max-seconds']}'`);

await evalPrompt({ clips, maxSeconds, model: args.model });
