import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A hash of the TypeScript sources under `dirs` (relative to `root`) and of `extra` strings:
 * local mode keeps what it derives from the sources (the rendered state machine, the worker
 * bundle) under the data dir and rebuilds it only when this changes.
 */
export async function sourceHash(
  root: string,
  dirs: readonly string[],
  extra: readonly string[] = [],
): Promise<string> {
  const hash = createHash('sha256');
  for (const e of extra) hash.update(e);
  const files: string[] = [];
  for (const dir of dirs) {
    for (const entry of await readdir(path.join(root, dir), { recursive: true })) {
      if (entry.endsWith('.ts') || entry.endsWith('.mjs')) files.push(path.join(root, dir, entry));
    }
  }
  // Read synchronously: hundreds of small files, one at a time through libuv's thread pool, took
  // tens of milliseconds of a start in round trips alone; blocking reads take a few.
  for (const f of files.sort()) {
    hash.update(path.relative(root, f));
    hash.update(readFileSync(f));
  }
  return hash.digest('hex');
}

/** The installed version of a package, or '' when it is missing. */
export async function installedVersion(root: string, pkg: string): Promise<string> {
  try {
    return JSON.parse(await readFile(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version ?? '';
  } catch {
    return '';
  }
}
