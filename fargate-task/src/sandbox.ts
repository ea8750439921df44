/**
 * How ffmpeg and ffprobe are started (docs/SECURITY-POLICY.md layers 1 and 9): an argv array and no shell,
 * an EMPTY environment (the worker's AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, task token and
 * everything else stay out of the child), the workspace as cwd, no stdin, and — in the image —
 * the unprivileged `ffmpeg` user, so it can neither read the worker's /proc/<pid>/environ nor
 * write outside the workspace. Pure, so tests can assert the exact options.
 */
import type { SpawnOptions } from 'node:child_process';

export interface SandboxIdentity {
  cwd: string;
  uid?: number;
  gid?: number;
}

export interface SpawnSpec {
  file: string;
  args: string[];
  options: SpawnOptions & { env: Record<string, string>; shell: false };
}

export function sandboxedSpawn(file: string, args: readonly string[], id: SandboxIdentity): SpawnSpec {
  const options: SpawnSpec['options'] = {
    cwd: id.cwd,
    env: {},
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  };
  // Node's spawn runs setgroups(0)+setgid+setuid in the child: the tool gets no supplementary
  // groups (the worker's membership of the ffmpeg group does not leak into it).
  if (id.gid !== undefined) options.gid = id.gid;
  if (id.uid !== undefined) options.uid = id.uid;
  return { file, args: [...args], options };
}

/** The worker's own options, in front of every user argv (API contract: -progress pipe:1). */
export const FFMPEG_LEADING_ARGS = ['-nostdin', '-hide_banner', '-nostats', '-progress', 'pipe:1', '-y'] as const;
