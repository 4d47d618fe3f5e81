/**
 * The overlay thread: draws each frame's scene into its display picture (I420) and hands the
 * picture back (its buffer transferred both ways, never copied); for JPEG frames (`rgb`) it
 * draws the scene if there is one and hands back the picture as packed RGB for sharp.
 */
import { parentPort } from 'node:worker_threads';
import { toWireError } from '../core/workers.js';
import { checkI420, i420ToRgb } from './i420.js';
import { drawScene, type OverlayScene } from './scene.js';

export interface DrawRequest {
  type: 'draw';
  id: number;
  width: number;
  height: number;
  data: Uint8Array;
  scene: OverlayScene;
}

/** Draws `scene` (null: nothing) into the picture and converts it to packed RGB (3 bytes a pixel). */
export interface RgbRequest {
  type: 'rgb';
  id: number;
  width: number;
  height: number;
  data: Uint8Array;
  scene: OverlayScene | null;
}

export interface DrawResult {
  data: Uint8Array;
  /** Time spent drawing, ms. */
  drawMs: number;
}

const port = parentPort!;
port.on('message', (req: DrawRequest | RgbRequest | { type: 'close' }) => {
  if (req.type === 'close') return port.close();
  try {
    const t0 = performance.now();
    const img = { width: req.width, height: req.height, data: req.data };
    checkI420(img);
    if (req.scene) drawScene(img, req.scene);
    const data = req.type === 'rgb' ? i420ToRgb(img) : req.data;
    const value: DrawResult = { data, drawMs: performance.now() - t0 };
    port.postMessage({ type: 'result', id: req.id, value }, [data.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ type: 'error', id: req.id, error: toWireError(err, 'E_INTERNAL') });
  }
});
port.postMessage({ type: 'ready' });
