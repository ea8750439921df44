/**
 * An HTTP server on 127.0.0.1 (port 0) that serves files from a directory and lets a test
 * script any path: `const srv = await startFixtureServer({ dir })`, `srv.url('/video.mp4')`,
 * `srv.route('/gone', (req, res) => { res.writeHead(404).end() })`, `srv.hits` (every request,
 * in order: method, path, host header), `srv.failFirst('/video.mp4', 1, 503)` (answer with a
 * status n times, then normally), `await srv.stop()`. `host` picks another loopback address
 * (e.g. 127.0.0.2) to stand in for an internal service in SSRF tests.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { closeServer, listenLocal } from './listen.ts';

export interface Hit {
  method: string;
  path: string;
  host: string | undefined;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FixtureServer {
  origin: string;
  port: number;
  url(pathname: string): string;
  hits: Hit[];
  route(pathname: string, handler: RouteHandler): void;
  failFirst(pathname: string, times: number, status?: number): void;
  stop(): Promise<void>;
}

export async function startFixtureServer(opts: { dir?: string; host?: string } = {}): Promise<FixtureServer> {
  const routes = new Map<string, RouteHandler>();
  const failures = new Map<string, { left: number; status: number }>();
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    hits.push({ method: req.method ?? 'GET', path: pathname, host: req.headers.host });
    const fail = failures.get(pathname);
    if (fail && fail.left > 0) {
      fail.left--;
      res.writeHead(fail.status, { 'content-type': 'text/plain' }).end('scripted failure');
      return;
    }
    const handler = routes.get(pathname);
    if (handler) return handler(req, res);
    if (!opts.dir) return void res.writeHead(404).end();
    let name: string;
    try {
      name = path.basename(decodeURIComponent(pathname));
    } catch {
      return void res.writeHead(400).end();
    }
    const file = path.join(opts.dir, name);
    stat(file).then(
      (st) => {
        res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
        createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  const host = opts.host ?? '127.0.0.1';
  const port = await listenLocal(server, host);
  const origin = `http://${host}:${port}`;
  return {
    origin,
    port,
    url: (pathname) => origin + pathname,
    hits,
    route: (pathname, handler) => void routes.set(pathname, handler),
    failFirst: (pathname, times, status = 503) => void failures.set(pathname, { left: times, status }),
    stop: () => closeServer(server),
  };
}
