/**
 * The image's build step without Docker: bundle fargate-task/src/main.ts with the very options
 * the Dockerfile uses (fargate-task/build.mjs), check that everything it pulls in is in the
 * Docker build context the Dockerfile copies, and run the bundle once.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerBuildOptions } from '../../../fargate-task/build.mjs';

let dir: string;
let outfile: string;
let inputs: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ffaas-bundle-'));
  outfile = path.join(dir, 'worker.mjs');
  const result = await build({ ...workerBuildOptions(outfile), metafile: true, logLevel: 'silent' });
  expect(result.errors).toEqual([]);
  inputs = Object.keys(result.metafile!.inputs);
}, 60_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('worker bundle', () => {
  it('bundles only what the Dockerfile copies (core/, store/, fargate-task/, npm packages)', () => {
    const own = inputs.filter((f) => !f.startsWith('node_modules/'));
    expect(own.length).toBeGreaterThan(5);
    expect(own.filter((f) => !['core/', 'store/', 'fargate-task/'].some((d) => f.startsWith(d)))).toEqual([]);
  });

  it('the Dockerfile builds with build.mjs and runs the bundle it produces', async () => {
    const dockerfile = await readFile(path.resolve('fargate-task/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:22-bookworm-slim AS build$/m);
    expect(dockerfile).toMatch(/^RUN node fargate-task\/build\.mjs \/out\/worker\.mjs$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/out\/worker\.mjs \/app\/worker\.mjs$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/node", "\/app\/worker\.mjs"\]$/m);
    for (const dirName of ['core/', 'store/', 'fargate-task/'])
      expect(dockerfile).toContain(`COPY ${dirName} ${dirName}`);
  });

  it('the bundle starts and refuses an empty environment with exit code 2', () => {
    const res = spawnSync(process.execPath, [outfile], { env: {}, encoding: 'utf8', timeout: 30_000 });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/"msg":"worker not started".*FFAAS_COMMANDS_TABLE/);
  });
});
