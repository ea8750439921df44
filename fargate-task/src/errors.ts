/** The worker's one error type: a failure with the error_status the command will end with. */
import type { ErrorStatus } from '../../core/constants.ts';

export class WorkerError extends Error {
  override name = 'WorkerError';
  constructor(
    readonly status: ErrorStatus,
    message: string,
  ) {
    super(message);
  }
}

/** Step Functions' limit on SendTaskFailure's cause (characters). */
export const MAX_CAUSE_CHARS = 32_768;

/** Keep a message within `max` characters, cutting the middle so both ends survive. */
export function clampMessage(message: string, max = MAX_CAUSE_CHARS): string {
  if (message.length <= max) return message;
  const marker = '\n…[truncated]…\n';
  const head = Math.floor((max - marker.length) / 4);
  const tail = max - marker.length - head;
  return message.slice(0, head) + marker + message.slice(message.length - tail);
}
