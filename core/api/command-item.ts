/** Pure construction of what a submit writes (the item) and starts (the execution input). */
import {
  DEFAULT_VCPU_COUNT,
  LIMITS,
  PENDING_MARK,
  TASK_TIMEOUT_ALLOWANCE_SECONDS,
  type CommandType,
  type VcpuCount,
} from '../constants.ts';
import type { CommandItem, CommandPlan, ExecutionInput, OriginalRequest } from '../types.ts';
import type { Compute } from '../constants.ts';
import { sizeTask } from '../sizing.ts';

/** One validated command of a submit, whatever route it came from. */
export interface SubmitRequest {
  input_files: Record<string, string>;
  output_files: Record<string, string>;
  /** run-ffmpeg-command and each of run-multiple: one string. */
  ffmpeg_command?: string;
  /** run-chained-ffmpeg-commands. */
  ffmpeg_commands?: string[];
  metadata?: Record<string, string | number | boolean>;
  webhook_url?: string;
  max_command_run_seconds?: number;
  vcpu_count?: VcpuCount;
}

export interface BuildCommandItemArgs {
  accountId: string;
  commandId: string;
  commandType: CommandType;
  request: SubmitRequest;
  /** The successful parse of the request's command(s). */
  parsed: { plan: CommandPlan; compute: Compute };
  now: Date;
  /** Days the record and its outputs are kept. @default LIMITS.retentionDays */
  retentionDays?: number;
}

export function buildCommandItem(args: BuildCommandItemArgs): CommandItem {
  const { request, now } = args;
  const original: OriginalRequest = {
    input_files: request.input_files,
    output_files: request.output_files,
    ...(request.ffmpeg_commands !== undefined
      ? { ffmpeg_commands: request.ffmpeg_commands }
      : { ffmpeg_command: request.ffmpeg_command ?? '' }),
  };
  const item: CommandItem = {
    account_id: args.accountId,
    command_id: args.commandId,
    status: 'QUEUED',
    command_type: args.commandType,
    created_at: now.toISOString(),
    original_request: original,
    max_command_run_seconds: request.max_command_run_seconds ?? LIMITS.defaultRunSeconds,
    compute: args.parsed.compute,
    vcpu_count: request.vcpu_count ?? DEFAULT_VCPU_COUNT,
    plan: args.parsed.plan,
    pending: PENDING_MARK,
    expire_at: Math.floor(now.getTime() / 1000) + Math.round((args.retentionDays ?? LIMITS.retentionDays) * 86_400),
  };
  if (request.metadata !== undefined) item.metadata = request.metadata;
  if (request.webhook_url !== undefined) item.webhook_url = request.webhook_url;
  return item;
}

/**
 * The execution input; the task size comes from core/sizing.ts (vcpu_count, and the inputs and
 * outputs of the original request: URL inputs count at their maximum size).
 */
export function buildExecutionInput(
  item: Pick<CommandItem, 'account_id' | 'command_id' | 'compute' | 'vcpu_count' | 'max_command_run_seconds'> &
    Partial<Pick<CommandItem, 'original_request'>>,
): ExecutionInput {
  const size = sizeTask({
    vcpuCount: item.vcpu_count,
    inputBytes: Object.keys(item.original_request?.input_files ?? {}).map(() => undefined),
    outputCount: Object.keys(item.original_request?.output_files ?? {}).length,
  });
  return {
    account_id: item.account_id,
    command_id: item.command_id,
    compute: item.compute,
    task_cpu: String(size.cpu),
    task_memory: String(size.memoryMiB),
    task_ephemeral_storage_gib: size.ephemeralStorageGiB,
    task_workspace_max_bytes: String(size.workspaceMaxBytes),
    task_timeout_seconds: item.max_command_run_seconds + TASK_TIMEOUT_ALLOWANCE_SECONDS,
  };
}
