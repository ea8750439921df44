/**
 * SendTaskHeartbeat every HEARTBEAT_INTERVAL_SECONDS while the worker runs, so the state
 * machine's heartbeat timeout tells a lost worker (WORKER_LOST) from a long one. If Step
 * Functions says the token is dead (the task timed out or was stopped), `onLost` fires so the
 * worker stops spending time on a result nobody can receive.
 */
import { SendTaskHeartbeatCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Logger } from './log.ts';

const TOKEN_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export interface Heartbeats {
  stop(): Promise<void>;
}

export function startHeartbeats(opts: {
  sfn: SFNClient;
  taskToken: string;
  intervalMs: number;
  log: Logger;
  onLost: (reason: string) => void;
  /**
   * After each beat Step Functions took: stamp `heartbeat_at` on the command (the sweeper's
   * silent-worker check reads it). Its failure is logged, never fatal.
   */
  onBeat?: () => Promise<unknown>;
}): Heartbeats {
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const beat = () => {
    if (stopped) return;
    inFlight = opts.sfn
      .send(new SendTaskHeartbeatCommand({ taskToken: opts.taskToken }))
      .then(async () => {
        if (stopped || !opts.onBeat) return;
        await opts
          .onBeat()
          .catch((err: { name?: string }) =>
            opts.log.warn('heartbeat_at not written', { error: err?.name ?? 'Error' }),
          );
      })
      .catch((err: { name?: string }) => {
        const name = err?.name ?? 'Error';
        if (TOKEN_GONE.has(name)) {
          opts.log.warn('task token no longer valid; stopping', { error: name });
          if (!stopped) opts.onLost(name);
        } else {
          // Transient: the next beat may get through before the heartbeat timeout.
          opts.log.warn('heartbeat failed', { error: name });
        }
      });
  };
  beat();
  const timer = setInterval(beat, opts.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
