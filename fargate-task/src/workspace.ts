/**
 * The per-command workspace: a fresh directory, mode 0770, group = the ffmpeg user's group so
 * ffmpeg (running as that user) can read the inputs and write the outputs, and nothing else
 * in the container can. The worker runs as root WITHOUT CAP_CHOWN/CAP_DAC_OVERRIDE (see
 * lib/workers.ts), so the chgrp works only because root is a member of the `ffmpeg` group in
 * the image (fargate-task/Dockerfile): an owner may chgrp to a group it belongs to.
 */
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from './log.ts';
import { WorkerError } from './errors.ts';

export async function createWorkspace(opts: {
  parent: string;
  commandId: string;
  ffmpegGid?: number;
  log: Logger;
}): Promise<string> {
  const safeId = opts.commandId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const dir = await mkdtemp(path.join(opts.parent, `ffaas-${safeId}-`));
  await chmod(dir, 0o770);
  if (opts.ffmpegGid !== undefined) {
    try {
      await chown(dir, process.getuid?.() ?? 0, opts.ffmpegGid);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      opts.log.error('workspace chgrp failed', { error: (err as NodeJS.ErrnoException).code ?? 'Error' });
      throw new WorkerError('INTERNAL_ERROR', 'the worker could not prepare a workspace for FFmpeg');
    }
  }
  return dir;
}

export async function removeWorkspace(dir: string, log: Logger): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch (err) {
    log.warn('workspace not removed', { error: (err as NodeJS.ErrnoException).code ?? 'Error' });
  }
}

/** Plan file names are plain names (the parser guarantees it; checked again before use). */
export function assertPlainName(name: string): string {
  if (
    !name ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.length > 255
  ) {
    throw new WorkerError('INTERNAL_ERROR', 'the command plan names a file outside the workspace');
  }
  return name;
}
