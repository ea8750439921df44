/**
 * ffprobe, run exactly like ffmpeg (sandboxedSpawn: ffmpeg user, empty env, workspace cwd):
 * inputs are user-supplied bytes and outputs are shaped by user commands, so the parser of
 * both is untrusted code territory. `-protocol_whitelist file` keeps a crafted playlist from
 * making ffprobe reach the network; files are named `file:<name>` so a name is never read as
 * an option or another protocol.
 */
import { spawn } from 'node:child_process';
import type { ProbeJson } from '../../core/media/index.ts';
import { sandboxedSpawn, type SandboxIdentity } from './sandbox.ts';

const MAX_PROBE_OUTPUT = 8 * 1024 * 1024;

export interface ProbeOptions extends SandboxIdentity {
  ffprobePath: string;
  timeoutMs: number;
}

/** `formats` adds `-format_whitelist` (the filter-file content check: only these demuxers). */
export function ffprobeArgs(fileName: string, formats?: readonly string[]): string[] {
  const whitelist = formats ? ['-format_whitelist', formats.join(',')] : [];
  return [
    '-v',
    'error',
    '-protocol_whitelist',
    'file',
    ...whitelist,
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    `file:${fileName}`,
  ];
}

/** ffprobe JSON of a workspace file, or null when ffprobe cannot read it (not media, timeout). */
export function probeFile(
  fileName: string,
  opts: ProbeOptions,
  formats?: readonly string[],
): Promise<ProbeJson | null> {
  const spec = sandboxedSpawn(opts.ffprobePath, ffprobeArgs(fileName, formats), opts);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    const child = spawn(spec.file, spec.args, spec.options);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_PROBE_OUTPUT) {
        overflow = true;
        child.kill('SIGKILL');
      } else chunks.push(c);
    });
    child.stderr!.resume();
    child.on('error', () => {});
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0 || overflow) return resolve(null);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ProbeJson);
      } catch {
        resolve(null);
      }
    });
  });
}

/** Duration in seconds from probe JSON (format, else the longest stream); null if unknown. */
export function probeDuration(probe: ProbeJson | null): number | null {
  if (!probe) return null;
  const values = [probe.format?.duration, ...(probe.streams ?? []).map((s) => s.duration)]
    .map((v) => (v === undefined ? NaN : Number(v)))
    .filter((n) => Number.isFinite(n) && n > 0);
  const format = Number(probe.format?.duration);
  if (Number.isFinite(format) && format > 0) return format;
  return values.length ? Math.max(...values) : null;
}
