import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, runCli } from '../e2e/local-process.ts';
import { API_KEY_PATTERN } from '../../core/constants.ts';

describe('ffaas keys (CLI) on a local data dir with no instance running', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-cli-'));
    env = { FFAAS_DATA_DIR: dataDir };
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('prints a well-formed key on the last line of stdout', async () => {
    const key = await createKey(env, 'first');
    expect(key).toMatch(API_KEY_PATTERN);
  });

  it('lists keys by prefix and never prints a full key or its hash', async () => {
    const key = await createKey(env, 'listed');
    const lines = await runCli(['keys', 'list'], env);
    const row = lines.find((l) => l.endsWith('\tlisted'));
    expect(row).toBeDefined();
    expect(row!.startsWith(key.slice(0, 12))).toBe(true);
    expect(lines.join('\n')).not.toContain(key);
    expect(row).toContain('active');
  });

  it('puts a key created with --account into that account', async () => {
    await createKey(env, 'team-a-1', 'team-a');
    await createKey(env, 'team-a-2', 'team-a');
    const lines = await runCli(['keys', 'list'], env);
    const teamRows = lines.filter((l) => l.split('\t')[1] === 'team-a');
    expect(teamRows).toHaveLength(2);
  });

  it('revokes a key by its prefix, and list shows it revoked', async () => {
    const key = await createKey(env, 'to-revoke');
    const out = await runCli(['keys', 'revoke', key.slice(0, 12)], env);
    expect(out.join('\n')).toContain('revoked');
    const row = (await runCli(['keys', 'list'], env)).find((l) => l.endsWith('\tto-revoke'));
    expect(row).toMatch(/revoked \d{4}-/);
  });

  it('refuses an unknown command with the usage and exit code 2', async () => {
    await expect(runCli(['keys', 'rotate'], env)).rejects.toMatchObject({ code: 2 });
  });
});
