/**
 * Preparing the rendered ASL for aws-local-stepfunctions, which differs from AWS Step Functions
 * in ways the command state machine depends on. Each patch below says what differs and why the
 * patch is needed; docs/LOCAL.md ("Deviations from AWS") lists them for users.
 *
 * 1. TimeoutSecondsPath is evaluated against the state's Parameters output (AWS: the state
 *    input), so `$.task_timeout_seconds` fails with States.Runtime; and a Task without a
 *    timeout gets 60 s (AWS: 99999999 s). → prepareForLocalRun moves every Task's
 *    TimeoutSeconds(Path) into a hidden Parameters entry (the engine resolves `.$` entries
 *    against the state input, exactly like AWS resolves the *Path fields), sets the engine's
 *    own timeout out of reach, and the task actions enforce the timeout (local/task-actions.ts).
 * 2. HeartbeatSeconds(Path) is not enforced at all. → moved into a hidden entry the same way;
 *    the worker supervisor watches SendTaskHeartbeat against it (local/worker-supervisor.ts).
 * 3. The Context Object lacks `$$.State.EnteredTime` and `$$.Task.Token`, which the definition
 *    reads. → localContextObject supplies both.
 */
import { randomBytes } from 'node:crypto';
import { LOCAL_ACCOUNT } from './services.ts';
import { StatesError } from './states-error.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

/** Names of the hidden Parameters entries; a Task's own Parameters travel under `params`. */
export const HIDDEN = {
  params: '__ffaas_params',
  timeout: '__ffaas_timeout_seconds',
  heartbeat: '__ffaas_heartbeat_seconds',
} as const;

/** Largest delay setTimeout accepts (≈24.8 days): the engine's own Task timeout, never reached. */
export const LIBRARY_TASK_TIMEOUT_SECONDS = Math.floor(2 ** 31 / 1000) - 1;

export interface TaskStateInfo {
  name: string;
  resource: string;
  state: Json;
}

function forEachStates(asl: Json, fn: (name: string, state: Json) => void): void {
  for (const [name, state] of Object.entries<Json>(asl?.States ?? {})) {
    fn(name, state);
    if (state.Type === 'Map') forEachStates(state.ItemProcessor ?? state.Iterator, fn);
    if (state.Type === 'Parallel') for (const branch of state.Branches ?? []) forEachStates(branch, fn);
  }
}

/** Every Task state, nested ones included (the engine's overrides are keyed by state name). */
export function taskStates(asl: Json): TaskStateInfo[] {
  const out: TaskStateInfo[] = [];
  forEachStates(asl, (name, state) => {
    if (state.Type === 'Task') out.push({ name, resource: state.Resource, state });
  });
  return out;
}

/** Patches 1 and 2: a copy of the ASL where each Task's timeout and heartbeat travel in hidden Parameters entries. */
export function prepareForLocalRun(asl: Json): Json {
  const copy = structuredClone(asl);
  forEachStates(copy, (_name, state) => {
    if (state.Type !== 'Task') return;
    const params: Json = {};
    if ('Parameters' in state) params[HIDDEN.params] = state.Parameters;
    else params[`${HIDDEN.params}.$`] = '$';
    if (state.TimeoutSecondsPath) params[`${HIDDEN.timeout}.$`] = state.TimeoutSecondsPath;
    else if (state.TimeoutSeconds !== undefined) params[HIDDEN.timeout] = state.TimeoutSeconds;
    if (state.HeartbeatSecondsPath) params[`${HIDDEN.heartbeat}.$`] = state.HeartbeatSecondsPath;
    else if (state.HeartbeatSeconds !== undefined) params[HIDDEN.heartbeat] = state.HeartbeatSeconds;
    state.Parameters = params;
    delete state.TimeoutSecondsPath;
    delete state.HeartbeatSecondsPath;
    delete state.HeartbeatSeconds;
    state.TimeoutSeconds = LIBRARY_TASK_TIMEOUT_SECONDS;
  });
  return copy;
}

/**
 * What a prepared Task's handler receives, unpacked: the state's own resolved Parameters and its
 * resolved timeout and heartbeat. A resolved value that is not a positive integer is a
 * States.Runtime error, as on AWS.
 */
export function unpackTaskInput(
  input: Json,
  stateName: string,
): { params: Json; timeoutSeconds?: number; heartbeatSeconds?: number } {
  const params = input?.[HIDDEN.params];
  const timeoutSeconds = input?.[HIDDEN.timeout];
  const heartbeatSeconds = input?.[HIDDEN.heartbeat];
  for (const [label, v] of [
    ['TimeoutSeconds', timeoutSeconds],
    ['HeartbeatSeconds', heartbeatSeconds],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
      throw new StatesError(
        'States.Runtime',
        `${label} of state ${stateName} must be a positive integer, got ${JSON.stringify(v)}`,
      );
    }
  }
  return { params, timeoutSeconds, heartbeatSeconds };
}

/** Task tokens: opaque and unguessable, like AWS's. */
export function mintTaskToken(): string {
  return `ffaas-local-${randomBytes(48).toString('base64url')}`;
}

/**
 * Patch 3: the Context Object of one execution. The engine fills only `$$.Execution.Input` and
 * `StartTime` itself; the definition also reads `$$.State.EnteredTime` (resolved when the state's
 * Parameters are, i.e. on entering it) and `$$.Task.Token` (a fresh token each time it is read:
 * one per RunTask attempt, retries included).
 */
export function localContextObject(
  execution: { arn: string; name: string },
  stateMachine: { arn: string; name: string },
): Json {
  return {
    Execution: {
      Id: execution.arn,
      Name: execution.name,
      RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/ffaas-local-state-machine`,
    },
    StateMachine: { Id: stateMachine.arn, Name: stateMachine.name },
    State: {
      get EnteredTime() {
        return new Date().toISOString();
      },
    },
    Task: {
      get Token() {
        return mintTaskToken();
      },
    },
  };
}
