/**
 * A TCP proxy on 127.0.0.1 (port 0) in front of an S3 endpoint (s3rver) that can play "storage
 * stopped mid-upload": once armed, the first request that writes an output object
 * (`PUT|POST /<bucket>/outputs/...`, path-style) has its connection destroyed after its headers
 * reached the proxy, every open connection is dropped, and new ones are reset on accept, until
 * `restore()`. Used with local mode's FFAAS_TEST_WORKER_S3_ENDPOINT hook (docs/FAILURES.md).
 */
import net from 'node:net';

export interface StorageCut {
  url: string;
  /** Where to forward (set once the upstream's port is known). */
  setTarget(port: number): void;
  /** Cut at the next output upload; resolves when it happened. */
  armOutputUploadCut(): Promise<void>;
  restore(): void;
  stop(): Promise<void>;
}

const OUTPUT_WRITE = /^(PUT|POST) \/[^/ ]+\/outputs\//;

export async function startStorageCut(): Promise<StorageCut> {
  let target = 0;
  let down = false;
  let armed: (() => void) | undefined;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server = net.createServer((client) => {
    track(client);
    if (down || !target) return void client.destroy();
    const upstream = net.connect(target, '127.0.0.1');
    track(upstream);
    client.on('data', (chunk: Buffer) => {
      if (armed && OUTPUT_WRITE.test(chunk.subarray(0, 200).toString('latin1'))) {
        down = true;
        const done = armed;
        armed = undefined;
        for (const s of sockets) s.destroy();
        done();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget: (p) => {
      target = p;
    },
    armOutputUploadCut: () => new Promise<void>((resolve) => (armed = resolve)),
    restore: () => {
      down = false;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
