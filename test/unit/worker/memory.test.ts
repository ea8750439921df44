/**
 * fargate-task/src/memory.ts: the collections the worker runs during transfers really free
 * dead buffers (measured on this process's ArrayBuffer memory), and the worker's V8 options are
 * the image's.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_MALLOC_ENV, WORKER_NODE_OPTIONS } from '../../../fargate-task/src/config.ts';
import { collectYoungGarbage, transferGcStream } from '../../../fargate-task/src/memory.ts';

const MiB = 1024 * 1024;

describe('worker memory', () => {
  it('collectYoungGarbage frees buffers nothing references any more', () => {
    collectYoungGarbage();
    const before = process.memoryUsage().arrayBuffers;
    // 32 MiB in 64 KiB buffers, each dropped at once (what a download leaves behind).
    let sink = 0;
    for (let i = 0; i < 512; i++) sink += Buffer.alloc(64 * 1024, 1)[0]!;
    expect(sink).toBe(512);
    collectYoungGarbage();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * MiB);
  });

  it('transferGcStream passes every byte through unchanged', async () => {
    const stream = transferGcStream();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const input = Array.from({ length: 50 }, (_, i) => Buffer.alloc(100 * 1024, i));
    for (const c of input) stream.write(c);
    stream.end();
    await new Promise((r) => stream.on('end', r));
    expect(Buffer.concat(chunks).equals(Buffer.concat(input))).toBe(true);
  });

  it('the image runs the worker with WORKER_NODE_OPTIONS (local mode passes the same)', async () => {
    const dockerfile = await readFile(path.resolve(import.meta.dirname, '../../../fargate-task/Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`NODE_OPTIONS=${WORKER_NODE_OPTIONS} \\`);
    for (const [name, value] of Object.entries(WORKER_MALLOC_ENV)) expect(dockerfile).toContain(`${name}=${value} \\`);
  });
});
