import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: local mode runs the handlers, the worker and the synth from its sources. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * tsx's ESM loader, for child processes that run TypeScript sources (`node --import <this>`):
 * an absolute URL, so it resolves whatever the child's cwd and however the parent was started
 * (tsx, vitest, or plain node with the loader).
 */
export const TSX_LOADER_URL = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
