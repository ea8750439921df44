/**
 * `npm start`: the whole service on one machine (local/start.ts), as a process.
 * Prints `ffaas listening on <url>` (a spawner reads the port from it), where the data lives,
 * how to create a key and how long the start took. SIGINT/SIGTERM stop it cleanly.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLocalFfaas, type LocalFfaas } from './start.ts';

function ffmpegMissing(): string | null {
  for (const tool of ['ffmpeg', 'ffprobe']) {
    if (spawnSync(tool, ['-version'], { stdio: 'ignore' }).status !== 0) {
      return `${tool} not found: install it with \`sudo apt-get install -y ffmpeg\` (macOS: \`brew install ffmpeg\`)`;
    }
  }
  return null;
}

async function main(): Promise<void> {
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
