/** The poll response of GET /commands/{id} (docs/API.md "Polling"), from the stored item. */
import type { CommandItem, StoredOutput } from '../types.ts';
import { LIMITS } from '../constants.ts';
import { commandUsage } from '../control/usage.ts';
import {
  OUTPUT_FILE_META_FIELDS,
  type OriginalRequest,
  type OutputFileMeta,
  type PollResponse,
  type Timings,
} from './responses.ts';

/** The stored outputs of an item (`output_files_json`), or {} when there are none yet. */
export function storedOutputs(item: Pick<CommandItem, 'output_files_json'>): Record<string, StoredOutput> {
  if (!item.output_files_json) return {};
  try {
    const parsed: unknown = JSON.parse(item.output_files_json);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, StoredOutput>)
      : {};
  } catch {
    return {};
  }
}

/**
 * The API view of a stored output: only the OutputFileMeta fields, so a playlist's `companion_names`
 * (up to thousands of segment names) and `s3_key` never reach the poll JSON; `file_count` and
 * the total `size_mbytes` stand for them. Items stored before file_count existed read as 1.
 */
export function toOutputFileMeta(stored: StoredOutput, storageUrl: string | null): OutputFileMeta {
  const source = stored as unknown as Record<string, unknown>;
  const meta = {} as Record<string, unknown>;
  for (const field of OUTPUT_FILE_META_FIELDS) {
    meta[field] = field === 'storage_url' ? (stored.is_deleted ? null : storageUrl) : (source[field] ?? null);
  }
  meta.is_deleted = stored.is_deleted === true;
  meta.file_count = typeof stored.file_count === 'number' && stored.file_count >= 1 ? stored.file_count : 1;
  return meta as unknown as OutputFileMeta;
}

/**
 * Every S3 object key of a stored output: the file itself, then a playlist's companions (at
 * the manifest's prefix). What DELETE /commands/{id}/files must remove.
 */
export function storedObjectKeys(stored: Pick<StoredOutput, 's3_key' | 'companion_names'>): string[] {
  const prefix = stored.s3_key.slice(0, stored.s3_key.lastIndexOf('/') + 1);
  return [stored.s3_key, ...(stored.companion_names ?? []).map((name) => prefix + name)];
}

function seconds(from: string, to: string): number | null {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms) / 1000) : null;
}

/**
 * The poll's `timings`: the worker's phase clock plus the two phases the item's timestamps
 * give (queued: created_at → started_at; report: the worker's report_started_at → finished_at).
 */
export function toTimings(item: Pick<CommandItem, 'created_at' | 'started_at' | 'finished_at' | 'timings'>): Timings {
  const t = item.timings;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return {
    queued: item.started_at ? seconds(item.created_at, item.started_at) : null,
    download: num(t?.download),
    ffmpeg: num(t?.ffmpeg),
    probe: num(t?.probe),
    upload: num(t?.upload),
    report: t?.report_started_at && item.finished_at ? seconds(t.report_started_at, item.finished_at) : null,
  };
}

/**
 * Shape an item as docs/API.md's poll response: every key present, null where absent.
 * `signedUrls` maps output alias → freshly minted GET URL (null or missing: no URL).
 * `now` is the poll time: while a command runs, total_processing_seconds stays null (it is
 * "submission to completion"); `now` only bounds the numbers against clock skew.
 */
export function toPollResponse(
  item: CommandItem,
  signedUrls: Record<string, string | null>,
  now: Date = new Date(),
): PollResponse {
  const outputs = storedOutputs(item);
  const output_files: Record<string, OutputFileMeta> = {};
  for (const [alias, stored] of Object.entries(outputs)) {
    output_files[alias] = toOutputFileMeta(stored, signedUrls[alias] ?? null);
  }
  const finished = item.finished_at ?? null;
  let total = finished ? seconds(item.created_at, finished) : null;
  if (total !== null) {
    const bound = seconds(item.created_at, now.toISOString());
    if (bound !== null && bound > 0 && total > bound) total = bound;
  }
  const original: OriginalRequest = {
    input_files: item.original_request?.input_files ?? {},
    output_files: item.original_request?.output_files ?? {},
    ...(item.original_request?.ffmpeg_command !== undefined
      ? { ffmpeg_command: item.original_request.ffmpeg_command }
      : {}),
    ...(item.original_request?.ffmpeg_commands !== undefined
      ? { ffmpeg_commands: item.original_request.ffmpeg_commands }
      : {}),
  };
  return {
    command_id: item.command_id,
    status: item.status,
    command_type: item.command_type,
    created_at: item.created_at,
    started_at: item.started_at ?? null,
    finished_at: finished,
    total_processing_seconds: total,
    ffmpeg_command_run_seconds: item.ffmpeg_command_run_seconds ?? null,
    metadata: item.metadata ?? null,
    error_status: item.error_status ?? null,
    error_message: item.error_message ?? null,
    progress: item.progress
      ? {
          percent: item.progress.percent ?? null,
          out_time_seconds: item.progress.out_time_seconds ?? 0,
          speed: item.progress.speed ?? null,
          fps: item.progress.fps ?? null,
        }
      : null,
    timings: toTimings(item),
    output_files,
    original_request: original,
    vcpu_count: item.vcpu_count,
    attempts: item.attempts ?? 0,
    expires_at: typeof item.expire_at === 'number' ? new Date(item.expire_at * 1000).toISOString() : null,
    usage: commandUsage(item, now, LIMITS.retentionDays),
  };
}
