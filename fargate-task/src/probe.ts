/**
 * ffprobe, run exactly like ffmpeg (sandboxedSpawn: ffmpeg user, empty env, workspace cwd):
 * inputs are user-supplied bytes and outputs are shaped by user commands, so the parser of
 * both is untrusted code territory. `-protocol_whitelist file` keeps a crafted playlist from
 * making ffprobe reach the network; files are named `file:<name>` so a name is never read as
 * an option or another protocol.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_HEADER_BYTES, probeImageHeader } from '../../core/media/image-header.ts';
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

/**
 * An output's probe: a plain JPEG/PNG picture from its header bytes (core/media/image-header.ts:
 * the same fields ffprobe gives, without a second process as costly as a one-frame FFmpeg run),
 * anything else with probeFile. `fileName` is in `opts.cwd` (the workspace).
 */
export async function probeOutput(fileName: string, opts: ProbeOptions): Promise<ProbeJson | null> {
  if (/\.(jpe?g|png)$/i.test(fileName)) {
    const head = await readHead(path.join(opts.cwd, fileName)).catch(() => null);
    const fromHeader = head ? safeHeaderProbe(fileName, head) : null;
    if (fromHeader) return fromHeader;
  }
  return probeFile(fileName, opts);
}

function safeHeaderProbe(fileName: string, head: Buffer): ProbeJson | null {
  try {
    return probeImageHeader(fileName, head);
  } catch {
    return null; // a truncated or crafted header: ffprobe decides
  }
}

/** The first IMAGE_HEADER_BYTES of a regular file (never through a symlink). */
async function readHead(file: string): Promise<Buffer> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(IMAGE_HEADER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, IMAGE_HEADER_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
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
