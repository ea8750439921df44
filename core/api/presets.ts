/**
 * Presets (RenderIO): saved command templates. A preset is created with docs/API.md's names
 * (`input_files` map or RenderIO's `input_file_keys` list; `output_files` or RenderIO's
 * `output_file_definitions`) and answered with both sets, so clients written against either
 * read what they expect. Executing a preset fills its inputs and submits a command through
 * the same checks as run-ffmpeg-command (the policy also checked it when it was saved).
 */
import type { CommandType } from '../constants.ts';
import type { SubmitRequest } from './command-item.ts';
import { ApiError } from './errors.ts';

/** The presets table item (key: account_id + preset_id). */
export interface PresetItem {
  account_id: string;
  preset_id: string;
  name: string;
  description?: string;
  command_type: Extract<CommandType, 'FFMPEG_COMMAND' | 'CHAINED_COMMAND'>;
  ffmpeg_command?: string;
  ffmpeg_commands?: string[];
  input_file_keys: string[];
  output_file_definitions: Record<string, string>;
  metadata?: Record<string, string | number | boolean>;
  created_at: string;
  updated_at: string;
}

/** The create body after schema validation (core/api/schemas.ts CreatePresetSchema). */
export interface CreatePresetBody {
  name: string;
  description?: string;
  input_files?: Record<string, string> | string[];
  input_file_keys?: string[];
  output_files?: Record<string, string>;
  output_file_definitions?: Record<string, string>;
  ffmpeg_command?: string;
  ffmpeg_commands?: string[];
  metadata?: Record<string, string | number | boolean>;
}

/** The input aliases a preset declares (the keys of a map, or RenderIO's list). */
export function presetInputKeys(body: Pick<CreatePresetBody, 'input_files' | 'input_file_keys'>): string[] {
  if (body.input_file_keys) return [...new Set(body.input_file_keys)];
  if (Array.isArray(body.input_files)) return [...new Set(body.input_files)];
  return Object.keys(body.input_files ?? {});
}

export function buildPresetItem(args: {
  accountId: string;
  presetId: string;
  body: CreatePresetBody;
  now: Date;
}): PresetItem {
  const { body } = args;
  const now = args.now.toISOString();
  const item: PresetItem = {
    account_id: args.accountId,
    preset_id: args.presetId,
    name: body.name,
    command_type: body.ffmpeg_commands !== undefined ? 'CHAINED_COMMAND' : 'FFMPEG_COMMAND',
    input_file_keys: presetInputKeys(body),
    output_file_definitions: body.output_file_definitions ?? body.output_files ?? {},
    created_at: now,
    updated_at: now,
  };
  if (body.ffmpeg_commands !== undefined) item.ffmpeg_commands = body.ffmpeg_commands;
  else item.ffmpeg_command = body.ffmpeg_command ?? '';
  if (body.description !== undefined) item.description = body.description;
  if (body.metadata !== undefined) item.metadata = body.metadata;
  return item;
}

/** Placeholder inputs to police a preset's command when it is saved (no URL is fetched). */
export function presetCheckInputs(keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, `https://preset-input.invalid/${k}`]));
}

export interface PresetResponse {
  preset_id: string;
  name: string;
  description: string | null;
  is_system: false;
  command_type: PresetItem['command_type'];
  ffmpeg_command: string | null;
  ffmpeg_commands: string[] | null;
  input_file_keys: string[];
  output_file_definitions: Record<string, string>;
  /** docs/API.md's names for the same things. */
  input_files: string[];
  output_files: Record<string, string>;
  metadata: Record<string, string | number | boolean> | null;
  created_at: string;
  updated_at: string;
}

export function toPresetResponse(item: PresetItem): PresetResponse {
  return {
    preset_id: item.preset_id,
    name: item.name,
    description: item.description ?? null,
    is_system: false,
    command_type: item.command_type,
    ffmpeg_command: item.ffmpeg_command ?? null,
    ffmpeg_commands: item.ffmpeg_commands ?? null,
    input_file_keys: item.input_file_keys,
    output_file_definitions: item.output_file_definitions,
    input_files: item.input_file_keys,
    output_files: item.output_file_definitions,
    metadata: item.metadata ?? null,
    created_at: item.created_at,
    updated_at: item.updated_at,
  };
}

export interface ExecutePresetBody {
  input_files: Record<string, string>;
  metadata?: Record<string, string | number | boolean>;
  webhook_url?: string;
}

/**
 * The submit request of an execution. The inputs must be exactly the preset's keys (a
 * missing or an extra one is a 422, as RenderIO answers); metadata is the preset's merged
 * with the execution's (the execution wins), at most LIMITS.maxMetadataKeys in all (the
 * submit's own check).
 */
export function presetSubmitRequest(
  preset: PresetItem,
  body: ExecutePresetBody,
): { request: SubmitRequest; commandType: PresetItem['command_type'] } {
  const given = Object.keys(body.input_files);
  const missing = preset.input_file_keys.filter((k) => !given.includes(k));
  const extra = given.filter((k) => !preset.input_file_keys.includes(k));
  if (missing.length > 0 || extra.length > 0) {
    const details = [
      ...missing.map((k) => ({ path: ['input_files', k], message: 'required by the preset', type: 'missing' })),
      ...extra.map((k) => ({
        path: ['input_files', k],
        message: 'not an input of the preset',
        type: 'extra_forbidden',
      })),
    ];
    throw new ApiError(
      'VALIDATION_ERROR',
      `input_files must have exactly the preset's keys (${preset.input_file_keys.join(', ') || 'none'})`,
      details,
    );
  }
  const metadata =
    preset.metadata || body.metadata ? { ...(preset.metadata ?? {}), ...(body.metadata ?? {}) } : undefined;
  const request: SubmitRequest = {
    input_files: body.input_files,
    output_files: preset.output_file_definitions,
    ...(preset.ffmpeg_commands !== undefined
      ? { ffmpeg_commands: preset.ffmpeg_commands }
      : { ffmpeg_command: preset.ffmpeg_command ?? '' }),
    ...(metadata !== undefined ? { metadata } : {}),
    ...(body.webhook_url !== undefined ? { webhook_url: body.webhook_url } : {}),
  };
  return { request, commandType: preset.command_type };
}
