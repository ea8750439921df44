import { execFileSync } from 'node:child_process';

/** Fail fast, in one line, when the machine lacks what the suites run for real. */
export default function setup(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22)
    throw new Error(`tests need Node 22 (found ${process.versions.node}); run them with \`npm test\` after \`npm ci\``);
  for (const tool of ['ffmpeg', 'ffprobe']) {
    try {
      execFileSync(tool, ['-version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} not found: install it with \`sudo apt-get install -y ffmpeg\``);
    }
  }
}
