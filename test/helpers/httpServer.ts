import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileHttpServer {
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** Requests answered so far, by path. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Serves files from memory-less streams on 127.0.0.1 (ephemeral port), with single-range
 * `Range: bytes=a-b` support so ffmpeg can seek in an mp4 whose index is at the end.
 * `routes` maps URL paths (`/clip.mp4`) to files on disk; anything else is 404.
 */
export async function serveFiles(routes: Record<string, string>, contentType = 'video/mp4'): Promise<FileHttpServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push(path);
    const file = routes[path];
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    const size = statSync(file).size;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    if (range) {
      start = range[1] ? Number(range[1]) : size - Number(range[2]);
      end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
    }
    res.writeHead(range ? 206 : 200, {
      'Content-Type': contentType,
      'Content-Length': end - start + 1,
      'Accept-Ranges': 'bytes',
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file, { start, end });
    stream.pipe(res);
    // ffmpeg hangs up mid-body when it seeks; don't leak the file handle.
    res.on('close', () => stream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
