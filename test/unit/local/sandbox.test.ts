/**
 * Local mode's sandbox decision at start (local/sandbox.ts): bubblewrap when it works, the
 * nobody fallback as root, a refusal for a normal user without bubblewrap, and the limits
 * handed to every worker.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable, WORKER_ENV } from '../../../fargate-task/src/config.ts';
import { decideLocalSandbox, LOCAL_FFMPEG_NICE, NOBODY, SandboxRefused } from '../../../local/sandbox.ts';

let workDir: string;
let brokenBwrap: string;
const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH, ...extra });

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'ffaas-local-sandbox-'));
  await chmod(workDir, 0o755);
  // A "bwrap" that always fails, like one refused user namespaces.
  brokenBwrap = path.join(workDir, 'bwrap-broken');
  await writeFile(brokenBwrap, '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n');
  await chmod(brokenBwrap, 0o755);
});
afterAll(() => rm(workDir, { recursive: true, force: true }));

describe('decideLocalSandbox', () => {
  it.runIf(Boolean(findExecutable('bwrap')))(
    'uses bubblewrap when it works, and tells every worker it is required',
    async () => {
      const s = await decideLocalSandbox({ workDir, maxConcurrency: 2, env: env() });
      expect(s.workerEnv[WORKER_ENV.SANDBOX]).toBe('required');
      expect(s.warning).toBeUndefined();
      expect(s.summary.join('\n')).toMatch(/bubblewrap: FFmpeg has no network and sees only its workspace/);
    },
  );

  it('passes the limits on: set by the environment, or memory shared by the concurrent workers', async () => {
    const set = await decideLocalSandbox({
      workDir,
      maxConcurrency: 4,
      env: env({
        [WORKER_ENV.FFMPEG_MEMORY_BYTES]: '300000000',
        [WORKER_ENV.WORKSPACE_MAX_BYTES]: '5000',
        [WORKER_ENV.SANDBOX]: 'off',
      }),
    });
    expect(set.workerEnv).toMatchObject({
      [WORKER_ENV.FFMPEG_MEMORY_BYTES]: '300000000',
      [WORKER_ENV.WORKSPACE_MAX_BYTES]: '5000',
    });
    const one = await decideLocalSandbox({ workDir, maxConcurrency: 1, env: env({ [WORKER_ENV.SANDBOX]: 'off' }) });
    const four = await decideLocalSandbox({ workDir, maxConcurrency: 4, env: env({ [WORKER_ENV.SANDBOX]: 'off' }) });
    expect(Number(four.workerEnv[WORKER_ENV.FFMPEG_MEMORY_BYTES])).toBeLessThan(
      Number(one.workerEnv[WORKER_ENV.FFMPEG_MEMORY_BYTES]),
    );
    expect(one.workerEnv[WORKER_ENV.WORKSPACE_MAX_BYTES]).toBe(String(10 * 1024 ** 3));
  });

  it('runs FFmpeg niced below the API (10 unless FFAAS_FFMPEG_NICE says, 0 turns it off)', async () => {
    const d = await decideLocalSandbox({ workDir, maxConcurrency: 2, env: env({ [WORKER_ENV.SANDBOX]: 'off' }) });
    expect(d.workerEnv[WORKER_ENV.FFMPEG_NICE]).toBe(String(LOCAL_FFMPEG_NICE));
    expect(LOCAL_FFMPEG_NICE).toBeGreaterThan(0);
    const off = await decideLocalSandbox({
      workDir,
      maxConcurrency: 2,
      env: env({ [WORKER_ENV.SANDBOX]: 'off', [WORKER_ENV.FFMPEG_NICE]: '0' }),
    });
    expect(off.workerEnv[WORKER_ENV.FFMPEG_NICE]).toBe('0');
  });

  it('refuses bad settings with the variable name', async () => {
    await expect(
      decideLocalSandbox({ workDir, maxConcurrency: 1, env: env({ [WORKER_ENV.SANDBOX]: 'maybe' }) }),
    ).rejects.toThrow(/FFAAS_SANDBOX must be one of off, auto, required/);
    await expect(
      decideLocalSandbox({ workDir, maxConcurrency: 1, env: env({ [WORKER_ENV.FFMPEG_MEMORY_BYTES]: '-1' }) }),
    ).rejects.toThrow(WORKER_ENV.FFMPEG_MEMORY_BYTES);
  });

  it('required: no start when bubblewrap is missing or refused', async () => {
    await expect(
      decideLocalSandbox({
        workDir,
        maxConcurrency: 1,
        env: env({ [WORKER_ENV.SANDBOX]: 'required' }),
        bwrapPath: null,
      }),
    ).rejects.toThrow(SandboxRefused);
    await expect(
      decideLocalSandbox({
        workDir,
        maxConcurrency: 1,
        env: env({ [WORKER_ENV.SANDBOX]: 'required' }),
        bwrapPath: brokenBwrap,
      }),
    ).rejects.toThrow(/does not work here.*No permissions/);
  });

  it('auto without bubblewrap, as root: FFmpeg runs as nobody, with a warning', async () => {
    const s = await decideLocalSandbox({ workDir, maxConcurrency: 1, env: env(), bwrapPath: null, uid: 0 });
    expect(s.workerEnv).toMatchObject({
      [WORKER_ENV.SANDBOX]: 'off',
      [WORKER_ENV.FFMPEG_UID]: String(NOBODY),
      [WORKER_ENV.FFMPEG_GID]: String(NOBODY),
    });
    expect(s.warning).toMatch(/cannot write the data dir/);
  });

  it("auto without bubblewrap, as a normal user: refuses to start (FFmpeg would have the service user's rights)", async () => {
    await expect(
      decideLocalSandbox({ workDir, maxConcurrency: 1, env: env(), bwrapPath: brokenBwrap, uid: 1000 }),
    ).rejects.toThrow(/Install bubblewrap.*FFAAS_SANDBOX=off/);
  });

  it('off: runs without bubblewrap and says so', async () => {
    const s = await decideLocalSandbox({
      workDir,
      maxConcurrency: 1,
      env: env({ [WORKER_ENV.SANDBOX]: 'off' }),
      uid: 1000,
    });
    expect(s.workerEnv[WORKER_ENV.SANDBOX]).toBe('off');
    expect(s.warning).toMatch(/FFAAS_SANDBOX=off/);
  });

  it("hands an operator's FFAAS_FFMPEG_UID/GID to the workers", async () => {
    const s = await decideLocalSandbox({
      workDir,
      maxConcurrency: 1,
      env: env({ [WORKER_ENV.SANDBOX]: 'off', [WORKER_ENV.FFMPEG_UID]: '4242', [WORKER_ENV.FFMPEG_GID]: '4343' }),
      uid: 0,
    });
    expect(s.workerEnv).toMatchObject({ [WORKER_ENV.FFMPEG_UID]: '4242', [WORKER_ENV.FFMPEG_GID]: '4343' });
  });
});
