import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The repository root: local mode runs the handlers, the worker and the synth from its sources.
 * Found by walking up to ffaas's package.json rather than a fixed `..`, because this module also
 * runs from the compiled `npm start` bundle (scripts/build-local.mjs), which lives elsewhere.
 */
export const REPO_ROOT = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'ffaas') return dir;
    } catch {
      // no package.json here
    }
    if (path.dirname(dir) === dir) throw new Error(`ffaas's package.json not found above ${from}`);
  }
}

/**
 * tsx's ESM loader, for child processes that run TypeScript sources (`node --import <this>`):
 * an absolute URL, so it resolves whatever the child's cwd and however the parent was started
 * (tsx, vitest, the compiled bundle).
 */
export const TSX_LOADER_URL = pathToFileURL(path.join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
