/**
 * Worker thread owning the CLIP encoders: their session.run() calls block the thread, so
 * text prompts never stall the main thread's sockets and ingest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Detections, toWireError } from '../core/index.js';
import { ClipTextSelector, type ClipFiles, type ClipOptions } from './clip.js';
import type { ClipReply, ClipRequest, ClipWorkerInit } from './clipProtocol.js';

const port = parentPort!;
const init = workerData as ClipWorkerInit;

const errorOf = (err: unknown) => toWireError(err, 'E_INFERENCE');

async function main(): Promise<void> {
  let selector: ClipTextSelector;
  try {
    selector = await ClipTextSelector.load(init.files as ClipFiles, init.options as ClipOptions);
  } catch (err) {
    port.postMessage({ type: 'init-error', error: errorOf(err) } satisfies ClipReply);
    return;
  }
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (req: ClipRequest) => {
    queue = queue.then(async () => {
      if (req.type === 'close') {
        await selector.close();
        port.close();
        return;
      }
      try {
        const det = new Detections(req.detections);
        const r = await selector.selectByText(req.text, det, req.image);
        port.postMessage({ type: 'result', id: req.id, value: r } satisfies ClipReply);
      } catch (err) {
        port.postMessage({ type: 'error', id: req.id, error: errorOf(err) } satisfies ClipReply);
      }
    });
  });
  port.postMessage({ type: 'ready' } satisfies ClipReply);
}

void main();
