// FFmpeg comes from the OS (Debian's build, the same one the worker image installs), and so
// does bubblewrap, FFmpeg's sandbox in local mode (docs/SECURITY-POLICY.md).
// As root with apt-get at hand the missing ones are installed; otherwise ffmpeg missing stops
// with the command to run, and bubblewrap missing is left to local mode, which says what it
// means at start (FFAAS_SANDBOX).
import { execFileSync, spawnSync } from 'node:child_process';

const has = (tool, arg = '-version') => spawnSync(tool, [arg], { stdio: 'ignore' }).status === 0;
const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
const missing = [];
if (!has('ffmpeg') || !has('ffprobe')) missing.push('ffmpeg');
if (process.platform === 'linux' && !has('bwrap', '--version')) missing.push('bubblewrap');
// Debian's chromium drives the web console's test (test/e2e/console.test.ts skips without it).
if (process.platform === 'linux' && canApt && !has('chromium', '--version')) missing.push('chromium');

if (missing.length > 0) {
  if (!canApt) {
    if (missing.includes('ffmpeg')) {
      console.error(
        'ffmpeg not found: install it with `sudo apt-get install -y ffmpeg bubblewrap` (macOS: `brew install ffmpeg`)',
      );
      process.exit(1);
    }
    console.error(
      'bubblewrap (bwrap) not found: FFmpeg cannot be sandboxed; install it with `sudo apt-get install -y bubblewrap`',
    );
  } else {
    console.error(`${missing.join(' and ')} not found: installing with apt-get …`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
}
