/**
 * The overlay thread: draws each frame's scene into its display picture (I420) and hands the
 * picture back (its buffer transferred both ways, never copied).
 */
import { parentPort } from 'node:worker_threads';
import { toWireError } from '../core/workers.js';
import { checkI420 } from './i420.js';
import { drawScene, type OverlayScene } from './scene.js';

export interface DrawRequest {
  type: 'draw';
  id: number;
  width: number;
  height: number;
  data: Uint8Array;
  scene: OverlayScene;
}

export interface DrawResult {
  data: Uint8Array;
  /** Time spent drawing, ms. */
  drawMs: number;
}

const port = parentPort!;
port.on('message', (req: DrawRequest | { type: 'close' }) => {
  if (req.type === 'close') return port.close();
  try {
    const t0 = performance.now();
    const img = { width: req.width, height: req.height, data: req.data };
    checkI420(img);
    drawScene(img, req.scene);
    const value: DrawResult = { data: req.data, drawMs: performance.now() - t0 };
    port.postMessage({ type: 'result', id: req.id, value }, [req.data.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ type: 'error', id: req.id, error: toWireError(err, 'E_INTERNAL') });
  }
});
port.postMessage({ type: 'ready' });
