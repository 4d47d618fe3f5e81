/**
 * Child process of bench/overlay.ts: `tsx bench/whepViewers.ts <port> <camera> <n> <seconds>`
 * connects n WHEP viewers (real wrtc peers), watches for the given time and prints one JSON
 * line: frames each viewer decoded. A process of its own, so the viewers' decoding is not
 * counted in the server's CPU.
 */
import { WhepViewer } from '../test/helpers/whepClient.js';

const [port, camera, n, seconds] = process.argv.slice(2);
const viewers = await Promise.all(Array.from({ length: Number(n) }, () => WhepViewer.connect(Number(port), camera!)));
const statuses = viewers.map((v) => v.answer?.status);
process.stdout.write(`${JSON.stringify({ ready: true, statuses })}\n`);
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const frames = viewers.map((v) => v.received);
await Promise.all(viewers.map((v) => v.close(Number(port))));
process.stdout.write(`${JSON.stringify({ frames })}\n`);
// wrtc has crashed at exit once a video track existed: leave at once.
process.exit(0);
