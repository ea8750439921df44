/**
 * A fixture-server route that serves `body` badly on purpose, for download fault tests:
 * - `cutAfter`/`cuts`: the first `cuts` answers send Content-Length of the whole answer, then
 *   only `cutAfter` bytes of it, and destroy the connection (a server or proxy dying mid-body);
 * - `ranges`: honour `Range: bytes=N-` (206 + Content-Range) when `If-Range` matches the ETag,
 *   else answer 200 with the whole file (RFC 9110); without it, Range is ignored and
 *   `Accept-Ranges: none` is sent;
 * - `etag`: the ETag (change it between requests to play a file replaced on the server);
 * - `trickleMs`: send one 1 KiB chunk every trickleMs instead of the body at once.
 * `requests` records each request's Range / If-Range header.
 * Usage: `srv.route('/in.bin', faultyFile(buf, { cutAfter: 1000, cuts: 1, ranges: true }).handler)`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface FaultyFileOptions {
  cutAfter?: number;
  /** How many answers are cut. @default 1 when cutAfter is set */
  cuts?: number;
  ranges?: boolean;
  etag?: string;
  trickleMs?: number;
}

export interface FaultyFile {
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  requests: { range?: string; ifRange?: string }[];
  options: FaultyFileOptions;
}

export function faultyFile(body: Buffer, options: FaultyFileOptions = {}): FaultyFile {
  const requests: FaultyFile['requests'] = [];
  let cutsLeft = options.cutAfter !== undefined ? (options.cuts ?? 1) : 0;
  const timers = new Set<NodeJS.Timeout>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const range = req.headers.range;
    const ifRange = req.headers['if-range'] as string | undefined;
    requests.push({ range, ifRange });
    const etag = options.etag ?? '"v1"';
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    if (options.ranges && m && (ifRange === undefined || ifRange === etag) && Number(m[1]) < body.length) {
      start = Number(m[1]);
    }
    const slice = body.subarray(start);
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': slice.length,
      etag,
      'accept-ranges': options.ranges ? 'bytes' : 'none',
    };
    if (start > 0) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    if (cutsLeft > 0) {
      cutsLeft--;
      res.write(slice.subarray(0, options.cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (!options.trickleMs) {
      res.end(slice);
      return;
    }
    let at = 0;
    const tick = () => {
      if (res.destroyed) return;
      const next = slice.subarray(at, at + 1024);
      at += next.length;
      if (at >= slice.length) return void res.end(next);
      res.write(next);
      const t = setTimeout(() => {
        timers.delete(t);
        tick();
      }, options.trickleMs);
      timers.add(t);
    };
    res.on('close', () => {
      for (const t of timers) clearTimeout(t);
    });
    tick();
  };
  return { handler, requests, options };
}
