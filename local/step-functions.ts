/**
 * Step Functions, locally: the API the local endpoint serves (local/aws-endpoint.ts) —
 * StartExecution, DescribeExecution, StopExecution, SendTaskSuccess/Failure/Heartbeat — over the
 * rendered definition (local/render.ts) prepared for aws-local-stepfunctions
 * (local/prepare.ts), each Task state bound to its local action (local/task-actions.ts), RunTask
 * to the worker supervisor (local/worker-supervisor.ts). StartExecution enqueues: a FIFO queue
 * (local/execution-queue.ts) caps how many executions run at once.
 *
 * Executions live in memory (docs/LOCAL.md: restart recovery is local/recovery.ts's job).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { AwsApiError, type StepFunctionsApi } from './aws-endpoint.ts';
import type { LocalEventBus } from './event-bus.ts';
import { FairQueue } from './fair-queue.ts';
import { CONTROL_DEFAULTS } from '../core/control/settings.ts';
import { localContextObject, prepareForLocalRun } from './prepare.ts';
import { localArn } from './render.ts';
import { StatesError } from './states-error.ts';
import { bindTaskStates, taskHandler, type ActionContext, type TaskBinding } from './task-actions.ts';
import { WorkerSupervisor, type WorkerCommand, type WorkerLog } from './worker-supervisor.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

export type ExecutionStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  name: string;
  arn: string;
  input: string;
  /** The input's account_id ('' when none): the fair queue's key. */
  accountId: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  abort?: () => void;
  /** Cancels the running tasks of this execution (their workers are killed). */
  controller: AbortController;
  done: Promise<ExecutionRecord>;
  settle: (r: ExecutionRecord) => void;
}

export interface LocalStepFunctionsOptions {
  /** Rendered ASL (local/render.ts). */
  definition: Json;
  /**
   * The definition was already checked by validateDefinition() (local/definition.ts does when it
   * renders): skip aws-local-stepfunctions' schema validation, which compiles its JSON schemas
   * with ajv on every start (~0.4 s of CPU). @default false
   */
  validated?: boolean;
  stateMachineArn: string;
  dynamodb: DynamoDBClient;
  bus: LocalEventBus;
  /** Base environment of every worker (local AWS env + PATH etc.); the container overrides are added. */
  workerEnv: () => Record<string, string>;
  /** @default the worker from its sources (defaultWorkerCommand) */
  worker?: WorkerCommand;
  /** At most this many executions run at once; the rest wait in FIFO order. @default the CPU count */
  maxConcurrency?: number;
  /** Executions of one account running at once; the rest wait, accounts served round-robin (local/fair-queue.ts). @default CONTROL_DEFAULTS.accountMaxRunning */
  maxRunningPerAccount?: number;
  /**
   * Run the state machine's per-account slots (AcquireSlot, docs/CONTROL.md) as on AWS. Off by
   * default: the fair queue already caps each account, so executions run with
   * `account_slots: false` in their input (tests turn it on to run the slot states on dynalite).
   * @default false
   */
  accountSlots?: boolean;
  /** Overrides the states' HeartbeatSeconds (tests: a few seconds). */
  heartbeatTimeoutSeconds?: number;
  /** Receives each line the worker prints. @default stderr, prefixed */
  workerLog?: WorkerLog;
  /** Warm workers kept idle when the worker command is `warm` (local/worker-supervisor.ts). @default 1 */
  warmWorkers?: number;
  /** How long the last warm worker stays unused before it goes (WorkerSupervisorOptions). @default 5 minutes */
  lastWarmIdleMs?: number;
}

/** How many finished executions are remembered (their names stay taken). */
const MAX_EXECUTIONS = 10_000;
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/u;

/** Step Functions, locally: the StepFunctionsApi the endpoint serves, plus helpers for the runtime and tests. */
export class LocalStepFunctions extends EventEmitter implements StepFunctionsApi {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly maxConcurrency: number;
  private readonly machine: StateMachine;
  private readonly bindings: TaskBinding[];
  private readonly supervisor: WorkerSupervisor;
  private readonly queue: FairQueue<ExecutionRecord>;
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly accountSlots: boolean;
  private stopped = false;

  constructor(opts: LocalStepFunctionsOptions) {
    super();
    this.stateMachineArn = opts.stateMachineArn;
    this.stateMachineName = opts.stateMachineArn.split(':').pop()!;
    this.maxConcurrency = Math.max(1, opts.maxConcurrency ?? os.cpus().length);
    this.accountSlots = opts.accountSlots ?? false;
    this.supervisor = new WorkerSupervisor({
      workerEnv: opts.workerEnv,
      worker: opts.worker,
      heartbeatTimeoutSeconds: opts.heartbeatTimeoutSeconds,
      workerLog: opts.workerLog,
      warmWorkers: opts.warmWorkers,
      lastWarmIdleMs: opts.lastWarmIdleMs,
    });
    const prepared = prepareForLocalRun(opts.definition);
    this.machine = new StateMachine(prepared, { validationOptions: { checkArn: false, noValidate: opts.validated } });
    this.bindings = bindTaskStates(prepared, {
      dynamodb: opts.dynamodb,
      bus: opts.bus,
      runTask: (params, ctx) => this.runTask(params, ctx),
    });
    // Fair across accounts (issue 12): the account is the execution input's account_id.
    this.queue = new FairQueue(
      this.maxConcurrency,
      Math.max(1, Math.floor(opts.maxRunningPerAccount ?? CONTROL_DEFAULTS.accountMaxRunning)),
      (e) => e.accountId,
      (e) => this.runExecution(e),
    );
  }

  // ---- Step Functions API ----

  SendTaskSuccess(req: { taskToken?: string; output?: string }): Json {
    this.supervisor.succeed(req.taskToken, req.output);
    return {};
  }

  SendTaskFailure(req: { taskToken?: string; error?: string; cause?: string }): Json {
    this.supervisor.fail(req.taskToken, req.error, req.cause);
    return {};
  }

  SendTaskHeartbeat(req: { taskToken?: string }): Json {
    this.supervisor.heartbeat(req.taskToken);
    return {};
  }

  StartExecution(req: { stateMachineArn?: string; name?: string; input?: string }): Json {
    if (this.stopped) throw new AwsApiError('ServiceUnavailable', 'local mode is shutting down', 503);
    if (req.stateMachineArn !== this.stateMachineArn) {
      throw new AwsApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${req.stateMachineArn}'`);
    }
    const name = req.name ?? randomBytes(16).toString('hex');
    if (!EXECUTION_NAME.test(name)) throw new AwsApiError('InvalidName', `Invalid Name: '${name}'`);
    const input = req.input ?? '{}';
    let accountId = '';
    try {
      const parsed = JSON.parse(input);
      if (typeof parsed?.account_id === 'string') accountId = parsed.account_id;
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
      arn: localArn('states', `execution:${this.stateMachineName}:${name}`),
      input,
      accountId,
      status: 'QUEUED',
      startDate: new Date(),
      controller: new AbortController(),
      done,
      settle,
    };
    this.executions.set(name, record);
    if (this.executions.size > MAX_EXECUTIONS) this.executions.delete(this.executions.keys().next().value as string);
    this.queue.push(record);
    return { executionArn: record.arn, startDate: record.startDate.getTime() / 1000 };
  }

  DescribeExecution(req: { executionArn?: string }): Json {
    const e = this.executionByArn(req.executionArn);
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
    const e = this.executionByArn(req.executionArn);
    this.stopExecution(e, req.error, req.cause);
    return { stopDate: (e.stopDate ?? new Date()).getTime() / 1000 };
  }

  private executionByArn(executionArn: string | undefined): ExecutionRecord {
    const name =
      String(executionArn ?? '')
        .split(':')
        .pop() ?? '';
    const e = this.executions.get(name);
    if (!e || e.arn !== executionArn)
      throw new AwsApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return e;
  }

  // ---- running ----

  /** The RunTask action, resolved per call (tests wrap it to catch the task token). */
  private runTask(params: Json, ctx: ActionContext): Promise<Json> {
    return this.supervisor.runTask(params, ctx);
  }

  private stopExecution(e: ExecutionRecord, error?: string, cause?: string): void {
    if (e.status === 'QUEUED') {
      this.queue.remove(e);
      this.finish(e, { status: 'ABORTED', error, cause });
    } else if (e.status === 'RUNNING') {
      e.error = error;
      e.cause = cause;
      e.controller.abort(new StatesError('States.Aborted', 'execution stopped'));
      e.abort?.();
    }
  }

  private async runExecution(e: ExecutionRecord): Promise<void> {
    e.status = 'RUNNING';
    this.emit('executionStarted', e);
    const context = localContextObject(e, { arn: this.stateMachineArn, name: this.stateMachineName });
    const execution = { name: e.name, arn: e.arn, signal: e.controller.signal };
    const handlers = Object.fromEntries(this.bindings.map((b) => [b.stateName, taskHandler(b, execution)]));
    try {
      const input = JSON.parse(e.input);
      // The fair queue caps each account here; the slot states are for AWS (docs/LOCAL.md).
      if (!this.accountSlots && input && typeof input === 'object') input.account_slots = false;
      const run = this.machine.run(input, {
        overrides: { taskResourceLocalHandlers: handlers },
        context,
      });
      e.abort = run.abort;
      if (e.controller.signal.aborted) run.abort();
      const output = await run.result;
      this.finish(e, { status: 'SUCCEEDED', output: JSON.stringify(output) });
    } catch (err) {
      const error = err as Error & { cause?: Error };
      if (error.name === 'ExecutionAbortedError') this.finish(e, { status: 'ABORTED', error: e.error, cause: e.cause });
      else if (error.name === 'ExecutionTimeoutError')
        this.finish(e, { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'execution timed out' });
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

  /** True once stop() was called: executions aborted from then on end with the process, not by a fault. */
  get stopping(): boolean {
    return this.stopped;
  }

  stats(): { running: number; queued: number; workers: number } {
    return { running: this.queue.running, queued: this.queue.queued, workers: this.supervisor.workers };
  }

  /** Stops taking executions, aborts the running ones and kills their workers. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.queue.close())
      this.finish(e, { status: 'ABORTED', error: 'States.Aborted', cause: 'local mode stopped' });
    for (const e of this.executions.values())
      if (e.status === 'RUNNING') this.stopExecution(e, 'States.Aborted', 'local mode stopped');
    await this.supervisor.stop();
  }
}

/**
 * Checks a rendered definition as aws-local-stepfunctions does when it loads one (its ASL schema
 * and JSONPath checks); throws what it finds.
 */
export function validateDefinition(asl: Json): void {
  new StateMachine(prepareForLocalRun(asl), { validationOptions: { checkArn: false } });
}
