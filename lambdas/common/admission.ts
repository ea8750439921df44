/**
 * Before a submit records anything: the account's queued-command cap and daily spend guards
 * (core/control/admission.ts), with settings from the environment (docs/CONTROL.md).
 */
import { checkQueueRoom, checkSpend } from '../../core/control/admission.ts';
import { readControlSettings, type ControlSettings } from '../../core/control/settings.ts';
import { usageReport } from '../../core/control/usage.ts';
import { LIMITS } from '../../core/constants.ts';
import { commandRepository } from './deps.ts';

let settings: ControlSettings | undefined;

export function resetAdmission(): void {
  settings = undefined;
}

/** Throws 429 RATE_LIMITED (with Retry-After) when `adding` more commands may not be accepted now. */
export async function admitSubmit(accountId: string, adding: number, now: Date = new Date()): Promise<void> {
  settings ??= readControlSettings();
  const commands = commandRepository();
  checkQueueRoom(settings, await commands.countQueued(accountId), adding);
  if (settings.dailyVcpuSeconds > 0 || settings.dailyGpuSeconds > 0) {
    const from = `${now.toISOString().slice(0, 10)}T00:00:00.000Z`;
    const items = await commands.listCreatedBetween(accountId, from, now.toISOString());
    checkSpend(settings, usageReport(items, { from, to: now.toISOString() }, now, LIMITS.retentionDays).totals, now);
  }
}
