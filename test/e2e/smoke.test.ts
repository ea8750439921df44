/**
 * The smoke script (scripts/smoke.ts) run as an operator runs it, `npm run smoke -- --url …
 * --key … --input-url …`, against a local mode started here: it must pass on a working
 * instance and fail (exit 1, saying why) with a wrong key.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixtures, startFixtureServer, type FixtureServer, type Fixtures } from '../helpers/index.ts';
import { createKey, startLocalProcess, type LocalProcess } from './local-process.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function smoke(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/smoke.ts', ...args], {
      cwd: root,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err: any) {
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('smoke script against local mode', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let local: LocalProcess;
  let fixtures: Fixtures;
  let media: FixtureServer;
  let key: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-smoke-'));
    env = { FFAAS_DATA_DIR: dataDir, FFAAS_ALLOW_PRIVATE_URLS: '1' };
    fixtures = await makeFixtures({ names: ['video.mp4'] });
    media = await startFixtureServer({ dir: fixtures.dir });
    local = await startLocalProcess(env);
    key = await createKey(env, 'smoke', 'acct-smoke');
  }, 180_000);

  afterAll(async () => {
    await local?.stop();
    await media?.stop();
    await fixtures?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('passes: submit, SUCCESS, output downloaded and probed; event and webhook skipped with a reason', async () => {
    const res = await smoke([
      '--url',
      local.url,
      '--key',
      key,
      '--input-url',
      media.url('/video.mp4'),
      '--timeout',
      '90',
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^ok\s+submit\s+command [0-9a-f-]{36}$/m);
    expect(res.stdout).toMatch(/^ok\s+poll\s+SUCCESS/m);
    expect(res.stdout).toMatch(/^ok\s+output\s+downloaded; ffprobe: 160 px video/m);
    expect(res.stdout).toMatch(/^skip\s+event\s+only with --stack/m);
    expect(res.stdout).toMatch(/^skip\s+webhook\s+no --webhook-url given/m);
    expect(res.stdout).toMatch(/smoke test passed\n$/);
  }, 150_000);

  it("fails with exit 1 and the API's answer when the key is wrong", async () => {
    const res = await smoke([
      '--url',
      local.url,
      '--key',
      `ffsk_${'0'.repeat(64)}`,
      '--input-url',
      media.url('/video.mp4'),
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^FAIL\s+submit\s+HTTP 401/m);
    expect(res.stdout).toMatch(/smoke test FAILED/);
  }, 60_000);

  it('a failing command fails the smoke test with its error status', async () => {
    const res = await smoke([
      '--url',
      local.url,
      '--key',
      key,
      '--input-url',
      media.url('/missing.mp4'),
      '--timeout',
      '90',
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^FAIL\s+poll\s+INPUT_DOWNLOAD_FAILED/m);
  }, 150_000);

  it('bad arguments: exit 2 with the usage', async () => {
    const res = await smoke(['--url', local.url]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/needs --key[\s\S]*usage:/);
  });
});
