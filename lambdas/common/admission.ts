/**
 * Before a submit records anything: the account's queued-command cap and daily spend guards
 * (core/control/admission.ts), with settings from the environment (docs/CONTROL.md).
 */
import { checkQueueRoom, checkSpend } from '../../core/control/admission.ts';
import { QueuedBound } from '../../core/control/queued-bound.ts';
import { CONTROL_ENV, readControlSettings, type ControlSettings } from '../../core/control/settings.ts';
import { usageReport } from '../../core/control/usage.ts';
import { LIMITS } from '../../core/constants.ts';
import { commandRepository } from './deps.ts';

let settings: ControlSettings | undefined;
/** Only where one process answers every submit (CONTROL_ENV.SINGLE_API_PROCESS, local mode). */
let bound: QueuedBound | null | undefined;
/** The exact count under way per account: submits arriving meanwhile wait for it, not count again. */
const counting = new Map<string, Promise<number>>();

export function resetAdmission(): void {
  settings = undefined;
  bound = undefined;
  counting.clear();
}

/** The account's queued commands: exact, or a bound known to be under the cap (see QueuedBound). */
async function checkQueued(accountId: string, adding: number, cap: ControlSettings): Promise<void> {
  bound ??= process.env[CONTROL_ENV.SINGLE_API_PROCESS] === '1' ? new QueuedBound() : null;
  if (!bound) {
    checkQueueRoom(cap, await commandRepository().countQueued(accountId), adding);
    return;
  }
  const b = bound;
  const fits = () => {
    const upper = b.upper(accountId, Date.now());
    return upper !== undefined && upper + adding <= cap.accountMaxQueued;
  };
  const inFlight = counting.get(accountId);
  if (inFlight && !fits()) await inFlight.catch(() => undefined);
  if (fits()) {
    b.admit(accountId, adding, Date.now());
    return;
  }
  const token = b.beginCount(accountId, Date.now());
  const count = commandRepository()
    .countQueued(accountId)
    .then((n) => {
      b.counted(accountId, token, n);
      return n;
    })
    .finally(() => {
      if (counting.get(accountId) === count) counting.delete(accountId);
    });
  counting.set(accountId, count);
  // The bound on the fresh count decides: it adds what was admitted but maybe not yet recorded
  // when the count began, and what was admitted while it ran (a waiting submit may go first).
  const n = await count;
  checkQueueRoom(cap, b.upper(accountId, Date.now()) ?? n, adding);
  b.admit(accountId, adding, Date.now());
}

/** A command admitted by admitSubmit was recorded, or failed to be (recordCommand calls it). */
export function admittedCommandSettled(accountId: string): void {
  bound?.settled(accountId);
}

/** Throws 429 RATE_LIMITED (with Retry-After) when `adding` more commands may not be accepted now. */
export async function admitSubmit(accountId: string, adding: number, now: Date = new Date()): Promise<void> {
  settings ??= readControlSettings();
  const commands = commandRepository();
  await checkQueued(accountId, adding, settings);
  if (settings.dailyVcpuSeconds > 0 || settings.dailyGpuSeconds > 0) {
    const from = `${now.toISOString().slice(0, 10)}T00:00:00.000Z`;
    const items = await commands.listCreatedBetween(accountId, from, now.toISOString());
    checkSpend(settings, usageReport(items, { from, to: now.toISOString() }, now, LIMITS.retentionDays).totals, now);
  }
}
