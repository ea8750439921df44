// `npm start`: local mode, compiled (scripts/build-local.mjs), in this one process.
//   node scripts/start.mjs              start (builds first when the sources changed)
//   node scripts/start.mjs --prebuild   `prepare` at `npm ci`: the build, the rendered state
//                                       machine and the worker bundle, so a first start is quick
// Plain JavaScript, so Node starts it without a TypeScript loader; V8's compile cache (kept
// beside the build) lets a restart skip compiling what it ran before.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import './check-node.mjs';
import { BUILD_CACHE_DIR, ensureLocalBuild } from './build-local.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const prebuild = process.argv.includes('--prebuild');

const onPath = (tool) =>
  (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir || '.', tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

// FFmpeg and bubblewrap come from the OS: when one is missing, ensure-ffmpeg installs it (as
// root with apt-get) or says how. Looked up on PATH first, which costs nothing.
if (!prebuild && !['ffmpeg', 'ffprobe', ...(process.platform === 'linux' ? ['bwrap'] : [])].every(onPath)) {
  const r = spawnSync(process.execPath, [path.join(here, 'ensure-ffmpeg.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// Also for the worker processes local mode starts (they inherit the environment).
process.env.NODE_COMPILE_CACHE ??= path.join(BUILD_CACHE_DIR, 'v8');
module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE);

const { main: entry } = await ensureLocalBuild();
const local = await import(pathToFileURL(entry).href);
if (prebuild) {
  try {
    await local.prebuild();
  } catch (err) {
    // Not fatal at install time: a start renders what is missing itself, and says why it fails.
    console.error(`ffaas: prebuild skipped: ${err.message}`);
  }
} else {
  await local.main();
}
