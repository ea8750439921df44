/**
 * Per-command task size: cpu from `vcpu_count`, memory and ephemeral storage from the command's
 * inputs and outputs. Pure; the submit puts the result in the execution input and the state
 * machine passes it to RunTask as overrides (cpu, memory, ephemeralStorage).
 *
 * Fargate rules (ECS task size table): memory per cpu between a minimum and a maximum, in 1 GiB
 * steps up to 4 vCPU, 4 GiB steps at 8 vCPU, 8 GiB steps at 16 vCPU; ephemeral storage 21..200
 * GiB (the first 20 GiB are free).
 */
import { LIMITS, type VcpuCount } from './constants.ts';

const GiB = 1024 ** 3;

/** Fargate's memory range (MiB) and step for each cpu size. */
export const FARGATE_MEMORY: Record<VcpuCount, { min: number; max: number; step: number }> = {
  1: { min: 2048, max: 8192, step: 1024 },
  2: { min: 4096, max: 16384, step: 1024 },
  4: { min: 8192, max: 30720, step: 1024 },
  8: { min: 16384, max: 61440, step: 4096 },
  16: { min: 32768, max: 122880, step: 8192 },
};
export const FARGATE_EPHEMERAL_GIB = { min: 21, max: 200 } as const;

/** Memory per vCPU that FFmpeg gets before the extra for inputs. */
export const MEMORY_MIB_PER_VCPU = 2048;
/** Extra memory per input beyond the second (each input has its own demuxer and decoder buffers). */
export const MEMORY_MIB_PER_EXTRA_INPUT = 512;
/** Scratch headroom besides inputs and outputs (ffmpeg temp files, probe, playlist segments list). */
export const EPHEMERAL_HEADROOM_GIB = 1;

export interface SizingInput {
  vcpuCount: VcpuCount;
  /** One entry per input: its size in bytes when known (stored files), undefined for a URL. */
  inputBytes: ReadonlyArray<number | undefined>;
  /** Number of declared outputs. */
  outputCount: number;
}

export interface TaskSizing {
  cpu: number;
  memoryMiB: number;
  ephemeralStorageGiB: number;
  /** What FFmpeg may add to the workspace (FFAAS_WORKSPACE_MAX_BYTES): the disk minus inputs and headroom. */
  workspaceMaxBytes: number;
}

/** Smallest workspace quota: below this a command could not write even a small output. */
export const MIN_WORKSPACE_QUOTA_BYTES = GiB;

/** FFmpeg's share of a disk of `diskGiB` once `inputCount` URL inputs (at their maximum) and the headroom are taken. */
export function workspaceQuotaBytes(diskGiB: number, inputCount: number, knownInputBytes = 0): number {
  const left = (diskGiB - EPHEMERAL_HEADROOM_GIB) * GiB - inputCount * LIMITS.maxInputBytes - knownInputBytes;
  return Math.max(MIN_WORKSPACE_QUOTA_BYTES, Math.floor(left));
}

const roundUp = (value: number, step: number) => Math.ceil(value / step) * step;
const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * The task size of one command. The disk must hold every input (a URL input may be up to
 * LIMITS.maxInputBytes, which the worker enforces while downloading) and every output (each at
 * most LIMITS.maxOutputBytes), plus headroom; more than Fargate's 200 GiB cannot be had, and
 * the worker's own limits then fail the command cleanly (INPUT_TOO_LARGE / OUTPUT_UPLOAD_FAILED).
 */
export function sizeTask(input: SizingInput): TaskSizing {
  const cpu = input.vcpuCount * 1024;
  const range = FARGATE_MEMORY[input.vcpuCount];
  const extraInputs = Math.max(0, input.inputBytes.length - 2);
  const wanted = input.vcpuCount * MEMORY_MIB_PER_VCPU + extraInputs * MEMORY_MIB_PER_EXTRA_INPUT;
  const memoryMiB = clamp(roundUp(wanted, range.step), range.min, range.max);

  const inputBytes = input.inputBytes.reduce<number>(
    (sum, b) => sum + Math.min(b ?? LIMITS.maxInputBytes, LIMITS.maxInputBytes),
    0,
  );
  const outputBytes = Math.max(1, input.outputCount) * LIMITS.maxOutputBytes;
  const diskGiB = Math.ceil((inputBytes + outputBytes) / GiB) + EPHEMERAL_HEADROOM_GIB;
  const ephemeralStorageGiB = clamp(diskGiB, FARGATE_EPHEMERAL_GIB.min, FARGATE_EPHEMERAL_GIB.max);
  const workspaceMaxBytes = Math.max(
    MIN_WORKSPACE_QUOTA_BYTES,
    Math.floor((ephemeralStorageGiB - EPHEMERAL_HEADROOM_GIB) * GiB - inputBytes),
  );
  return { cpu, memoryMiB, ephemeralStorageGiB, workspaceMaxBytes };
}
