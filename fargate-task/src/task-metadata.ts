/**
 * The worker's own ECS task ARN, from the task metadata endpoint v4 (`$ECS_CONTAINER_METADATA_URI_V4/task`,
 * set by ECS in every container of Fargate and of EC2 tasks with agent 1.39+). Recorded on the
 * command so a cancel can stop the task at once (docs/CONTROL.md). Outside ECS (local mode,
 * tests without the variable) there is none, and a failure here never fails the command.
 */
import type { Logger } from './log.ts';

/** The environment variable ECS sets in each container. */
export const METADATA_URI_ENV = 'ECS_CONTAINER_METADATA_URI_V4';
const TIMEOUT_MS = 2000;

/** The task ARN, or null when there is no metadata endpoint or it did not answer with one. */
export async function ecsTaskArn(metadataUri: string | undefined, log?: Logger): Promise<string | null> {
  if (!metadataUri) return null;
  try {
    const res = await fetch(`${metadataUri.replace(/\/+$/, '')}/task`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = (await res.json()) as { TaskARN?: unknown };
    if (typeof body.TaskARN !== 'string' || !body.TaskARN.startsWith('arn:'))
      throw new Error('no TaskARN in the answer');
    return body.TaskARN;
  } catch (err) {
    log?.warn('task metadata not read', { error: (err as Error).message });
    return null;
  }
}
