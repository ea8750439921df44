import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, reportError } from '../../../cli/main.ts';

/** Runs the CLI in-process as bin/ffaas.mjs does: main(), then reportError() on a throw. */
async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const saved = { ...process.env };
  Object.assign(process.env, { FFAAS_URL: '', FFAAS_API_KEY: '', ...env });
  try {
    let code: number;
    try {
      code = await main(args);
    } catch (e) {
      code = reportError(e);
    }
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    process.env = saved;
    vi.restoreAllMocks();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('ffaas: --help and errors that say what to do', () => {
  it('has a --help for every command, naming its actions', async () => {
    for (const [group, says] of [
      ['', 'ffaas <command> --help'],
      ['run', 'Ctrl-C cancels'],
      ['commands', 'ffaas commands logs ID'],
      ['files', 'ffaas files upload PATH'],
      ['webhooks', 'ffaas webhooks test'],
      ['keys', 'ffaas keys create --name NAME'],
    ] as const) {
      const h = await cli(group ? [group, '--help'] : ['--help']);
      expect(h.code, group).toBe(0);
      expect(h.stdout).toContain(says);
    }
    expect((await cli(['help', 'files'])).stdout).toContain('ffaas files rm FILE_ID');
  });

  it('a wrong or missing action says which exist and where help is (exit 2)', async () => {
    for (const group of ['commands', 'files', 'webhooks', 'keys']) {
      for (const args of [[group, 'frobnicate'], [group]]) {
        const r = await cli(args, { FFAAS_URL: 'http://127.0.0.1:9', FFAAS_API_KEY: 'ffsk_x' });
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toContain(`(ffaas ${group} --help)`);
      }
    }
    const unknown = await cli(['transcode']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('run, commands, files, webhooks or keys (ffaas --help)');
    const badOption = await cli(['commands', 'list', '--frobnicate']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain("Unknown option '--frobnicate'");
  });

  it('says what to write when an argument is missing', async () => {
    const remote = { FFAAS_URL: 'http://127.0.0.1:9', FFAAS_API_KEY: 'ffsk_x' };
    const noArgs = await cli(['run'], remote);
    expect(noArgs.code).toBe(2);
    expect(noArgs.stderr).toContain('ffaas run -- ffmpeg -i in.mp4 out.webm');
    const noOutput = await cli(['run', '--', 'ffmpeg', '-i', 'a.mp4'], remote);
    expect(noOutput.code).toBe(2);
    expect(noOutput.stderr).toContain('no output file in the command');
    const cwd = await mkdtemp(path.join(tmpdir(), 'ffaas-cli-'));
    const prev = process.cwd();
    try {
      process.chdir(cwd);
      const noFile = await cli(['run', '--', 'ffmpeg', '-i', 'missing.mp4', 'out.mp4'], remote);
      expect(noFile.code).toBe(2);
      expect(noFile.stderr).toContain('input missing.mp4 is neither a file here nor a URL');
    } finally {
      process.chdir(prev);
    }
    const noId = await cli(['commands', 'get'], remote);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain('commands get needs a command id (ffaas commands --help)');
    const noKey = await cli(['commands', 'list', '--url', 'http://127.0.0.1:9']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('pass --key KEY or set FFAAS_API_KEY');
    const noLocal = await cli(['commands', 'list'], { FFAAS_DATA_DIR: path.join(cwd, 'nowhere') });
    expect(noLocal.code).toBe(2);
    expect(noLocal.stderr).toContain('start it with `npm start`');
    // Nothing listening: say so, and what to check.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = await cli(['commands', 'list'], { FFAAS_URL: `http://127.0.0.1:${port}`, FFAAS_API_KEY: 'ffsk_x' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('is it running? (npm start, or check --url)');
    await rm(cwd, { recursive: true, force: true });
  });
});
