/**
 * ECS RunTask with `.waitForTaskToken`, locally: the worker as a child process per command, in
 * its own process group (a kill reaches the ffmpeg it runs), with the container overrides'
 * environment. The supervisor owns the task tokens: the worker's SendTaskSuccess/Failure settle
 * its task, SendTaskHeartbeat re-arms its heartbeat timer.
 *
 * It also makes up for what aws-local-stepfunctions does not do (docs/LOCAL.md, "Deviations"):
 * - HeartbeatSeconds is enforced here: no heartbeat within it → States.HeartbeatTimeout, worker
 *   killed (the definition maps that to WORKER_LOST, as on AWS).
 * - a worker that exits without reporting fails the task at once, also as
 *   States.HeartbeatTimeout, with its exit code and last stderr lines as the cause (on AWS the
 *   heartbeat would lapse later, with the same outcome).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ENV, WORKER_CONTAINER_NAME } from '../core/constants.ts';
import { WORKER_MALLOC_ENV, WORKER_NODE_OPTIONS } from '../fargate-task/src/config.ts';
import { AwsApiError } from './aws-endpoint.ts';
import { REPO_ROOT, TSX_LOADER_URL } from './paths.ts';
import { StatesError } from './states-error.ts';
import type { ActionContext } from './task-actions.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

/** How the RunTask action starts a worker: a command line, run in `cwd` with the task's env. */
export interface WorkerCommand {
  command: string;
  args: string[];
  cwd?: string;
  /**
   * The worker speaks the warm protocol (fargate-task/src/main.ts, FFAAS_WORKER_WARM=1): it is
   * started before a command exists and takes commands over IPC, one at a time. @default false
   */
  warm?: boolean;
}

/** The real worker from its sources: fargate-task/src/main.ts on this Node with tsx's loader. */
export function defaultWorkerCommand(): WorkerCommand {
  return {
    command: process.execPath,
    args: ['--import', TSX_LOADER_URL, path.join(REPO_ROOT, 'fargate-task/src/main.ts')],
    cwd: REPO_ROOT,
  };
}

export type WorkerLog = (line: string, info: { commandId?: string; stream: 'stdout' | 'stderr' }) => void;

/** The worker container's environment from RunTask's Overrides.ContainerOverrides. */
export function containerEnvironment(params: Json): Record<string, string> {
  const overrides = (params?.Overrides?.ContainerOverrides ?? []) as {
    Name?: string;
    Environment?: { Name: string; Value: string }[];
  }[];
  const chosen = overrides.filter((o) => o.Name === WORKER_CONTAINER_NAME);
  const env: Record<string, string> = {};
  for (const o of chosen.length > 0 ? chosen : overrides) {
    for (const { Name, Value } of o.Environment ?? []) env[Name] = String(Value);
  }
  return env;
}

export interface WorkerSupervisorOptions {
  /** Base environment of every worker (local AWS env + PATH etc.); the container overrides are added. */
  workerEnv: () => Record<string, string>;
  /** @default defaultWorkerCommand() */
  worker?: WorkerCommand;
  /** Overrides the states' HeartbeatSeconds (tests: a few seconds). */
  heartbeatTimeoutSeconds?: number;
  /** Receives each line the worker prints. @default stderr, prefixed with the command id */
  workerLog?: WorkerLog;
  /**
   * Warm worker processes kept at most (busy or idle; only for a `warm` worker command): started
   * as commands need them; past one, they go after 30 s idle, the last after `lastWarmIdleMs`.
   * @default 1
   */
  warmWorkers?: number;
  /**
   * How long the last warm worker waits unused before it goes too, so that an idle service holds
   * no worker process (each is ~80 MiB); the next command then starts one (~0.1-0.2 s).
   * @default 5 minutes
   */
  lastWarmIdleMs?: number;
}

/** A warm worker serves at most this many commands, then a fresh one takes its place. */
const WARM_MAX_COMMANDS = 200;
/** How long a command waits for a warm worker that has reported to finish, before starting one. */
const FINISHING_WAIT_MS = 1000;
/** How long more than one warm worker may sit idle before the extra ones go. */
const WARM_IDLE_MS = 30_000;
/** @see WorkerSupervisorOptions.lastWarmIdleMs */
const LAST_WARM_IDLE_MS = 5 * 60_000;

/** What a worker process is doing for the task it holds (its output and its end go there). */
interface WorkerBinding {
  commandId?: string;
  stderrTail: string;
  /** Whether the task it holds is settled (the worker is only finishing up). */
  settled: () => boolean;
  /** The process exited (or, warm, said it is done) while holding the task. */
  onEnd: (how: string) => void;
}

interface WorkerProcess {
  child: ChildProcess;
  warm: boolean;
  ready: Promise<void>;
  binding?: WorkerBinding;
  served: number;
  exited: boolean;
  wasReady?: boolean;
  idleTimer?: NodeJS.Timeout;
  /** Let go for being idle: not replaced when it exits. */
  retired?: boolean;
}

type TaskOutcome = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

interface TaskRecord {
  token: string;
  settled: boolean;
  resolve: (v: Json) => void;
  reject: (e: Error) => void;
  heartbeatMs?: number;
  heartbeatTimer?: NodeJS.Timeout;
  onHeartbeatTimeout?: () => void;
  onSettled: () => void;
}

/** How many closed task tokens are remembered (so a late SendTask* gets TaskTimedOut, not TaskDoesNotExist). */
const MAX_CLOSED_TOKENS = 10_000;
/** After a worker exits unsettled, how long a SendTask* still in flight may take to land. */
const EXIT_GRACE_MS = 200;
const KILL_GRACE_MS = 2000;

export class WorkerSupervisor {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly closedTokens = new Map<string, TaskOutcome>();
  private readonly processes = new Set<WorkerProcess>();
  private readonly idle: WorkerProcess[] = [];
  /** Commands waiting for a warm worker that has reported and is finishing up. */
  private readonly waiting: ((proc: WorkerProcess | undefined) => void)[] = [];
  private stopped = false;

  constructor(private readonly opts: WorkerSupervisorOptions) {}

  /** Worker processes alive now and holding a task (warm idle ones are not counted). */
  get workers(): number {
    let n = 0;
    for (const p of this.processes) if (!p.warm || (p.binding && !p.binding.settled())) n++;
    return n;
  }

  /** Warm workers alive and waiting for a command. */
  get idleWorkers(): number {
    return this.idle.length;
  }

  private get command(): WorkerCommand {
    return this.opts.worker ?? defaultWorkerCommand();
  }

  private get log(): WorkerLog {
    return (
      this.opts.workerLog ??
      ((line, info) => process.stderr.write(`[worker ${info.commandId?.slice(0, 8) ?? '?'}] ${line}\n`))
    );
  }

  /** Replaces a warm worker that went while in use (a `warm` worker command only). */
  prestart(): void {
    if (!this.command.warm || this.stopped) return;
    while (this.warmCount < Math.min(1, this.warmWanted)) this.toIdle(this.spawnWorker(this.opts.workerEnv(), true));
  }

  /**
   * An idle warm worker waits for the next command; past WARM_IDLE_MS unused, all but one go, and
   * the last one past lastWarmIdleMs: a busy service keeps one per slot, an idle one none.
   */
  private toIdle(proc: WorkerProcess): void {
    this.idle.push(proc);
    const since = Date.now();
    const check = () => {
      if (!this.idle.includes(proc)) return;
      const limit = this.warmCount > 1 ? WARM_IDLE_MS : (this.opts.lastWarmIdleMs ?? LAST_WARM_IDLE_MS);
      const idleFor = Date.now() - since;
      if (idleFor >= limit) {
        proc.retired = true;
        this.dropIdle(proc);
        this.kill(proc.child);
        return;
      }
      proc.idleTimer = setTimeout(check, limit - idleFor);
      proc.idleTimer.unref();
    };
    proc.idleTimer = setTimeout(check, Math.min(WARM_IDLE_MS, this.opts.lastWarmIdleMs ?? LAST_WARM_IDLE_MS));
    proc.idleTimer.unref();
  }

  private get warmWanted(): number {
    return Math.max(0, this.opts.warmWorkers ?? 1);
  }

  /** Warm processes alive, busy or idle. */
  private get warmCount(): number {
    let n = 0;
    for (const p of this.processes) if (p.warm && !p.exited) n++;
    return n;
  }

  /** Starts one worker process; its output goes to whatever task it holds at the time. */
  private spawnWorker(env: Record<string, string>, warm: boolean): WorkerProcess {
    const worker = this.command;
    // The image's V8 options and allocator setting (fargate-task/Dockerfile), V8's after any
    // the environment already has.
    const nodeOptions = [env.NODE_OPTIONS, WORKER_NODE_OPTIONS].filter(Boolean).join(' ');
    const child = spawn(worker.command, worker.args, {
      cwd: worker.cwd ?? REPO_ROOT,
      env: {
        ...env,
        ...WORKER_MALLOC_ENV,
        NODE_OPTIONS: nodeOptions,
        ...(warm ? { FFAAS_WORKER_WARM: '1' } : {}),
      },
      stdio: warm ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      // Own process group, so a kill also reaches the ffmpeg it runs.
      detached: true,
    });
    let markReady: () => void = () => {};
    let markFailed: (err: Error) => void = () => {};
    const proc: WorkerProcess = {
      child,
      warm,
      served: 0,
      exited: false,
      ready: warm
        ? new Promise<void>((resolve, reject) => {
            markReady = resolve;
            markFailed = reject;
          })
        : Promise.resolve(),
    };
    proc.ready.catch(() => undefined);
    this.processes.add(proc);
    const log = this.log;
    for (const stream of ['stdout', 'stderr'] as const) {
      let buffered = '';
      child[stream]!.setEncoding('utf8');
      child[stream]!.on('data', (chunk: string) => {
        if (stream === 'stderr' && proc.binding)
          proc.binding.stderrTail = (proc.binding.stderrTail + chunk).slice(-2048);
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) log(line, { commandId: proc.binding?.commandId, stream });
      });
      child[stream]!.on('end', () => {
        if (buffered) log(buffered, { commandId: proc.binding?.commandId, stream });
      });
    }
    child.on('message', (msg: { type?: string; code?: number }) => {
      if (msg?.type === 'ready') {
        proc.wasReady = true;
        markReady();
      } else if (msg?.type === 'done') this.warmDone(proc, msg.code);
    });
    child.on('error', (err) => {
      markFailed(err);
      this.dropIdle(proc);
      proc.binding?.onEnd(`could not be started: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      proc.exited = true;
      markFailed(new Error(`exited (${signal ? `signal ${signal}` : `code ${code}`}) before it was ready`));
      this.processes.delete(proc);
      this.dropIdle(proc);
      const binding = proc.binding;
      proc.binding = undefined;
      binding?.onEnd(`exited (${signal ? `signal ${signal}` : `code ${code}`})`);
      // A warm worker that went while in use (killed, crashed, past its command count) is
      // replaced; one let go for being idle is not. One that never got ready is not either (no
      // start loop): the next command starts one.
      if (warm && proc.wasReady && !proc.retired && !this.stopped) setImmediate(() => this.prestart());
    });
    return proc;
  }

  private dropIdle(proc: WorkerProcess): void {
    clearTimeout(proc.idleTimer);
    const i = this.idle.indexOf(proc);
    if (i !== -1) this.idle.splice(i, 1);
  }

  /** A warm worker finished its command: back to the idle ones, or gone. */
  private warmDone(proc: WorkerProcess, code: number | undefined): void {
    const binding = proc.binding;
    proc.binding = undefined;
    proc.served++;
    if (
      this.stopped ||
      code !== 0 ||
      proc.served >= WARM_MAX_COMMANDS ||
      this.warmCount > this.warmWanted ||
      !proc.child.connected
    ) {
      this.kill(proc.child);
    } else {
      const next = this.waiting.shift();
      if (next) next(proc);
      else this.toIdle(proc);
    }
    // Said done without its task settled (reporting failed): the same end as an exit.
    binding?.onEnd(`finished (code ${code ?? '?'})`);
  }

  /** Warm workers whose task is settled but which have not said done yet. */
  private finishing(): number {
    let n = 0;
    for (const p of this.processes) if (p.warm && !p.exited && p.binding?.settled()) n++;
    return n;
  }

  /** A worker process for one task: a warm idle one when there is one, else a new process. */
  private async acquire(env: Record<string, string>): Promise<WorkerProcess> {
    if (!this.command.warm) return this.spawnWorker(env, false);
    let proc = this.idle.shift();
    if (proc) clearTimeout(proc.idleTimer);
    // A worker that has reported is done within milliseconds: wait for it, not for a new process.
    if (!proc && this.finishing() > this.waiting.length) {
      proc = await new Promise<WorkerProcess | undefined>((resolve) => {
        const take = (p: WorkerProcess | undefined) => {
          clearTimeout(timer);
          resolve(p);
        };
        const timer = setTimeout(() => {
          const i = this.waiting.indexOf(take);
          if (i !== -1) this.waiting.splice(i, 1);
          resolve(undefined);
        }, FINISHING_WAIT_MS);
        this.waiting.push(take);
      });
    }
    if (!proc && this.stopped) throw new Error('local mode is stopping');
    if (!proc) proc = this.spawnWorker(this.opts.workerEnv(), true);
    await proc.ready;
    return proc;
  }

  /**
   * The ecs:runTask.waitForTaskToken action: start the worker with the container overrides'
   * environment and wait for SendTaskSuccess/SendTaskFailure with the token it was given.
   */
  runTask(params: Json, ctx: ActionContext): Promise<Json> {
    const env = containerEnvironment(params);
    const token = env[ENV.TASK_TOKEN];
    if (!token) {
      return Promise.reject(
        new StatesError(
          'States.Runtime',
          `RunTask of state ${ctx.stateName} passes no ${ENV.TASK_TOKEN} to the container`,
        ),
      );
    }
    if (this.tasks.has(token) || this.closedTokens.has(token)) {
      return Promise.reject(new StatesError('States.Runtime', 'task token reused'));
    }
    const commandId = env[ENV.COMMAND_ID];
    const heartbeatSeconds = this.opts.heartbeatTimeoutSeconds ?? ctx.heartbeatSeconds;

    return new Promise<Json>((resolve, reject) => {
      let child: ChildProcess | undefined;
      const task: TaskRecord = {
        token,
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
        if (this.settle(task, closed)) reject(err);
        if (child) this.kill(child);
      };
      const onAbort = () => {
        // The state timed out, or the execution stopped: the token is dead, the worker goes.
        fail(
          ctx.signal.reason instanceof Error ? ctx.signal.reason : new StatesError('States.Aborted', 'aborted'),
          'TIMED_OUT',
        );
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.tasks.set(token, task);
      this.armHeartbeat(task, () => {
        fail(
          new StatesError('States.HeartbeatTimeout', `no heartbeat from the worker for ${heartbeatSeconds} s`),
          'TIMED_OUT',
        );
      });

      const binding: WorkerBinding = {
        commandId,
        stderrTail: '',
        settled: () => task.settled,
        onEnd: (how) => {
          if (task.settled) return;
          // The worker awaits its SendTask* call before it ends, so a report is already in;
          // give a request still in flight a moment anyway.
          setTimeout(() => {
            const tail = binding.stderrTail.trim().split('\n').slice(-5).join('\n');
            fail(
              new StatesError(
                'States.HeartbeatTimeout',
                `the worker ${how} without reporting a result${tail ? `; last output: ${tail}` : ''}`,
              ),
              'TIMED_OUT',
            );
          }, EXIT_GRACE_MS);
        },
      };
      let childEnv: Record<string, string>;
      try {
        const localEnv = this.opts.workerEnv();
        // The run's workspace quota is sized for a Fargate task's own disk (core/sizing.ts);
        // here the disk is this machine's, so the quota local mode decided (sandbox.ts) wins.
        childEnv = {
          ...localEnv,
          ...env,
          ...(localEnv[ENV.WORKSPACE_MAX_BYTES]
            ? { [ENV.WORKSPACE_MAX_BYTES]: localEnv[ENV.WORKSPACE_MAX_BYTES] }
            : {}),
        };
        // The worker makes its workspace inside FFAAS_WORK_DIR; on ECS that is the image's.
        if (childEnv[ENV.WORK_DIR]) mkdirSync(childEnv[ENV.WORK_DIR], { recursive: true });
      } catch (err) {
        fail(
          new StatesError('ECS.AmazonECSException', `the worker could not be started: ${(err as Error).message}`),
          'FAILED',
        );
        return;
      }
      const startFailed = (err: Error) =>
        fail(new StatesError('ECS.AmazonECSException', `the worker could not be started: ${err.message}`), 'FAILED');
      let acquired: Promise<WorkerProcess>;
      try {
        acquired = this.acquire(childEnv);
      } catch (err) {
        startFailed(err as Error);
        return;
      }
      acquired.then(
        (proc) => {
          if (task.settled || proc.exited) {
            // Aborted while it was being readied, or it died first: not this task's any more.
            if (task.settled) {
              if (proc.warm && !proc.exited && !this.stopped && this.warmCount <= this.warmWanted) this.toIdle(proc);
              else this.kill(proc.child);
            } else binding.onEnd('exited before it took the command');
            return;
          }
          child = proc.child;
          proc.binding = binding;
          if (proc.warm) proc.child.send({ type: 'run', env: childEnv });
        },
        (err: Error) => startFailed(err),
      );
    });
  }

  // ---- the worker's calls (SendTask*), by token; errors are the Step Functions API's ----

  /** SendTaskSuccess: the task resolves with the parsed `output`. */
  succeed(token: unknown, output: string | undefined): void {
    const task = this.taskFor(token);
    let parsed: Json;
    try {
      parsed = JSON.parse(output ?? '');
    } catch {
      throw new AwsApiError('InvalidOutput', 'output is not valid JSON');
    }
    if (this.settle(task, 'SUCCEEDED')) task.resolve(parsed);
  }

  /** SendTaskFailure: the task fails with `error` (default States.TaskFailed) and `cause`. */
  fail(token: unknown, error: string | undefined, cause: string | undefined): void {
    const task = this.taskFor(token);
    if (this.settle(task, 'FAILED')) task.reject(new StatesError(error || 'States.TaskFailed', cause ?? ''));
  }

  /** SendTaskHeartbeat: the heartbeat timer starts again. */
  heartbeat(token: unknown): void {
    const task = this.taskFor(token);
    if (task.onHeartbeatTimeout) this.armHeartbeat(task, task.onHeartbeatTimeout);
  }

  private taskFor(token: unknown): TaskRecord {
    if (typeof token !== 'string' || token.length === 0 || token.length > 2048)
      throw new AwsApiError('InvalidToken', 'invalid task token');
    const task = this.tasks.get(token);
    if (task) return task;
    if (this.closedTokens.has(token)) throw new AwsApiError('TaskTimedOut', 'the task is no longer running');
    throw new AwsApiError('TaskDoesNotExist', 'no task with this token');
  }

  private armHeartbeat(task: TaskRecord, onTimeout: () => void): void {
    clearTimeout(task.heartbeatTimer);
    if (!task.heartbeatMs || task.settled) return;
    task.heartbeatTimer = setTimeout(onTimeout, task.heartbeatMs);
    task.onHeartbeatTimeout = onTimeout;
  }

  /** Marks a task finished; false when it already was. */
  private settle(task: TaskRecord, outcome: TaskOutcome): boolean {
    if (task.settled) return false;
    task.settled = true;
    this.tasks.delete(task.token);
    this.closedTokens.set(task.token, outcome);
    if (this.closedTokens.size > MAX_CLOSED_TOKENS)
      this.closedTokens.delete(this.closedTokens.keys().next().value as string);
    task.onSettled();
    return true;
  }

  /** SIGTERM to the worker's process group, SIGKILL if it is still there after a grace period. */
  private kill(child: ChildProcess): void {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        child.kill(sig);
      }
    };
    killGroup('SIGTERM');
    const t = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    t.unref();
    child.once('exit', () => clearTimeout(t));
  }

  /** Kills every worker still alive (warm idle ones too) and waits (up to 5 s) for them to exit. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.idle.length = 0;
    for (const take of this.waiting.splice(0)) take(undefined);
    const exits = [...this.processes].map(
      ({ child: c }) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          this.kill(c);
        }),
    );
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5000).unref())]);
  }
}
