/**
 * Media fixtures made with lavfi at test time (nothing binary is committed): tiny 160x120 / 1 s
 * files, plus a 30 s `long.mp4` for time-limit cases. `const fx = await makeFixtures()` then
 * `fx.path('video.mp4')`; `await fx.cleanup()` in afterAll. Pass `names` to make only some.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const V = ['-f', 'lavfi', '-i', 'testsrc2=duration=1:size=160x120:rate=25'];
const A = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1'];

/** File name → ffmpeg arguments (before the output name). */
export const FIXTURE_RECIPES = {
  /** H.264 + AAC, 1 s, 160x120 @ 25 fps. */
  'video.mp4': [
    ...V,
    ...A,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
  ],
  /** VP9 + Opus, 1 s. */
  'video.webm': [...V, ...A, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-c:a', 'libopus', '-shortest'],
  /** MP3, 1 s mono. */
  'audio.mp3': [...A, '-c:a', 'libmp3lame'],
  /** PCM WAV, 1 s mono. */
  'audio.wav': [...A],
  /** One 160x120 PNG. */
  'image.png': ['-f', 'lavfi', '-i', 'testsrc2=size=160x120', '-frames:v', '1'],
  /** 30 s H.264, for time limits (slow filters on it outlast a 1 s budget). */
  'long.mp4': [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=duration=30:size=160x120:rate=25',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
  ],
} as const satisfies Record<string, readonly string[]>;

export type FixtureName = keyof typeof FIXTURE_RECIPES;
export const FIXTURE_NAMES = Object.keys(FIXTURE_RECIPES) as FixtureName[];

export interface Fixtures {
  dir: string;
  path(name: FixtureName): string;
  cleanup(): Promise<void>;
}

export async function makeFixtures(opts: { names?: readonly FixtureName[]; dir?: string } = {}): Promise<Fixtures> {
  const dir = opts.dir ?? (await mkdtemp(path.join(tmpdir(), 'ffaas-fixtures-')));
  for (const name of opts.names ?? FIXTURE_NAMES) {
    await run('ffmpeg', [
      '-nostdin',
      '-hide_banner',
      '-v',
      'error',
      '-y',
      ...FIXTURE_RECIPES[name],
      path.join(dir, name),
    ]);
  }
  return {
    dir,
    path: (name) => path.join(dir, name),
    cleanup: () => (opts.dir ? Promise.resolve() : rm(dir, { recursive: true, force: true })),
  };
}
