/**
 * Local mode runs the worker as the image does: the one-file esbuild bundle that
 * fargate-task/build.mjs makes for the Dockerfile. It is built once per source change into the
 * build cache (local/build-cache.ts; at `npm ci` by `prepare`). The worker's start is on every
 * command's path, and the bundle starts in ~0.15 s where tsx compiling fargate-task/src needs
 * ~0.55 s (bench/RESULTS.md).
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILD_CACHE_DIR, writeFileAtomic } from './build-cache.ts';
import { installedVersion, sourceHash } from './source-hash.ts';
import { REPO_ROOT } from './paths.ts';
import type { WorkerCommand } from './worker-supervisor.ts';

/** The worker bundle's path under `cacheDir`. */
export const workerBundlePath = (cacheDir = BUILD_CACHE_DIR) => path.join(cacheDir, 'worker', 'worker.mjs');

export async function bundledWorkerCommand(cacheDir = BUILD_CACHE_DIR): Promise<WorkerCommand> {
  const outfile = workerBundlePath(cacheDir);
  const keyFile = path.join(path.dirname(outfile), 'worker.key');
  const lockfile = await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8').catch(() => '');
  const key = await sourceHash(
    REPO_ROOT,
    // fargate-task/ whole (its build.mjs sets how the bundle is made) and everything it imports.
    ['fargate-task', 'core', 'store'],
    [lockfile, await installedVersion(REPO_ROOT, 'esbuild')],
  );
  const current = await readFile(keyFile, 'utf8').catch(() => '');
  if (!existsSync(outfile) || current !== key) {
    await mkdir(path.dirname(outfile), { recursive: true });
    // esbuild only when it is needed, and the script itself (by path, so the compiled `npm start`
    // loads it from the repository rather than bundling it). Built beside and renamed over, as
    // starts may race.
    const { bundleWorker } = (await import(
      pathToFileURL(path.join(REPO_ROOT, 'fargate-task', 'build.mjs')).href
    )) as typeof import('../fargate-task/build.mjs');
    const tmp = `${outfile}.${randomBytes(6).toString('hex')}.tmp.mjs`;
    try {
      await bundleWorker(tmp);
      await rename(tmp, outfile);
    } finally {
      await rm(tmp, { force: true });
    }
    await writeFileAtomic(keyFile, key);
  }
  return { command: process.execPath, args: [outfile], cwd: REPO_ROOT, warm: true };
}
