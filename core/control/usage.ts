/**
 * What a command used, in resource units and an estimated price (the poll's `usage`), and the
 * account's totals per day (GET /usage). Pure: the prices are constants documented in
 * docs/CONTROL.md ("Usage and spend guards").
 *
 * Worker time is started_at → finished_at: the worker runs from the execution's MarkProcessing to
 * its recorded end (or the cancel). A CPU command uses vcpu_count vCPUs (and 2 GiB of memory per
 * vCPU, the task size) for that time; a GPU command one GPU instance. Storage is the bytes of its
 * stored outputs. A QUEUED command has used nothing; a PROCESSING one counts up to `now`.
 */
import type { CommandItem } from '../types.ts';
import { storedOutputs } from '../api/poll.ts';

/** On-demand prices, us-east-1, Linux/x86, as of 2026 (USD). Estimates, not an invoice. */
export const PRICES = {
  /** Fargate, per vCPU-hour. */
  fargateVcpuHour: 0.04048,
  /** Fargate, per GB-hour of memory. */
  fargateGbHour: 0.004445,
  /** A g4dn.xlarge (1 NVIDIA T4) per hour: the default GPU worker instance. */
  gpuInstanceHour: 0.526,
  /** S3 Standard, per GB-month. */
  s3GbMonth: 0.023,
  /** Memory per vCPU of a worker task (core/constants.ts taskSize), GB. */
  memoryGbPerVcpu: 2,
} as const;

export interface Usage {
  vcpu_seconds: number;
  gpu_seconds: number;
  storage_bytes: number;
  estimated_usd: number;
}

export const ZERO_USAGE: Usage = { vcpu_seconds: 0, gpu_seconds: 0, storage_bytes: 0, estimated_usd: 0 };

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The estimated price of some usage; storage is priced for `retentionDays` (outputs live that long). */
export function estimateUsd(u: Omit<Usage, 'estimated_usd'>, retentionDays: number): number {
  const vcpuHours = u.vcpu_seconds / 3600;
  const usd =
    vcpuHours * PRICES.fargateVcpuHour +
    vcpuHours * PRICES.memoryGbPerVcpu * PRICES.fargateGbHour +
    (u.gpu_seconds / 3600) * PRICES.gpuInstanceHour +
    (u.storage_bytes / 1e9) * PRICES.s3GbMonth * (retentionDays / 30);
  return round(usd, 6);
}

export function commandUsage(
  item: Pick<CommandItem, 'status' | 'started_at' | 'finished_at' | 'compute' | 'vcpu_count' | 'output_files_json'>,
  now: Date,
  retentionDays: number,
): Usage {
  if (!item.started_at) return { ...ZERO_USAGE };
  const start = Date.parse(item.started_at);
  const end = item.finished_at ? Date.parse(item.finished_at) : now.getTime();
  const seconds = Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, (end - start) / 1000) : 0;
  let storage = 0;
  for (const o of Object.values(storedOutputs(item))) {
    if (typeof o.size_mbytes === 'number') storage += Math.round(o.size_mbytes * 1048576);
  }
  const u = {
    vcpu_seconds: item.compute === 'gpu' ? 0 : round(seconds * item.vcpu_count, 3),
    gpu_seconds: item.compute === 'gpu' ? round(seconds, 3) : 0,
    storage_bytes: storage,
  };
  return { ...u, estimated_usd: estimateUsd(u, retentionDays) };
}

export interface UsageDay extends Usage {
  /** YYYY-MM-DD (UTC) of the commands' created_at. */
  date: string;
  commands: number;
}

export interface UsageReport {
  from: string;
  to: string;
  totals: Usage & { commands: number };
  days: UsageDay[];
}

/** Sums per UTC day of created_at, and in total. The totals are the sum of the commands' own usage. */
export function usageReport(
  items: CommandItem[],
  range: { from: string; to: string },
  now: Date,
  retentionDays: number,
): UsageReport {
  const days = new Map<string, UsageDay>();
  const totals = { ...ZERO_USAGE, commands: 0 };
  const add = (into: Usage & { commands: number }, u: Usage) => {
    into.vcpu_seconds = round(into.vcpu_seconds + u.vcpu_seconds, 3);
    into.gpu_seconds = round(into.gpu_seconds + u.gpu_seconds, 3);
    into.storage_bytes += u.storage_bytes;
    into.estimated_usd = round(into.estimated_usd + u.estimated_usd, 6);
    into.commands += 1;
  };
  for (const item of items) {
    const u = commandUsage(item, now, retentionDays);
    const date = item.created_at.slice(0, 10);
    let day = days.get(date);
    if (!day) days.set(date, (day = { date, ...ZERO_USAGE, commands: 0 }));
    add(day, u);
    add(totals, u);
  }
  return { ...range, totals, days: [...days.values()].sort((a, b) => a.date.localeCompare(b.date)) };
}

/**
 * The `from`/`to` query: ISO dates (YYYY-MM-DD, whole UTC days, `to` inclusive) or timestamps.
 * Default: the last 30 days up to now. Returns created_at bounds, or an error message.
 */
export function usageRange(
  query: { from?: string; to?: string },
  now: Date,
): { from: string; to: string } | { error: string } {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const parse = (v: string, end: boolean): string | null => {
    if (day.test(v)) {
      const t = Date.parse(`${v}T00:00:00.000Z`);
      if (!Number.isFinite(t)) return null;
      return new Date(end ? t + 86_400_000 - 1 : t).toISOString();
    }
    const t = Date.parse(v);
    return Number.isFinite(t) ? new Date(t).toISOString() : null;
  };
  const to = query.to ? parse(query.to, true) : now.toISOString();
  const from = query.from ? parse(query.from, false) : new Date(now.getTime() - 30 * 86_400_000).toISOString();
  if (to === null) return { error: 'to: not an ISO date (YYYY-MM-DD) or timestamp' };
  if (from === null) return { error: 'from: not an ISO date (YYYY-MM-DD) or timestamp' };
  if (from > to) return { error: 'from is after to' };
  if (Date.parse(to) - Date.parse(from) > 366 * 86_400_000) return { error: 'the range is longer than 366 days' };
  return { from, to };
}
