// FFmpeg comes from the OS (Debian's build, the same one the worker image installs).
// As root with apt-get at hand it is installed; otherwise stop with the command to run.
import { execFileSync, spawnSync } from 'node:child_process';

const has = (tool) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0;
if (!has('ffmpeg') || !has('ffprobe')) {
  const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!canApt) {
    console.error('ffmpeg not found: install it with `sudo apt-get install -y ffmpeg` (macOS: `brew install ffmpeg`)');
    process.exit(1);
  }
  console.error('ffmpeg not found: installing Debian\'s ffmpeg with apt-get …');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'ffmpeg'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
