/**
 * The command state machine in local mode: the definition synthesized from the CDK stack,
 * rendered to the exact ASL AWS would run, executed by aws-local-stepfunctions with each Task
 * state bound (by its Resource ARN) to a local action:
 *   dynamodb:getItem|putItem|updateItem|deleteItem  → the same call against dynalite
 *   ecs:runTask.waitForTaskToken                    → the worker as a child process; its
 *                                                      SendTask* calls settle the task
 *   events:putEvents                                → the local event bus
 * The module also implements the Step Functions API (StartExecution, SendTask*, …) that the
 * local endpoint (local/aws-endpoint.ts) serves, with a FIFO queue capping how many
 * executions run at once.
 *
 * Deviations from AWS that this file makes up for (see docs/LOCAL.md):
 * - aws-local-stepfunctions does not enforce HeartbeatSeconds: the RunTask action watches the
 *   worker's SendTaskHeartbeat calls and fails the task with States.HeartbeatTimeout.
 * - it evaluates TimeoutSecondsPath against the state's Parameters output (AWS: against the
 *   state input) and defaults a Task without a timeout to 60 s (AWS: 99999999 s): every Task's
 *   timeout is moved into a hidden Parameters entry, resolved against the state input like AWS
 *   does, and enforced here (States.Timeout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { ENV, STATE, TABLE, WORKER_CONTAINER_NAME } from '../core/constants.ts';
import { AwsApiError, type StepFunctionsApi } from './aws-endpoint.ts';
import type { LocalEventBus, PutEventsEntry } from './event-bus.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalNames } from './services.ts';
import { installedVersion, sourceHash } from './source-hash.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;
type CfnTemplate = { Resources?: Record<string, { Type: string; Properties?: Json; Metadata?: Json }>; Parameters?: Record<string, Json> };

// ---------------------------------------------------------------------------------------------
// Synthesizing and rendering
// ---------------------------------------------------------------------------------------------

/**
 * Synthesizes FfaasStack in this process (lib's synthesizeForLocal: no esbuild bundling, no
 * Docker asset) and returns its template. The cloud assembly goes to a temp dir, removed after.
 */
export async function synthesizeStackTemplate(): Promise<CfnTemplate> {
  const { synthesizeForLocal } = await import('../lib/ffaas-stack.ts');
  const outdir = await mkdtemp(path.join(os.tmpdir(), 'ffaas-synth-'));
  const previous = process.env.CDK_OUTDIR;
  process.env.CDK_OUTDIR = outdir;
  try {
    return synthesizeForLocal().template as CfnTemplate;
  } finally {
    if (previous === undefined) delete process.env.CDK_OUTDIR;
    else process.env.CDK_OUTDIR = previous;
    await rm(outdir, { recursive: true, force: true });
  }
}

/**
 * The rendered ASL of the stack's command state machine, from `$dataDir/state-machine.asl.json`
 * when that was rendered from the same sources (hash of lib/, core/, local/ and the aws-cdk-lib
 * version), else synthesized now (a few seconds) and cached. `fromCache` says which.
 */
export async function loadDefinition(opts: { names: LocalResourceNames; cacheDir?: string }): Promise<{ asl: Json; fromCache: boolean }> {
  const key = await definitionSourceHash(opts.names);
  const file = opts.cacheDir ? path.join(opts.cacheDir, 'state-machine.asl.json') : null;
  if (file) {
    try {
      const cached = JSON.parse(await readFile(file, 'utf8'));
      if (cached?.key === key && cached.asl) return { asl: cached.asl, fromCache: true };
    } catch {
      // no cache yet
    }
  }
  const asl = renderStateMachine(await synthesizeStackTemplate(), opts.names);
  if (file) await writeFile(file, JSON.stringify({ key, asl }, null, 1)).catch(() => undefined);
  return { asl, fromCache: false };
}

function definitionSourceHash(names: LocalResourceNames): Promise<string> {
  return installedVersion(REPO_ROOT, 'aws-cdk-lib').then((cdkVersion) =>
    // local/ too: the rendering lives there.
    sourceHash(REPO_ROOT, ['lib', 'core', 'local'], [JSON.stringify(names), cdkVersion]),
  );
}

export interface LocalResourceNames extends LocalNames {
  eventBusName: string;
  clusterName: string;
  stateMachineName: string;
}

export const LOCAL_RESOURCE_DEFAULTS = {
  eventBusName: 'ffaas-local-bus',
  clusterName: 'ffaas-local',
  stateMachineName: 'ffaas-commands',
} as const;

const arn = (service: string, resource: string) => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;

export function stateMachineArnFor(name: string): string {
  return arn('states', `stateMachine:${name}`);
}

/** Which of the three tables a table resource is, by its key schema (names are generated on AWS). */
function tableKind(props: Json): keyof LocalNames['tables'] | null {
  const keys = ((props?.KeySchema ?? []) as { AttributeName: string; KeyType: string }[]).map((k) => `${k.KeyType}:${k.AttributeName}`).sort().join(',');
  if (keys === `HASH:${TABLE.commands.partitionKey},RANGE:${TABLE.commands.sortKey}`) return 'commands';
  if (keys === `HASH:${TABLE.apiKeys.partitionKey}`) return 'apiKeys';
  if (keys === `HASH:${TABLE.accounts.partitionKey}`) return 'accounts';
  return null;
}

/**
 * Resolves a CloudFormation value (string, Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split,
 * Fn::Sub) with every resource replaced by its local name, so the result is what AWS would see.
 */
export function resolveCfnValue(template: CfnTemplate, value: Json, names: LocalResourceNames): Json {
  const resources = template.Resources ?? {};
  const refOf = (id: string): string => {
    switch (id) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return LOCAL_REGION;
      case 'AWS::AccountId':
        return LOCAL_ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'ffaas-local';
      case 'AWS::StackId':
        return arn('cloudformation', 'stack/ffaas-local/local');
    }
    const param = template.Parameters?.[id];
    if (param) return String(param.Default ?? '');
    const res = resources[id];
    if (!res) throw new Error(`state machine definition refers to unknown resource ${id}`);
    switch (res.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable': {
        const kind = tableKind(res.Properties);
        if (!kind) throw new Error(`cannot tell which table ${id} is from its key schema`);
        return names.tables[kind];
      }
      case 'AWS::Events::EventBus':
        return names.eventBusName;
      case 'AWS::ECS::Cluster':
        return names.clusterName;
      case 'AWS::ECS::TaskDefinition':
        return arn('ecs', `task-definition/${id}:1`);
      case 'AWS::S3::Bucket':
        return names.bucket;
      case 'AWS::EC2::Subnet':
        return `subnet-${id.toLowerCase().slice(0, 17)}`;
      case 'AWS::EC2::SecurityGroup':
        return `sg-${id.toLowerCase().slice(0, 17)}`;
      case 'AWS::Lambda::Function':
        return `ffaas-local-${id}`;
      case 'AWS::SQS::Queue':
        return `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${id}`;
      default:
        return `local-${id}`;
    }
  };
  const getAtt = (id: string, attr: string): string => {
    const res = resources[id];
    if (!res) throw new Error(`state machine definition refers to unknown resource ${id}`);
    const name = refOf(id);
    if (attr === 'Arn') {
      switch (res.Type) {
        case 'AWS::DynamoDB::Table':
        case 'AWS::DynamoDB::GlobalTable':
          return arn('dynamodb', `table/${name}`);
        case 'AWS::Events::EventBus':
          return arn('events', `event-bus/${name}`);
        case 'AWS::ECS::Cluster':
          return arn('ecs', `cluster/${name}`);
        case 'AWS::S3::Bucket':
          return `arn:aws:s3:::${name}`;
        case 'AWS::Lambda::Function':
          return arn('lambda', `function:${name}`);
        case 'AWS::SQS::Queue':
          return arn('sqs', id);
        case 'AWS::IAM::Role':
          return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${id}`;
        default:
          return arn('local', id);
      }
    }
    if (attr === 'Name') return name;
    if (attr === 'GroupId') return name;
    if (attr === 'TaskDefinitionArn') return name;
    return `${name}-${attr}`;
  };
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = v[k];
      if (k === 'Ref') return refOf(arg);
      if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
        return getAtt(id, attr);
      }
      if (k === 'Fn::Join') return (walk(arg[1]) as Json[]).map(String).join(arg[0]);
      if (k === 'Fn::Select') return (walk(arg[1]) as Json[])[Number(walk(arg[0]))];
      if (k === 'Fn::Split') return String(walk(arg[1])).split(arg[0]);
      if (k === 'Fn::Sub') {
        const [text, vars] = Array.isArray(arg) ? [arg[0], walk(arg[1] ?? {})] : [arg, {}];
        return String(text).replace(/\$\{([^}!][^}]*)\}/g, (_m, expr: string) => {
          if (expr in vars) return String(vars[expr]);
          const [id, attr] = expr.split('.');
          return attr ? getAtt(id, attr) : refOf(id);
        });
      }
      if (k.startsWith('Fn::')) throw new Error(`cannot render ${k} in the state machine definition locally`);
    }
    return Object.fromEntries(keys.map((key) => [key, walk(v[key])]));
  };
  return walk(value);
}

/** Finds the command state machine (the one with a MarkProcessing state) and renders its ASL. */
export function renderStateMachine(template: CfnTemplate, names: LocalResourceNames): Json {
  const machines = Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length === 0) throw new Error('the stack has no AWS::StepFunctions::StateMachine');
  // The stack has other state machines (the file ingest's, run differently in local mode):
  // one that cannot be resolved here is skipped, unless none is the command state machine.
  let lastError: Error | undefined;
  for (const [, res] of machines) {
    const props = res.Properties ?? {};
    let asl: Json;
    try {
      if (props.Definition) asl = resolveCfnValue(template, props.Definition, names);
      else if (props.DefinitionString !== undefined) {
        let text = resolveCfnValue(template, props.DefinitionString, names);
        const subs = props.DefinitionSubstitutions ? resolveCfnValue(template, props.DefinitionSubstitutions, names) : null;
        if (subs) text = String(text).replace(/\$\{([^}]+)\}/g, (m: string, k: string) => (k in subs ? String(subs[k]) : m));
        asl = JSON.parse(text);
      } else continue;
    } catch (err) {
      lastError = err as Error;
      continue;
    }
    if (asl?.States?.[STATE.MarkProcessing]) return asl;
  }
  throw lastError ?? new Error(`no state machine in the stack has a ${STATE.MarkProcessing} state`);
}

// ---------------------------------------------------------------------------------------------
// Preparing the definition for aws-local-stepfunctions
// ---------------------------------------------------------------------------------------------

const HIDDEN = {
  params: '__ffaas_params',
  timeout: '__ffaas_timeout_seconds',
  heartbeat: '__ffaas_heartbeat_seconds',
} as const;
/** Largest delay setTimeout accepts (≈24.8 days): the library's own Task timeout, never reached. */
const LIBRARY_TASK_TIMEOUT_SECONDS = Math.floor(2 ** 31 / 1000) - 1;

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

/** Every Task state, nested ones included (overrides are keyed by state name). */
export function taskStates(asl: Json): TaskStateInfo[] {
  const out: TaskStateInfo[] = [];
  forEachStates(asl, (name, state) => {
    if (state.Type === 'Task') out.push({ name, resource: state.Resource, state });
  });
  return out;
}

/**
 * A copy of the ASL where each Task's timeout and heartbeat travel in hidden Parameters entries
 * (resolved by the engine against the state input, as AWS does for the *Path forms) and the
 * engine's own Task timeout is out of the way; the local actions enforce them instead.
 */
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

// ---------------------------------------------------------------------------------------------
// Errors and actions
// ---------------------------------------------------------------------------------------------

/** An error a Retry/Catch matches by name (`Error`), with `Cause` = message. */
export class StatesError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

export interface ActionContext {
  stateName: string;
  resource: string;
  execution: ExecutionRecord;
  /** Aborted when the task times out or the execution stops: stop the work. */
  signal: AbortSignal;
  /** Resolved HeartbeatSeconds(Path) of the state, if any. */
  heartbeatSeconds?: number;
}

export type LocalAction = (params: Json, ctx: ActionContext) => Promise<Json>;

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

// ---------------------------------------------------------------------------------------------
// Executions and task tokens
// ---------------------------------------------------------------------------------------------

export type ExecutionStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  name: string;
  arn: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  abort?: () => void;
  /** Cancels the running tasks of this execution (their children are killed). */
  controller: AbortController;
  done: Promise<ExecutionRecord>;
  settle: (r: ExecutionRecord) => void;
}

interface TaskRecord {
  token: string;
  execution: ExecutionRecord;
  stateName: string;
  settled: boolean;
  resolve: (v: Json) => void;
  reject: (e: Error) => void;
  heartbeatMs?: number;
  heartbeatTimer?: NodeJS.Timeout;
  onHeartbeatTimeout?: () => void;
  onSettled: () => void;
}

/** How the RunTask action starts a worker: a command line, run in `cwd` with the task's env. */
export interface WorkerCommand {
  command: string;
  args: string[];
  cwd?: string;
}

/** The real worker: fargate-task/src/main.ts on this Node with tsx's loader. */
export function defaultWorkerCommand(): WorkerCommand {
  return {
    command: process.execPath,
    args: ['--import', new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href, path.join(REPO_ROOT, 'fargate-task/src/main.ts')],
    cwd: REPO_ROOT,
  };
}

export interface LocalStepFunctionsOptions {
  /** Rendered ASL (renderStateMachine). */
  definition: Json;
  stateMachineArn: string;
  dynamodb: DynamoDBClient;
  bus: LocalEventBus;
  /** Base environment of every worker (local AWS env + PATH etc.); the container overrides are added. */
  workerEnv: () => Record<string, string>;
  worker?: WorkerCommand;
  /** At most this many executions run at once; the rest wait in FIFO order. */
  maxConcurrency?: number;
  /** Overrides the states' HeartbeatSeconds (tests: a few seconds). */
  heartbeatTimeoutSeconds?: number;
  /** Receives each line the worker prints. Default: stderr, prefixed. */
  workerLog?: (line: string, info: { commandId?: string; stream: 'stdout' | 'stderr' }) => void;
  /** Extra or replacement actions by Resource ARN. */
  actions?: Record<string, LocalAction>;
}

const MAX_CLOSED = 10_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.set(key, value);
  if (map.size > MAX_CLOSED) map.delete(map.keys().next().value as K);
}

/** Step Functions, locally: the StepFunctionsApi the endpoint serves, plus helpers for tests. */
export class LocalStepFunctions extends EventEmitter implements StepFunctionsApi {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly maxConcurrency: number;
  private readonly machine: StateMachine;
  private readonly bindings: { stateName: string; resource: string; action: LocalAction }[];
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly queue: ExecutionRecord[] = [];
  private running = 0;
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly closedTokens = new Map<string, 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT'>();
  private readonly children = new Set<ChildProcess>();
  private stopped = false;

  constructor(private readonly opts: LocalStepFunctionsOptions) {
    super();
    this.stateMachineArn = opts.stateMachineArn;
    this.stateMachineName = opts.stateMachineArn.split(':').pop()!;
    this.maxConcurrency = Math.max(1, opts.maxConcurrency ?? os.cpus().length);
    const prepared = prepareForLocalRun(opts.definition);
    this.machine = new StateMachine(prepared, { validationOptions: { checkArn: false } });
    this.bindings = this.bindTaskStates(prepared);
  }

  // ---- binding Task states to actions ----

  private actionFor(resource: string): LocalAction | null {
    const custom = this.opts.actions?.[resource];
    if (custom) return custom;
    let m = /^arn:aws:states:::dynamodb:(getItem|putItem|updateItem|deleteItem)$/.exec(resource);
    if (m) return dynamodbAction(this.opts.dynamodb, m[1], 'DynamoDB');
    m = /^arn:aws:states:::aws-sdk:dynamodb:(getItem|putItem|updateItem|deleteItem|query)$/.exec(resource);
    if (m) return dynamodbAction(this.opts.dynamodb, m[1], 'DynamoDb');
    if (resource === 'arn:aws:states:::ecs:runTask.waitForTaskToken') return (p, c) => this.runTask(p, c);
    if (resource === 'arn:aws:states:::events:putEvents') return (p) => this.putEvents(p);
    return null;
  }

  private bindTaskStates(asl: Json): { stateName: string; resource: string; action: LocalAction }[] {
    const bindings: { stateName: string; resource: string; action: LocalAction }[] = [];
    const seen = new Map<string, string>();
    for (const { name, resource } of taskStates(asl)) {
      const action = this.actionFor(resource);
      if (!action) throw new Error(`local mode has no action for Task state "${name}" (Resource ${resource})`);
      if (seen.has(name) && seen.get(name) !== resource) throw new Error(`two Task states are named "${name}" with different resources`);
      if (!seen.has(name)) bindings.push({ stateName: name, resource, action });
      seen.set(name, resource);
    }
    return bindings;
  }

  /**
   * The per-state wrapper: unpacks the hidden timeout/heartbeat entries, runs the action with
   * an abort signal, and enforces the state's timeout (States.Timeout).
   */
  private wrapAction(stateName: string, resource: string, action: LocalAction, execution: ExecutionRecord): (input: Json) => Promise<Json> {
    return async (input: Json) => {
      const params = input?.[HIDDEN.params];
      const timeoutSeconds = input?.[HIDDEN.timeout];
      const heartbeatSeconds = input?.[HIDDEN.heartbeat];
      for (const [label, v] of [['TimeoutSeconds', timeoutSeconds], ['HeartbeatSeconds', heartbeatSeconds]] as const) {
        if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
          throw new StatesError('States.Runtime', `${label} of state ${stateName} must be a positive integer, got ${JSON.stringify(v)}`);
        }
      }
      const controller = new AbortController();
      const onStop = () => controller.abort(new StatesError('States.Aborted', 'execution stopped'));
      execution.controller.signal.addEventListener('abort', onStop, { once: true });
      let timer: NodeJS.Timeout | undefined;
      try {
        const work = action(params, { stateName, resource, execution, signal: controller.signal, heartbeatSeconds });
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
        execution.controller.signal.removeEventListener('abort', onStop);
        if (!controller.signal.aborted) controller.abort(new StatesError('States.Aborted', 'state finished'));
      }
    };
  }

  // ---- actions ----

  private async putEvents(params: Json): Promise<Json> {
    const entries = (params?.Entries ?? []) as PutEventsEntry[];
    const out = await this.opts.bus.putEvents(entries);
    if (out.FailedEntryCount > 0) {
      throw new StatesError('EventBridge.FailedEntry', JSON.stringify(out.Entries.filter((e) => e.ErrorCode)));
    }
    return out;
  }

  /**
   * ecs:runTask.waitForTaskToken: start the worker with the container overrides' environment
   * and wait for SendTaskSuccess/SendTaskFailure with the token it was given. A worker that
   * stops heartbeating, or exits without reporting, fails the task with States.HeartbeatTimeout
   * (the definition maps that to WORKER_LOST).
   */
  private runTask(params: Json, ctx: ActionContext): Promise<Json> {
    const env = containerEnvironment(params);
    const token = env[ENV.TASK_TOKEN];
    if (!token) {
      return Promise.reject(new StatesError('States.Runtime', `RunTask of state ${ctx.stateName} passes no ${ENV.TASK_TOKEN} to the container`));
    }
    if (this.tasks.has(token) || this.closedTokens.has(token)) {
      return Promise.reject(new StatesError('States.Runtime', 'task token reused'));
    }
    const commandId = env[ENV.COMMAND_ID];
    const heartbeatSeconds = this.opts.heartbeatTimeoutSeconds ?? ctx.heartbeatSeconds;

    return new Promise<Json>((resolve, reject) => {
      let child: ChildProcess | undefined;
      let stderrTail = '';
      const task: TaskRecord = {
        token,
        execution: ctx.execution,
        stateName: ctx.stateName,
        settled: false,
        resolve,
        reject,
        heartbeatMs: heartbeatSeconds ? heartbeatSeconds * 1000 : undefined,
        onSettled: () => {
          clearTimeout(task.heartbeatTimer);
          ctx.signal.removeEventListener('abort', onAbort);
        },
      };
      const fail = (err: Error, closed: 'FAILED' | 'TIMED_OUT') => {
        if (this.settleTask(task, closed)) reject(err);
        if (child) this.killChild(child);
      };
      const onAbort = () => {
        // The state timed out, or the execution stopped: the token is dead, the worker goes.
        fail(ctx.signal.reason instanceof Error ? ctx.signal.reason : new StatesError('States.Aborted', 'aborted'), 'TIMED_OUT');
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.tasks.set(token, task);
      this.armHeartbeat(task, () => {
        fail(new StatesError('States.HeartbeatTimeout', `no heartbeat from the worker for ${heartbeatSeconds} s`), 'TIMED_OUT');
      });

      const worker = this.opts.worker ?? defaultWorkerCommand();
      const log = this.opts.workerLog ?? ((line: string, info: { commandId?: string }) => process.stderr.write(`[worker ${info.commandId?.slice(0, 8) ?? '?'}] ${line}\n`));
      try {
        const childEnv = { ...this.opts.workerEnv(), ...env };
        // The worker makes its workspace inside FFAAS_WORK_DIR; on ECS that is the image's.
        if (childEnv[ENV.WORK_DIR]) mkdirSync(childEnv[ENV.WORK_DIR], { recursive: true });
        child = spawn(worker.command, worker.args, {
          cwd: worker.cwd ?? REPO_ROOT,
          env: childEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
          // Own process group, so a kill also reaches the ffmpeg it runs.
          detached: true,
        });
      } catch (err) {
        fail(new StatesError('ECS.AmazonECSException', `the worker could not be started: ${(err as Error).message}`), 'FAILED');
        return;
      }
      this.children.add(child);
      for (const stream of ['stdout', 'stderr'] as const) {
        let buffered = '';
        child[stream]!.setEncoding('utf8');
        child[stream]!.on('data', (chunk: string) => {
          if (stream === 'stderr') stderrTail = (stderrTail + chunk).slice(-2048);
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) log(line, { commandId, stream });
        });
        child[stream]!.on('end', () => {
          if (buffered) log(buffered, { commandId, stream });
        });
      }
      child.on('error', (err) => {
        fail(new StatesError('ECS.AmazonECSException', `the worker could not be started: ${err.message}`), 'FAILED');
      });
      child.on('exit', (code, signal) => {
        this.children.delete(child!);
        if (task.settled) return;
        // The worker awaits its SendTask* call before it exits, so a report is already in; give
        // a request still in flight a moment anyway.
        setTimeout(() => {
          const tail = stderrTail.trim().split('\n').slice(-5).join('\n');
          fail(
            new StatesError(
              'States.HeartbeatTimeout',
              `the worker exited (${signal ? `signal ${signal}` : `code ${code}`}) without reporting a result${tail ? `; last output: ${tail}` : ''}`,
            ),
            'TIMED_OUT',
          );
        }, 200);
      });
    });
  }

  private armHeartbeat(task: TaskRecord, onTimeout: () => void): void {
    clearTimeout(task.heartbeatTimer);
    if (!task.heartbeatMs || task.settled) return;
    task.heartbeatTimer = setTimeout(onTimeout, task.heartbeatMs);
    task.onHeartbeatTimeout = onTimeout;
  }

  /** Marks a task finished; false when it already was. */
  private settleTask(task: TaskRecord, closed: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT'): boolean {
    if (task.settled) return false;
    task.settled = true;
    this.tasks.delete(task.token);
    remember(this.closedTokens, task.token, closed);
    task.onSettled();
    return true;
  }

  private killChild(child: ChildProcess): void {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        child.kill(sig);
      }
    };
    killGroup('SIGTERM');
    const t = setTimeout(() => killGroup('SIGKILL'), 2000);
    t.unref();
    child.once('exit', () => clearTimeout(t));
  }

  // ---- Step Functions API ----

  private taskFor(token: unknown): TaskRecord {
    if (typeof token !== 'string' || token.length === 0 || token.length > 2048) throw new AwsApiError('InvalidToken', 'invalid task token');
    const task = this.tasks.get(token);
    if (task) return task;
    if (this.closedTokens.has(token)) throw new AwsApiError('TaskTimedOut', 'the task is no longer running');
    throw new AwsApiError('TaskDoesNotExist', 'no task with this token');
  }

  SendTaskSuccess(req: { taskToken?: string; output?: string }): Json {
    const task = this.taskFor(req.taskToken);
    let output: Json;
    try {
      output = JSON.parse(req.output ?? '');
    } catch {
      throw new AwsApiError('InvalidOutput', 'output is not valid JSON');
    }
    if (this.settleTask(task, 'SUCCEEDED')) task.resolve(output);
    return {};
  }

  SendTaskFailure(req: { taskToken?: string; error?: string; cause?: string }): Json {
    const task = this.taskFor(req.taskToken);
    if (this.settleTask(task, 'FAILED')) task.reject(new StatesError(req.error || 'States.TaskFailed', req.cause ?? ''));
    return {};
  }

  SendTaskHeartbeat(req: { taskToken?: string }): Json {
    const task = this.taskFor(req.taskToken);
    if (task.onHeartbeatTimeout) this.armHeartbeat(task, task.onHeartbeatTimeout);
    return {};
  }

  StartExecution(req: { stateMachineArn?: string; name?: string; input?: string }): Json {
    if (this.stopped) throw new AwsApiError('ServiceUnavailable', 'local mode is shutting down', 503);
    if (req.stateMachineArn !== this.stateMachineArn) {
      throw new AwsApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${req.stateMachineArn}'`);
    }
    const name = req.name ?? randomBytes(16).toString('hex');
    if (!/^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/u.test(name)) {
      throw new AwsApiError('InvalidName', `Invalid Name: '${name}'`);
    }
    const input = req.input ?? '{}';
    try {
      JSON.parse(input);
    } catch {
      throw new AwsApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    const existing = this.executions.get(name);
    if (existing) {
      // Same name and input while it runs: the same answer (StartExecution is idempotent);
      // otherwise the name is taken (AWS keeps names of closed executions for 90 days).
      if (existing.input === input && (existing.status === 'QUEUED' || existing.status === 'RUNNING')) {
        return { executionArn: existing.arn, startDate: existing.startDate.getTime() / 1000 };
      }
      throw new AwsApiError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    let settle!: (r: ExecutionRecord) => void;
    const done = new Promise<ExecutionRecord>((r) => (settle = r));
    const record: ExecutionRecord = {
      name,
      arn: arn('states', `execution:${this.stateMachineName}:${name}`),
      input,
      status: 'QUEUED',
      startDate: new Date(),
      controller: new AbortController(),
      done,
      settle,
    };
    remember(this.executions, name, record);
    this.queue.push(record);
    this.pump();
    return { executionArn: record.arn, startDate: record.startDate.getTime() / 1000 };
  }

  DescribeExecution(req: { executionArn?: string }): Json {
    const name = String(req.executionArn ?? '').split(':').pop() ?? '';
    const e = this.executions.get(name);
    if (!e || e.arn !== req.executionArn) throw new AwsApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${req.executionArn}'`);
    return {
      executionArn: e.arn,
      stateMachineArn: this.stateMachineArn,
      name: e.name,
      // A queued execution is RUNNING as far as the API goes (AWS has no queue to show).
      status: e.status === 'QUEUED' ? 'RUNNING' : e.status,
      startDate: e.startDate.getTime() / 1000,
      ...(e.stopDate ? { stopDate: e.stopDate.getTime() / 1000 } : {}),
      input: e.input,
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
    };
  }

  StopExecution(req: { executionArn?: string; error?: string; cause?: string }): Json {
    const name = String(req.executionArn ?? '').split(':').pop() ?? '';
    const e = this.executions.get(name);
    if (!e || e.arn !== req.executionArn) throw new AwsApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${req.executionArn}'`);
    this.stopExecution(e, req.error, req.cause);
    return { stopDate: (e.stopDate ?? new Date()).getTime() / 1000 };
  }

  // ---- running ----

  private stopExecution(e: ExecutionRecord, error?: string, cause?: string): void {
    if (e.status === 'QUEUED') {
      const i = this.queue.indexOf(e);
      if (i >= 0) this.queue.splice(i, 1);
      this.finish(e, { status: 'ABORTED', error, cause });
    } else if (e.status === 'RUNNING') {
      e.error = error;
      e.cause = cause;
      e.controller.abort(new StatesError('States.Aborted', 'execution stopped'));
      e.abort?.();
    }
  }

  private pump(): void {
    while (!this.stopped && this.running < this.maxConcurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.running++;
      void this.runExecution(next).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async runExecution(e: ExecutionRecord): Promise<void> {
    e.status = 'RUNNING';
    this.emit('executionStarted', e);
    const context = {
      Execution: { Id: e.arn, Name: e.name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/ffaas-local-state-machine` },
      StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
      // aws-local-stepfunctions fills only $$.Execution.Input/StartTime; the definition also
      // reads $$.State.EnteredTime (resolved as the state's Parameters are, on entering it).
      State: {
        get EnteredTime() {
          return new Date().toISOString();
        },
      },
      // A fresh token each time $$.Task.Token is read, i.e. one per RunTask attempt.
      Task: {
        get Token() {
          return mintTaskToken();
        },
      },
    };
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const b of this.bindings) handlers[b.stateName] = this.wrapAction(b.stateName, b.resource, b.action, e);
    try {
      const run = this.machine.run(JSON.parse(e.input), { overrides: { taskResourceLocalHandlers: handlers }, context });
      e.abort = run.abort;
      if (e.controller.signal.aborted) run.abort();
      const output = await run.result;
      this.finish(e, { status: 'SUCCEEDED', output: JSON.stringify(output) });
    } catch (err) {
      const error = err as Error & { cause?: Error };
      if (error.name === 'ExecutionAbortedError') this.finish(e, { status: 'ABORTED', error: e.error, cause: e.cause });
      else if (error.name === 'ExecutionTimeoutError') this.finish(e, { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'execution timed out' });
      else {
        const inner = error.cause instanceof Error ? error.cause : error;
        this.finish(e, { status: 'FAILED', error: inner.name, cause: inner.message });
      }
    } finally {
      // Whatever is still running for this execution (a worker after an abort) goes.
      if (!e.controller.signal.aborted) e.controller.abort(new StatesError('States.Aborted', 'execution ended'));
    }
  }

  private finish(e: ExecutionRecord, r: Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>): void {
    Object.assign(e, r);
    e.stopDate = new Date();
    e.abort = undefined;
    this.emit('executionFinished', e);
    e.settle(e);
  }

  // ---- helpers for the runtime and tests ----

  execution(name: string): ExecutionRecord | undefined {
    return this.executions.get(name);
  }

  /** Resolves when the named execution has finished. */
  async waitForExecution(name: string): Promise<ExecutionRecord> {
    const e = this.executions.get(name);
    if (!e) throw new Error(`no execution named ${name}`);
    return e.done;
  }

  stats(): { running: number; queued: number; workers: number } {
    return { running: this.running, queued: this.queue.length, workers: this.children.size };
  }

  /** Stops taking executions, aborts the running ones and kills their workers. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.queue.splice(0)) this.finish(e, { status: 'ABORTED', error: 'States.Aborted', cause: 'local mode stopped' });
    for (const e of this.executions.values()) if (e.status === 'RUNNING') this.stopExecution(e, 'States.Aborted', 'local mode stopped');
    const exits = [...this.children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          this.killChild(c);
        }),
    );
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5000).unref())]);
  }
}

/** Task tokens: opaque and unguessable, like AWS's. */
export function mintTaskToken(): string {
  return `ffaas-local-${randomBytes(48).toString('base64url')}`;
}

/** The worker container's environment from RunTask's Overrides.ContainerOverrides. */
export function containerEnvironment(params: Json): Record<string, string> {
  const overrides = (params?.Overrides?.ContainerOverrides ?? []) as { Name?: string; Environment?: { Name: string; Value: string }[] }[];
  const chosen = overrides.filter((o) => o.Name === WORKER_CONTAINER_NAME);
  const env: Record<string, string> = {};
  for (const o of chosen.length > 0 ? chosen : overrides) {
    for (const { Name, Value } of o.Environment ?? []) env[Name] = String(Value);
  }
  return env;
}
