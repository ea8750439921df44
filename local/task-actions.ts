/**
 * What each Task state does locally, chosen by its Resource ARN (so a new Task state with a
 * known resource needs no code):
 *   dynamodb:getItem|putItem|updateItem|deleteItem  → the same call against dynalite
 *   ecs:runTask.waitForTaskToken                    → the worker supervisor (a child process)
 *   events:putEvents                                → the local event bus
 * and the wrapper that runs an action with the state's timeout (local/prepare.ts, patch 1).
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { LocalEventBus, PutEventsEntry } from './event-bus.ts';
import { taskStates, unpackTaskInput } from './prepare.ts';
import { StatesError } from './states-error.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

export interface ActionContext {
  stateName: string;
  resource: string;
  execution: { name: string; arn: string };
  /** Aborted when the task times out or the execution stops: stop the work. */
  signal: AbortSignal;
  /** Resolved HeartbeatSeconds(Path) of the state, if any. */
  heartbeatSeconds?: number;
}

/** A Task state's local implementation: resolved Parameters in, the task's result out. */
export type LocalAction = (params: Json, ctx: ActionContext) => Promise<Json>;

export const RUN_TASK_RESOURCE = 'arn:aws:states:::ecs:runTask.waitForTaskToken';
export const PUT_EVENTS_RESOURCE = 'arn:aws:states:::events:putEvents';

const DYNAMODB_COMMANDS: Record<string, new (input: Json) => Json> = {
  getItem: GetItemCommand,
  putItem: PutItemCommand,
  updateItem: UpdateItemCommand,
  deleteItem: DeleteItemCommand,
  query: QueryCommand,
};

function dynamodbAction(client: DynamoDBClient, op: string, errorPrefix: string): LocalAction {
  const Command = DYNAMODB_COMMANDS[op];
  return async (params) => {
    try {
      const out = await client.send(new Command(params));
      const { $metadata: _m, ...rest } = out as Json;
      return rest;
    } catch (err) {
      const e = err as Error;
      // Step Functions names service errors "<Service>.<Exception>" (e.g.
      // DynamoDB.ConditionalCheckFailedException), which is what the definition catches.
      throw new StatesError(`${errorPrefix}.${e.name}`, e.message);
    }
  };
}

function putEventsAction(bus: LocalEventBus): LocalAction {
  return async (params) => {
    const out = await bus.putEvents((params?.Entries ?? []) as PutEventsEntry[]);
    if (out.FailedEntryCount > 0) {
      throw new StatesError('EventBridge.FailedEntry', JSON.stringify(out.Entries.filter((e) => e.ErrorCode)));
    }
    return out;
  };
}

export interface ActionDeps {
  dynamodb: DynamoDBClient;
  bus: LocalEventBus;
  runTask: LocalAction;
}

/** The local action of a Task Resource, or null when local mode has none. */
export function actionFor(resource: string, deps: ActionDeps): LocalAction | null {
  let m = /^arn:aws:states:::dynamodb:(getItem|putItem|updateItem|deleteItem)$/.exec(resource);
  if (m) return dynamodbAction(deps.dynamodb, m[1], 'DynamoDB');
  m = /^arn:aws:states:::aws-sdk:dynamodb:(getItem|putItem|updateItem|deleteItem|query)$/.exec(resource);
  if (m) return dynamodbAction(deps.dynamodb, m[1], 'DynamoDb');
  if (resource === RUN_TASK_RESOURCE) return deps.runTask;
  if (resource === PUT_EVENTS_RESOURCE) return putEventsAction(deps.bus);
  return null;
}

export interface TaskBinding {
  stateName: string;
  resource: string;
  action: LocalAction;
}

/** Binds every Task state to its action; a Task with an unknown Resource fails here, at start-up. */
export function bindTaskStates(asl: Json, deps: ActionDeps): TaskBinding[] {
  const bindings: TaskBinding[] = [];
  const seen = new Map<string, string>();
  for (const { name, resource } of taskStates(asl)) {
    const action = actionFor(resource, deps);
    if (!action) throw new Error(`local mode has no action for Task state "${name}" (Resource ${resource})`);
    if (seen.has(name) && seen.get(name) !== resource)
      throw new Error(`two Task states are named "${name}" with different resources`);
    if (!seen.has(name)) bindings.push({ stateName: name, resource, action });
    seen.set(name, resource);
  }
  return bindings;
}

/**
 * The engine's handler for one bound Task state in one execution: unpacks the hidden
 * timeout/heartbeat entries, runs the action with an abort signal (aborted when the execution
 * stops), and enforces the state's timeout with States.Timeout.
 */
export function taskHandler(
  binding: TaskBinding,
  execution: { name: string; arn: string; signal: AbortSignal },
): (input: Json) => Promise<Json> {
  const { stateName, resource, action } = binding;
  return async (input: Json) => {
    // The engine keeps running a stopped execution's current state to its end, retrying at once
    // (its retry sleeps return on abort): a stopped execution's task does nothing more, as on
    // AWS. Without this a stopped AcquireSlot could still take a slot.
    if (execution.signal.aborted) throw new StatesError('States.Aborted', 'execution stopped');
    const { params, timeoutSeconds, heartbeatSeconds } = unpackTaskInput(input, stateName);
    const controller = new AbortController();
    const onStop = () => controller.abort(new StatesError('States.Aborted', 'execution stopped'));
    execution.signal.addEventListener('abort', onStop, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = action(params, {
        stateName,
        resource,
        execution: { name: execution.name, arn: execution.arn },
        signal: controller.signal,
        heartbeatSeconds,
      });
      if (timeoutSeconds === undefined) return await work;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = new StatesError('States.Timeout', `state ${stateName} ran longer than ${timeoutSeconds} s`);
          controller.abort(err);
          reject(err);
        }, timeoutSeconds * 1000);
      });
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      execution.signal.removeEventListener('abort', onStop);
      if (!controller.signal.aborted) controller.abort(new StatesError('States.Aborted', 'state finished'));
    }
  };
}
