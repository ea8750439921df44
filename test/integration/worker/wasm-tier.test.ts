/**
 * fargate-task/src/memory.ts keepWasmAtBaselineTier: downloads through undici (llhttp in
 * WebAssembly) do not raise the worker's high-water mark with V8's optimizing recompile of the
 * parser. Measured in child processes (VmHWM is per process): the same downloads with the call
 * and without it, so the test also shows that the jump it guards against is there to see.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_NODE_OPTIONS } from '../../../fargate-task/src/config.ts';
import { runChildScript } from '../../helpers/index.ts';

const MiB = 1024 * 1024;
let server: Server;
let url: string;

beforeAll(async () => {
  const body = Buffer.alloc(256 * 1024, 7);
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** VmHWM growth (bytes) from after the first download to after the last, in a fresh process. */
async function highWaterGrowth(baseline: boolean): Promise<number> {
  const script = `
    import { readFileSync } from 'node:fs';
    import { request } from 'undici';
    import { keepWasmAtBaselineTier } from './fargate-task/src/memory.ts';
    if (process.env.BASELINE === '1') keepWasmAtBaselineTier();
    const hwm = () => Number(/VmHWM:\\s*(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    const get = async () => { const r = await request(process.env.URL); for await (const _ of r.body); };
    await get();
    const first = hwm();
    for (let i = 0; i < 40; i++) { await get(); await new Promise((r) => setTimeout(r, 10)); }
    await new Promise((r) => setTimeout(r, 300)); // a background compile, if any, ends
    console.log(JSON.stringify({ growth: hwm() - first }));
  `;
  // With the worker's V8 options: a default-sized young generation would grow by more than this.
  const { growth } = await runChildScript<{ growth: number }>(script, {
    nodeArgs: [WORKER_NODE_OPTIONS],
    env: { URL: url, BASELINE: baseline ? '1' : '0' },
  });
  return growth;
}

describe.runIf(process.platform === 'linux')('keepWasmAtBaselineTier', () => {
  it('keeps repeated downloads from raising the high-water mark', async () => {
    const [kept, tieredUp] = await Promise.all([highWaterGrowth(true), highWaterGrowth(false)]);
    // The heap's own growth over 40 downloads is the same in both (~5-6 MiB); without the call
    // V8 also recompiles the parser, and that process peaks another ~7 MiB higher.
    expect(tieredUp - kept, JSON.stringify({ kept, tieredUp })).toBeGreaterThan(4 * MiB);
  }, 60_000);
});
