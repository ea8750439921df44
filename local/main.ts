/**
 * `npm start`: the whole service on one machine (local/start.ts), as a process. `npm start` runs
 * it compiled (scripts/start.mjs); `tsx local/main.ts` runs the sources.
 * Prints `ffaas listening on <url>` (a spawner reads the port from it), where the data lives,
 * how to create a key and how long the start took. SIGINT/SIGTERM stop it cleanly.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILD_CACHE_DIR } from './build-cache.ts';
import { loadDefinition } from './definition.ts';
import { LOCAL_RESOURCE_DEFAULTS } from './render.ts';
import { LOCAL_NAMES } from './services.ts';
import { startLocalFfaas, type LocalFfaas } from './start.ts';
import { bundledWorkerCommand } from './worker-bundle.ts';

/** Looked up on PATH rather than run: `ffmpeg -version` alone takes tens of milliseconds. */
function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir || '.', tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function ffmpegMissing(): string | null {
  for (const tool of ['ffmpeg', 'ffprobe']) {
    if (!onPath(tool)) {
      return `${tool} not found: install it with \`sudo apt-get install -y ffmpeg\` (macOS: \`brew install ffmpeg\`)`;
    }
  }
  return null;
}

/**
 * What a start derives from the sources, made ahead (`prepare` at `npm ci`): the state machine
 * rendered from the synthesized stack and the worker bundle, into the build cache.
 */
export async function prebuild(): Promise<void> {
  const started = performance.now();
  const [{ fromCache }] = await Promise.all([
    loadDefinition({ names: { ...LOCAL_NAMES, ...LOCAL_RESOURCE_DEFAULTS }, cacheDir: BUILD_CACHE_DIR }),
    bundledWorkerCommand(),
  ]);
  console.log(
    `ffaas: state machine ${fromCache ? 'already rendered' : 'rendered'} and worker bundled into ${BUILD_CACHE_DIR} in ${Math.round(performance.now() - started)} ms`,
  );
}

export async function main(): Promise<void> {
  const missing = ffmpegMissing();
  if (missing) {
    console.error(missing);
    process.exit(1);
  }
  let app: LocalFfaas;
  try {
    app = await startLocalFfaas();
  } catch (err) {
    console.error(`ffaas could not start: ${(err as Error).message}`);
    process.exit(1);
  }
  console.log(`ffaas listening on ${app.url}`);
  console.log(`  API:       ${app.url}/api/v1 (also ${app.url}/v1)`);
  console.log(`  data:      ${app.dataDir} (dynamodb/, s3/, events.jsonl)`);
  console.log(`  API key:   npx ffaas keys create --name me`);
  console.log(`  workers:   up to ${app.runner.maxConcurrency} at once`);
  console.log(
    `  started in ${app.startupMs} ms${app.definitionFromCache ? ' (state machine from cache)' : ' (state machine synthesized)'}`,
  );

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      console.error('forced exit');
      process.exit(1);
    }
    console.error(
      `${sig}: stopping: no new commands; running ones may finish within the grace period (FFAAS_SHUTDOWN_GRACE_SECONDS), the rest run again on the next start`,
    );
    app.shutdown().then(
      ({ leftRunning }) => {
        if (leftRunning > 0) console.error(`${leftRunning} command(s) left to the next start`);
        process.exit(0);
      },
      (err) => {
        console.error(`stop failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  void main();
}
