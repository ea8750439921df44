// The compiled local mode that `npm start` runs (scripts/start.mjs): local/main.ts and every
// handler it loads, bundled by esbuild into ESM with code splitting (a handler's chunk loads on
// its first request, the synth's only when the state machine must be rendered again), packages
// left to node_modules. Running compiled JavaScript instead of the tsx loader saves the loader's
// own process and its compile step on every start (bench/RESULTS.md).
//
// Kept fresh by content: the build records its input files and their hash; a start re-hashes
// those files (5-7 ms) and builds again when anything changed. Builds land in a
// directory named after the hash, renamed into place whole, so starts racing each other (test
// files run in parallel) never load a half-written build.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Inside the repository: the build's external packages resolve from its node_modules.
export const BUILD_CACHE_DIR = path.join(root, 'node_modules', '.cache', 'ffaas');
const CURRENT = 'local-current.json';
const STALE_BUILD_MS = 60 * 60 * 1000;

// The build depends on its options and, as packages are bundled, on the lockfile too.
// Read synchronously: ~175 small files, each an open/stat/read/close round trip through libuv's
// thread pool when read with fs/promises, which made this check 60-70 ms of every start (5-7 ms
// this way). Nothing else runs in the process yet, so blocking costs nothing.
function hashInputs(inputs) {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(localBuildOptions('')));
  const lockfile = path.join(root, 'package-lock.json');
  if (existsSync(lockfile)) hash.update(readFileSync(lockfile));
  for (const file of inputs) {
    hash.update(file);
    hash.update(readFileSync(path.join(root, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** esbuild options of the local-mode bundle (output under `outdir`). */
export function localBuildOptions(outdir) {
  return {
    absWorkingDir: root,
    entryPoints: { main: 'local/main.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // Bundled too (one file to load, no module resolution at start), except what cannot be:
    // native addons and what loads files beside itself, and what only the synth uses.
    external: ['aws-cdk-lib', 'constructs', 'cdk-nag', 'esbuild', 'tsx', 'dynalite', 's3rver'],
    // CommonJS dependencies call require() for Node built-ins; an ESM bundle has no `require`.
    banner: {
      js: "import { createRequire as __ffaasCreateRequire } from 'node:module'; const require = __ffaasCreateRequire(import.meta.url);",
    },
    metafile: true,
    // No comments or indentation: V8 keeps every script's whole source in the heap (for lazy
    // compilation), and comments with a non-Latin-1 character (an arrow, a dash) made two of the
    // chunks two-byte text. Identifiers stay, so stack traces read as they are.
    minifySyntax: true,
    minifyWhitespace: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** The current build's entry (main.mjs) if its inputs are unchanged, else null. */
async function currentBuild(cacheDir) {
  try {
    const current = JSON.parse(await readFile(path.join(cacheDir, CURRENT), 'utf8'));
    const main = path.join(cacheDir, `local-${current.hash}`, 'main.mjs');
    if (existsSync(main) && hashInputs(current.inputs) === current.hash) return main;
  } catch {
    // no build yet, or an input is gone
  }
  return null;
}

/** Builds when the sources changed; resolves the path of the bundle's main.mjs. */
export async function ensureLocalBuild(cacheDir = BUILD_CACHE_DIR) {
  const existing = await currentBuild(cacheDir);
  if (existing) return { main: existing, built: false };
  const { build } = await import('esbuild');
  await mkdir(cacheDir, { recursive: true });
  const tmp = path.join(cacheDir, `local-tmp-${randomBytes(6).toString('hex')}`);
  try {
    const result = await build(localBuildOptions(tmp));
    const inputs = Object.keys(result.metafile.inputs)
      .filter((f) => !f.startsWith('node_modules/'))
      .sort();
    const hash = hashInputs(inputs);
    const dir = path.join(cacheDir, `local-${hash}`);
    if (!existsSync(dir)) await rename(tmp, dir).catch((err) => (existsSync(dir) ? undefined : Promise.reject(err)));
    const currentTmp = path.join(cacheDir, `${CURRENT}.${randomBytes(6).toString('hex')}`);
    await writeFile(currentTmp, JSON.stringify({ hash, inputs }));
    await rename(currentTmp, path.join(cacheDir, CURRENT));
    // Builds of older sources, once no start can still be loading from them (a start loads
    // every handler's chunk within seconds: local/http-server.ts warm()).
    for (const name of await readdir(cacheDir)) {
      const old = path.join(cacheDir, name);
      if (!/^local-(tmp-)?[0-9a-f]+$/.test(name) || old === dir) continue;
      if ((await stat(old)).mtimeMs < Date.now() - STALE_BUILD_MS) await rm(old, { recursive: true, force: true });
    }
    return { main: path.join(dir, 'main.mjs'), built: true };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const { main, built } = await ensureLocalBuild();
  console.log(`${built ? 'built' : 'up to date'}: ${main} (${Math.round(performance.now() - started)} ms)`);
}
