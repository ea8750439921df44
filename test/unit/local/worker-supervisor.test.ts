/**
 * local/worker-supervisor.ts on its own: real child processes (small node scripts as the
 * worker), the test playing the worker's SendTask* calls against the supervisor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerSupervisor, type WorkerCommand } from '../../../local/worker-supervisor.ts';
import type { ActionContext } from '../../../local/task-actions.ts';

const script = (code: string): WorkerCommand => ({ command: process.execPath, args: ['-e', code] });
/** Prints its pid and that of a grandchild (same process group), then waits forever. */
const HANGING = script(`
  const { spawn } = require('node:child_process');
  const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  console.log('pids ' + process.pid + ' ' + g.pid);
  console.error('env ' + process.env.FFAAS_COMMAND_ID + ' ' + process.env.BASE_VAR);
  setInterval(() => {}, 1000);
`);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const waitFor = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

let supervisors: WorkerSupervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.map((s) => s.stop()));
  supervisors = [];
});

function setup(worker: WorkerCommand, heartbeatTimeoutSeconds?: number) {
  const lines: { line: string; commandId?: string; stream: string }[] = [];
  const supervisor = new WorkerSupervisor({
    worker,
    heartbeatTimeoutSeconds,
    workerEnv: () => ({ PATH: process.env.PATH ?? '', BASE_VAR: 'base' }),
    workerLog: (line, info) => lines.push({ line, ...info }),
  });
  supervisors.push(supervisor);
  let n = 0;
  const start = (opts: { token?: string | null; signal?: AbortSignal; heartbeatSeconds?: number } = {}) => {
    const token = opts.token === null ? undefined : (opts.token ?? `token-${++n}-${crypto.randomUUID()}`);
    const env = [
      { Name: 'FFAAS_COMMAND_ID', Value: 'cmd-123456789' },
      ...(token ? [{ Name: 'FFAAS_TASK_TOKEN', Value: token }] : []),
    ];
    const ctx: ActionContext = {
      stateName: 'RunOnFargate',
      resource: 'arn:aws:states:::ecs:runTask.waitForTaskToken',
      execution: { name: 'e', arn: 'arn:e' },
      signal: opts.signal ?? new AbortController().signal,
      heartbeatSeconds: opts.heartbeatSeconds,
    };
    const result = supervisor.runTask(
      { Overrides: { ContainerOverrides: [{ Name: 'worker', Environment: env }] } },
      ctx,
    );
    result.catch(() => undefined);
    return { token: token!, result };
  };
  const pids = async () => {
    await waitFor(() => lines.some((l) => l.line.startsWith('pids ')));
    return lines
      .find((l) => l.line.startsWith('pids '))!
      .line.split(' ')
      .slice(1)
      .map(Number);
  };
  return { supervisor, lines, start, pids };
}

describe('WorkerSupervisor', () => {
  it('runs the worker with the base env plus the container overrides and resolves with SendTaskSuccess output', async () => {
    const { supervisor, lines, start, pids } = setup(HANGING);
    const { token, result } = start();
    await pids();
    await waitFor(() => lines.some((l) => l.line.startsWith('env ')));
    expect(lines.find((l) => l.line.startsWith('env '))).toEqual({
      line: 'env cmd-123456789 base',
      commandId: 'cmd-123456789',
      stream: 'stderr',
    });
    expect(supervisor.workers).toBe(1);
    supervisor.succeed(token, '{"ok":true}');
    await expect(result).resolves.toEqual({ ok: true });
  });

  it('answers SendTask* with the Step Functions API errors', async () => {
    const { supervisor, start, pids } = setup(HANGING);
    expect(() => supervisor.succeed('', '{}')).toThrow(expect.objectContaining({ type: 'InvalidToken' }));
    expect(() => supervisor.heartbeat('no-such-token')).toThrow(expect.objectContaining({ type: 'TaskDoesNotExist' }));
    const { token, result } = start();
    await pids();
    // Output that is not JSON is refused and the task stays open.
    expect(() => supervisor.succeed(token, 'not json')).toThrow(expect.objectContaining({ type: 'InvalidOutput' }));
    supervisor.fail(token, 'FFMPEG_FAILED', 'exit 1');
    await expect(result).rejects.toMatchObject({ name: 'FFMPEG_FAILED', message: 'exit 1' });
    expect(() => supervisor.succeed(token, '{}')).toThrow(expect.objectContaining({ type: 'TaskTimedOut' }));
    expect(() => supervisor.fail(token, undefined, undefined)).toThrow(
      expect.objectContaining({ type: 'TaskTimedOut' }),
    );
  });

  it('fails a silent worker with States.HeartbeatTimeout and kills its process group', async () => {
    const { start, pids } = setup(HANGING, 1);
    const { result } = start();
    const [worker, grandchild] = await pids();
    const t0 = Date.now();
    await expect(result).rejects.toMatchObject({ name: 'States.HeartbeatTimeout' });
    expect(Date.now() - t0).toBeLessThan(10_000); // 1 s, with room for a busy machine
    await waitFor(() => !alive(worker) && !alive(grandchild));
  });

  it('keeps a worker that heartbeats, with the state`s HeartbeatSeconds', async () => {
    const { supervisor, start, pids } = setup(HANGING);
    const { token, result } = start({ heartbeatSeconds: 1 });
    await pids();
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 400));
      supervisor.heartbeat(token);
    }
    supervisor.succeed(token, '"done"');
    await expect(result).resolves.toBe('done');
  });

  it('fails at once, with the exit code and the last stderr lines, when the worker exits without reporting', async () => {
    const { start } = setup(script(`console.error('cannot reach the bucket'); process.exit(3)`), 60);
    const t0 = Date.now();
    await expect(start().result).rejects.toMatchObject({
      name: 'States.HeartbeatTimeout',
      message: expect.stringMatching(
        /exited \(code 3\) without reporting a result; last output: cannot reach the bucket/,
      ),
    });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('kills the worker when the state is aborted (timeout or stop), failing with the abort reason', async () => {
    const { start, pids } = setup(HANGING);
    const controller = new AbortController();
    const { result } = start({ signal: controller.signal });
    const [worker] = await pids();
    const reason = Object.assign(new Error('state ran too long'), { name: 'States.Timeout' });
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    await waitFor(() => !alive(worker));
  });

  it('refuses a RunTask that passes no task token, and a reused token', async () => {
    const { start, pids } = setup(HANGING);
    await expect(start({ token: null }).result).rejects.toMatchObject({
      name: 'States.Runtime',
      message: expect.stringMatching(/no FFAAS_TASK_TOKEN/),
    });
    const first = start();
    await pids();
    await expect(start({ token: first.token }).result).rejects.toMatchObject({
      name: 'States.Runtime',
      message: 'task token reused',
    });
  });

  it('stop() kills every worker still running', async () => {
    const { supervisor, start, pids } = setup(HANGING);
    start();
    const [worker, grandchild] = await pids();
    await supervisor.stop();
    await waitFor(() => !alive(worker) && !alive(grandchild));
    expect(supervisor.workers).toBe(0);
  });
});
