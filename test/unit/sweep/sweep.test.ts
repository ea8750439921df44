import { describe, expect, it } from 'vitest';
import {
  commandOfExecutionInput,
  failureForEndedExecution,
  sweepCommand,
  type SweepPorts,
} from '../../../core/sweep.ts';

describe('failureForEndedExecution', () => {
  it('nothing while the execution runs (or may be redriven)', () => {
    expect(failureForEndedExecution({ status: 'RUNNING' })).toBeNull();
    expect(failureForEndedExecution({ status: 'PENDING_REDRIVE' })).toBeNull();
  });
  it('TIMED_OUT → TIMEOUT; ABORTED → INTERNAL_ERROR naming the stop', () => {
    expect(failureForEndedExecution({ status: 'TIMED_OUT' })?.errorStatus).toBe('TIMEOUT');
    const aborted = failureForEndedExecution({ status: 'ABORTED', error: 'manual', cause: 'operator' })!;
    expect(aborted).toMatchObject({ errorStatus: 'INTERNAL_ERROR' });
    expect(aborted.errorMessage).toMatch(/stopped.*manual: operator/);
  });
  it('FAILED with States.DataLimitExceeded names the payload limit; other failures keep their error and a clipped cause', () => {
    expect(
      failureForEndedExecution({ status: 'FAILED', error: 'States.DataLimitExceeded', cause: 'x' })!.errorMessage,
    ).toMatch(/payload limit/);
    const runtime = failureForEndedExecution({ status: 'FAILED', error: 'States.Runtime', cause: 'y'.repeat(5000) })!;
    expect(runtime.errorStatus).toBe('INTERNAL_ERROR');
    expect(runtime.errorMessage).toContain('States.Runtime');
    expect(runtime.errorMessage.length).toBeLessThan(700);
  });
  it('SUCCEEDED while the command is not terminal is still a failure to record', () => {
    expect(failureForEndedExecution({ status: 'SUCCEEDED' })?.errorStatus).toBe('INTERNAL_ERROR');
  });
});

describe('commandOfExecutionInput', () => {
  it('reads account_id and command_id; anything else is null', () => {
    expect(commandOfExecutionInput('{"account_id":"a","command_id":"c","compute":"cpu"}')).toEqual({
      account_id: 'a',
      command_id: 'c',
    });
    expect(commandOfExecutionInput('{"command_id":"c"}')).toBeNull();
    expect(commandOfExecutionInput('not json')).toBeNull();
    expect(commandOfExecutionInput(null)).toBeNull();
  });
});

describe('sweepCommand', () => {
  const ports = (won: boolean, publishFails = false) => {
    const calls: string[] = [];
    const p: SweepPorts = {
      sweep: async (a, c, f) => {
        calls.push(`sweep ${a}/${c} ${f.errorStatus}`);
        return won;
      },
      publish: async (entries) => {
        calls.push(`publish ${entries[0]!.DetailType} ${entries[0]!.Detail.error_status}`);
        if (publishFails) throw new Error('bus refused');
      },
      releaseSlot: async (a, c) => {
        calls.push(`release ${a}/${c}`);
      },
    };
    return { p, calls };
  };
  const cmd = { account_id: 'a', command_id: 'c' };

  it('writes FAILED, then publishes the FAILED event, then gives back the account slot', async () => {
    const { p, calls } = ports(true);
    expect(await sweepCommand(p, cmd, { status: 'TIMED_OUT' })).toBe('swept');
    expect(calls).toEqual(['sweep a/c TIMEOUT', 'publish FFmpeg Command Failed TIMEOUT', 'release a/c']);
  });
  it('a command already terminal is left alone and nothing is published, but its ended execution frees its slot', async () => {
    const { p, calls } = ports(false);
    expect(await sweepCommand(p, cmd, { status: 'FAILED', error: 'States.Runtime' })).toBe('already-terminal');
    expect(calls).toEqual(['sweep a/c INTERNAL_ERROR', 'release a/c']);
  });
  it('a running execution or an unknown command changes nothing', async () => {
    const { p, calls } = ports(true);
    expect(await sweepCommand(p, cmd, { status: 'RUNNING' })).toBe('not-ended');
    expect(await sweepCommand(p, null, { status: 'FAILED' })).toBe('unknown-command');
    expect(calls).toEqual([]);
  });
  it('a bus that refuses the event is an error for the caller, never a silent success', async () => {
    const { p, calls } = ports(true, true);
    await expect(sweepCommand(p, cmd, { status: 'ABORTED' })).rejects.toThrow(/bus refused/);
    // The retry (event redelivery or the next scheduled run) releases the slot.
    expect(calls).not.toContain('release a/c');
  });
});
