/**
 * Local mode runs the worker as the image does: the one-file esbuild bundle that
 * fargate-task/build.mjs makes for the Dockerfile. It is built once per source change into the
 * data dir. The worker's start is on every command's path, and the bundle starts in ~0.15 s
 * where tsx compiling fargate-task/src needs ~0.55 s (bench/RESULTS.md).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorker } from '../fargate-task/build.mjs';
import { installedVersion, sourceHash } from './source-hash.ts';
import { REPO_ROOT } from './paths.ts';
import type { WorkerCommand } from './worker-supervisor.ts';

export async function bundledWorkerCommand(dataDir: string): Promise<WorkerCommand> {
  const dir = path.join(dataDir, 'worker');
  const outfile = path.join(dir, 'worker.mjs');
  const keyFile = path.join(dir, 'worker.key');
  const lockfile = await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8').catch(() => '');
  const key = await sourceHash(
    REPO_ROOT,
    ['fargate-task/src', 'core'],
    [lockfile, await installedVersion(REPO_ROOT, 'esbuild')],
  );
  const current = await readFile(keyFile, 'utf8').catch(() => '');
  if (!existsSync(outfile) || current !== key) {
    await mkdir(dir, { recursive: true });
    await bundleWorker(outfile);
    await writeFile(keyFile, key);
  }
  return { command: process.execPath, args: [outfile], cwd: REPO_ROOT, warm: true };
}
