/**
 * Shapes that cross a process boundary: the command item in DynamoDB, the state machine's
 * execution input, the worker's result, and the API's OutputFileMeta.
 */
import type { PlannedFilterFile } from './command/filter-files.ts';
import type { CommandStatus, CommandType, Compute, ErrorStatus, VcpuCount } from './constants.ts';
import type { OriginalRequest, OutputFileMeta, Progress } from './api/responses.ts';

// The API's shapes are spelled once, as zod schemas in core/api/responses.ts.
export type { FileType, OriginalRequest, OutputFileMeta, Progress } from './api/responses.ts';

/** One input the worker downloads before running FFmpeg. */
export interface PlannedInput {
  alias: string; // in_*
  /** http(s) URL to fetch; for a stored file `s3://bucket/key` (informational: s3_key is read). */
  url: string;
  /** A stored file of the command's account: the worker reads this object of its bucket. */
  s3_key?: string;
  /** File name inside the workspace; keeps the URL path's extension. */
  local_name: string;
}

/** One output the worker probes and uploads after FFmpeg exits. */
export interface PlannedOutput {
  alias: string; // out_*
  /** File name inside the workspace (and the stored object's name): the user's output name. */
  local_name: string;
  /**
   * A playlist manifest (HLS .m3u8 / DASH .mpd, or an `out_playlist_*` alias): the worker also
   * stores the files FFmpeg wrote next to it (segments, sub-playlists, init files). Absent on
   * ordinary outputs. Set by parseFfmpegCommand (isPlaylistOutput).
   */
  playlist?: true;
  /**
   * A numbered sequence (`frame_%03d.png`, `seg_%d.ts`: one %d / %0Nd, core/command/paths.ts
   * sequencePattern): the worker stores every file the pattern matched, the first as the
   * output and the others beside it, and reports their number in file_count. Absent otherwise.
   */
  sequence?: true;
}

/**
 * What the worker runs, fixed at submit time by parseFfmpegCommand: every placeholder is
 * already replaced by a workspace file name and the service's forced options are in place.
 * `argv` never contains the program name; the worker adds its own leading options
 * (-nostdin -hide_banner -nostats -progress pipe:1 -y).
 */
export interface CommandPlan {
  inputs: PlannedInput[];
  outputs: PlannedOutput[];
  /** One argv per FFmpeg run (several for chained commands), run in order in one workspace. */
  commands: string[][];
  /**
   * Workspace files a filter opens by itself (subtitles, LUTs, fonts, text): the worker checks
   * their content before the command that opens them runs. Absent when there are none.
   */
  filter_files?: PlannedFilterFile[];
}

/**
 * An output as stored on the command item: the meta without a URL, plus where it lives.
 * `file_count` is optional here only because items stored before it existed lack it (read as 1).
 */
export type StoredOutput = Omit<OutputFileMeta, 'storage_url' | 'file_count'> & {
  s3_key: string;
  file_count?: number;
  /**
   * Playlist and sequence outputs only: the names of the companion objects (segments; the
   * 2nd, 3rd, ... file of a sequence), each stored at `s3_key`'s prefix + name
   * (S3_KEYS.output(account, command, name)), so relative references in a manifest resolve
   * next to it. For deleting them (storedObjectKeys); never in the poll JSON.
   */
  companion_names?: string[];
};

/**
 * The worker's phase clock (`timings` on the command item, the store's recordTimings step):
 * seconds spent in each phase, null when the phase was not reached; `report_started_at` is when
 * the worker began reporting by task token (the poll's `report` runs from it to finished_at).
 */
export interface WorkerTimings {
  download: number | null;
  ffmpeg: number | null;
  probe: number | null;
  upload: number | null;
  report_started_at: string | null;
}

/** The command item in the commands table (key: account_id + command_id). */
export interface CommandItem {
  account_id: string;
  command_id: string;
  status: CommandStatus;
  command_type: CommandType;
  created_at: string; // ISO-8601
  started_at?: string;
  finished_at?: string;
  /** Seconds FFmpeg itself ran (sum over chained runs). */
  ffmpeg_command_run_seconds?: number;
  metadata?: Record<string, string | number | boolean>;
  error_status?: ErrorStatus;
  error_message?: string;
  /** FFmpeg's progress while it runs; the last one with the outputs (null: it reported none). */
  progress?: Progress | null;
  /** The worker's phase clock, written just before it reports (storeOutputs, or recordTimings on a failure). */
  timings?: WorkerTimings;
  /**
   * Written by the worker (storeOutputs) before it reports success: JSON of
   * Record<alias, StoredOutput>, beside (not inside) the task result, so it is never bounded
   * by Step Functions' payload limit.
   */
  output_files_json?: string;
  /** Worker starts so far (the worker counts itself in; re-runs of a lost worker add to it). */
  attempts?: number;
  /** The running worker's task token (never shown by the API): the sweeper fails a silent worker's task with it. */
  task_token?: string;
  /** When the running worker last heartbeated (ISO-8601); the silent-worker limit is measured from it. */
  heartbeat_at?: string;
  /** On ECS: the running worker's task ARN; a cancel stops that task. */
  worker_task_arn?: string;
  original_request: OriginalRequest;
  webhook_url?: string;
  max_command_run_seconds: number;
  compute: Compute;
  vcpu_count: VcpuCount;
  plan: CommandPlan;
  /** Present only while the command waits for its execution (PENDING_MARK). */
  pending?: string;
  /** Partition of the sparse `pending` index (pendingShard); removed with `pending`. */
  pending_shard?: string;
  /** Partition of the `by_status` index: `<account_id>#<status>` (statusKey), moved with status. */
  status_key?: string;
  /** Epoch seconds; DynamoDB TTL. */
  expire_at?: number;
}

/** Input of one state machine execution (named by command_id). */
export interface ExecutionInput {
  account_id: string;
  command_id: string;
  compute: Compute;
  /** Task size overrides for RunTask (core/sizing.ts; cpu and memory are strings, as ECS wants them). */
  task_cpu: string;
  task_memory: string;
  /** Fargate ephemeral storage (GiB, 21..200) for the command's inputs and outputs (core/sizing.ts). */
  task_ephemeral_storage_gib: number;
  /** FFAAS_WORKSPACE_MAX_BYTES of the Fargate run: what FFmpeg may write on that disk (core/sizing.ts). */
  task_workspace_max_bytes: string;
  /** max_command_run_seconds + TASK_TIMEOUT_ALLOWANCE_SECONDS. */
  task_timeout_seconds: number;
  /**
   * Set on an execution started again for a command left PROCESSING by a lost execution (local
   * mode after a restart): the state machine resumes it (ResumeProcessing) instead of ending
   * at AlreadyFinished.
   */
  resume?: true;
  /**
   * false: skip the per-account slots (AcquireSlot). Local mode sets it on every execution it
   * runs, because its own fair queue (local/fair-queue.ts) already caps each account; on AWS
   * the input never has it (docs/CONTROL.md).
   */
  account_slots?: boolean;
}

/**
 * The worker's SendTaskSuccess output. The full outputs are stored on the item; this carries
 * them without a playlist's `companion_names`, so its size is bounded by the number of outputs
 * (checked against MAX_RESULT_BYTES).
 */
export interface WorkerResult {
  ffmpeg_command_run_seconds: number;
  output_files: Record<string, StoredOutput>;
}

/**
 * Detail of the EventBridge events (source EVENT_SOURCE). It carries what the state machine
 * knows at the end; storage URLs are not in events (they expire; events are archived), the
 * poll and the webhook mint fresh ones.
 */
export interface CommandEventDetail {
  command_id: string;
  account_id: string;
  status: 'SUCCESS' | 'FAILED';
  finished_at: string;
  ffmpeg_command_run_seconds?: number;
  output_files?: Record<string, StoredOutput>;
  error_status?: ErrorStatus;
  error_message?: string;
}
