/**
 * Where local mode keeps what it derives from the sources and can share between data dirs: the
 * rendered state machine and the worker bundle (each under a hash of its sources), made at
 * `npm ci` time by `prepare` (scripts/start.mjs --prebuild) so that a first start does not pay
 * for them. node_modules/.cache is where tools keep such things; `npm ci` starts it afresh.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from './paths.ts';

/** @default node_modules/.cache/ffaas under the repository */
export const BUILD_CACHE_DIR =
  process.env.FFAAS_BUILD_CACHE_DIR || path.join(REPO_ROOT, 'node_modules', '.cache', 'ffaas');

/**
 * Writes through a temp file and a rename, so concurrent starts (test files run in parallel)
 * never read half a file.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}
