/**
 * Before a command runs, the files its filters open by themselves (plan.filter_files: subtitles,
 * LUTs, fonts, text) are checked by content (core/media/filter-input-check.ts). A refused file
 * ends the command FAILED before FFmpeg starts: INPUT_DOWNLOAD_FAILED for a downloaded input
 * (the input is unusable as given), FFMPEG_FAILED for a file an earlier chained command wrote.
 */
import { lstat, open } from 'node:fs/promises';
import path from 'node:path';
import type { CommandPlan } from '../../core/types.ts';
import { checkFilterFile, type FilterFileIo } from '../../core/media/index.ts';
import { FILTER_FILE_KINDS } from '../../core/command/filter-files.ts';
import { WorkerError } from './errors.ts';
import { probeFile, type ProbeOptions } from './probe.ts';

export function workspaceFileIo(workspace: string, probe: ProbeOptions): FilterFileIo {
  const full = (name: string): string => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
      throw new WorkerError('INTERNAL_ERROR', `"${name}" is not a plain workspace name`);
    return path.join(workspace, name);
  };
  return {
    async size(name) {
      const st = await lstat(full(name)).catch(() => null);
      return st && st.isFile() ? st.size : null;
    },
    async read(name, max) {
      const fh = await open(full(name), 'r');
      try {
        const buf = Buffer.alloc(max);
        const { bytesRead } = await fh.read(buf, 0, max, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    probe: (name, formats) => probeFile(name, probe, formats),
  };
}

/** Check the filter files of command `index`; throws a WorkerError naming the first refused one. */
export async function checkFilterFilesOf(plan: CommandPlan, index: number, io: FilterFileIo): Promise<void> {
  const downloaded = new Map(plan.inputs.map((i) => [i.local_name, i.alias]));
  for (const f of plan.filter_files ?? []) {
    if (f.command_index !== index) continue;
    const verdict = await checkFilterFile(f.local_name, f.kind, io);
    if (verdict.ok) continue;
    const alias = downloaded.get(f.local_name);
    const what = `${alias ? `input ${alias}` : 'file'} ("${f.local_name}"), given to filter option ${f.opened_by} as ${FILTER_FILE_KINDS[f.kind].label}`;
    throw new WorkerError(
      alias ? 'INPUT_DOWNLOAD_FAILED' : 'FFMPEG_FAILED',
      `${what}, was refused before FFmpeg ran: ${verdict.reason}`,
    );
  }
}
