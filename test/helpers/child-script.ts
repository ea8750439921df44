/**
 * Runs an ES module script (TypeScript imports allowed, resolved from the repository root) in a
 * fresh Node process and resolves the JSON of its last stdout line. For measurements that must
 * not count the test runner's own memory (VmHWM, ArrayBuffer peaks). The exit code must be 0
 * (stderr is the message otherwise).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

export async function runChildScript<T>(
  script: string,
  opts: { env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<T> {
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), '--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: root,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const code = await new Promise((r) => child.on('close', r));
  expect(code, err).toBe(0);
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}
