/**
 * Starts local mode the way a user does (`npm start`, i.e. `node scripts/start.mjs`: the compiled
 * local mode; here on port 0) and runs the CLI the way a user does (`bin/ffaas.mjs`), for
 * end-to-end tests over HTTP.
 */
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

export interface LocalProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

// `npm start`'s own command line (package.json), with this Node: its flags are part of what is tested.
const startArgs = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  .scripts.start.split(' ')
  .slice(1) as string[];

export async function startLocalProcess(env: Record<string, string>): Promise<LocalProcess> {
  const child = spawn(process.execPath, startArgs, {
    cwd: root,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: a first start synthesizes the stack, and on a 2-core machine running the other
    // test files at once that alone has taken a minute.
    const timer = setTimeout(() => reject(new Error(`local mode did not start in 110 s:\n${output}`)), 110_000);
    const onData = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local mode exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Runs `ffaas <args>` as a user would; returns stdout lines. */
export async function runCli(args: string[], env: Record<string, string>): Promise<string[]> {
  const { stdout } = await run(process.execPath, [path.join(root, 'bin', 'ffaas.mjs'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return stdout.trimEnd().split('\n');
}

/** Creates an API key with the CLI; the key is the last line of stdout (docs/API.md). */
export async function createKey(env: Record<string, string>, name: string, account?: string): Promise<string> {
  const lines = await runCli(['keys', 'create', '--name', name, ...(account ? ['--account', account] : [])], env);
  return lines.at(-1)!.trim();
}
