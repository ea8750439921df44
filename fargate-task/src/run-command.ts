/**
 * One command, start to finish (fargate-task/README.md follows it file by file):
 *   heartbeats → start the attempt (the write hands back the item) → workspace → download
 *   inputs (inputs probed for percent only once FFmpeg has run 1 s)
 *   → run each argv of the plan → probe + upload each output (a playlist with its segments,
 *     a sequence output with every file its pattern matched)
 *   → SendTaskSuccess / Failure.
 * Every failure becomes one ERROR_STATUS; heartbeats stop and the workspace goes in all cases.
 * The AWS clients are injected, so tests run this against dynalite, s3rver and a local
 * Step Functions endpoint, and local mode runs it unchanged behind AWS_ENDPOINT_URL_*.
 */
import { randomUUID } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LIMITS, MAX_RESULT_BYTES, S3_KEYS, type ErrorStatus } from '../../core/constants.ts';
import { likelyMimeType, toOutputFileMeta } from '../../core/media/index.ts';
import { SafeFetchError } from '../../core/net/index.ts';
import type { CommandItem, Progress, StoredOutput, WorkerResult } from '../../core/types.ts';
import { CommandRepository } from '../../store/command-repository.ts';
import { DEFAULTS, type WorkerConfig } from './config.ts';
import { downloadInputs } from './download.ts';
import { checkFilterFilesOf, workspaceFileIo } from './filter-files.ts';
import { WorkerError } from './errors.ts';
import { startHeartbeats } from './heartbeat.ts';
import { ecsTaskArn } from './task-metadata.ts';
import { createLogger, type Logger } from './log.ts';
import { probeDuration, probeFile, probeOutput } from './probe.ts';
import { createPhaseClock, type PhaseClock } from './phase-clock.ts';
import { createProgressWriter } from './progress-writer.ts';
import { reportFailure, reportSuccess } from './report.ts';
import { describeLimit, measureWorkspace, runFfmpeg, runLimits } from './run-ffmpeg.ts';
import { isolationFor } from './sandbox.ts';
import {
  assignCompanions,
  assignSequences,
  COMPANION_UPLOAD_CONCURRENCY,
  companionContentType,
  companionLimitProblem,
} from './playlist.ts';
import { deletePrefix, uploadFile, uploadFiles, UploadFilesError } from './upload.ts';
import { assertPlainName, createWorkspace, removeWorkspace } from './workspace.ts';
import { emitCommandMetrics } from './metrics.ts';

export interface WorkerDeps {
  ddb: DynamoDBDocumentClient;
  s3: S3Client;
  sfn: SFNClient;
  config: WorkerConfig;
  log?: Logger;
  /** Aborts the command (the worker got SIGTERM); reported as WORKER_LOST. */
  signal?: AbortSignal;
  /** Test hooks. */
  hooks?: {
    onFfmpegSpawn?: (pid: number) => void;
    onWorkspace?: (dir: string) => void;
  };
}

export interface RunOutcome {
  status: 'SUCCESS' | 'FAILED';
  /** Whether SendTaskSuccess/SendTaskFailure went through. */
  reported: boolean;
  result?: WorkerResult;
  error?: { status: ErrorStatus; message: string };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The whole worker. Never throws: the outcome says what was reported. */
export async function runCommand(deps: WorkerDeps): Promise<RunOutcome> {
  const { config } = deps;
  const log = deps.log ?? createLogger({ command_id: config.commandId });
  const lost = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, lost.signal]) : lost.signal;
  let lostReason: string | undefined;
  let workspace: string | undefined;
  let attempt: number | undefined;
  let heartbeats: { stop(): Promise<void> } | undefined;
  const clock = createPhaseClock();
  let commandFound = false;
  let workerRecorded = false;

  let outcome: RunOutcome;
  const measured: Measured = { bytesIn: 0 };
  try {
    // First heartbeat before anything else: it ends the start-up phase (the Run state's
    // HeartbeatSeconds is the start-up limit, docs/FAILURES.md).
    heartbeats = startHeartbeats({
      sfn: deps.sfn,
      taskToken: config.taskToken,
      intervalMs: config.heartbeatIntervalMs,
      log,
      onLost: (reason) => {
        lostReason = reason;
        lost.abort(new WorkerError('WORKER_LOST', `the task is no longer waiting for this worker (${reason})`));
      },
      // Only once this attempt has recorded itself (startAttempt), so a beat never vouches for
      // the previous attempt's token.
      onBeat: async () =>
        workerRecorded && commandsOf(deps).stampHeartbeat(config.accountId, config.commandId, new Date().toISOString()),
    });
    const item = await startAttempt(deps, log);
    measured.item = item;
    measured.readAt = Date.now();
    commandFound = true;
    attempt = item.attempts ?? 1;
    workerRecorded = true;
    // An earlier attempt died: its partial uploads (its own folder) are of no use to anyone.
    if (attempt > 1) await discardAttemptOutputs(deps, log, { except: attempt });
    workspace = await createWorkspace({
      parent: config.workDir,
      commandId: config.commandId,
      ffmpegGid: config.ffmpegGid,
      log,
    });
    deps.hooks?.onWorkspace?.(workspace);
    const result = await execute(deps, item, workspace, signal, log, measured, clock, attempt);
    outcome = { status: 'SUCCESS', reported: false, result };
  } catch (err) {
    outcome = { status: 'FAILED', reported: false, error: toFailure(err, signal, lostReason, deps.signal, log) };
  }

  await heartbeats?.stop().catch(() => {});
  if (workspace) await removeWorkspace(workspace, log);
  // A failed attempt's partial uploads are never referenced: remove them now (best effort; what
  // is left is removed by the next attempt or expires with the outputs lifecycle rule).
  // Only its own folder: a worker declared lost may already have a successor writing to its.
  if (outcome.status === 'FAILED' && attempt !== undefined) await discardAttemptOutputs(deps, log, { only: attempt });

  // Where the time went, for the poll's `timings` (conditional on PROCESSING: never on a
  // finished command; a success wrote them with its outputs). A failed write costs the user
  // the timings, never the result.
  if (commandFound && outcome.status === 'FAILED') {
    await commandsOf(deps)
      .recordTimings(config.accountId, config.commandId, clock.snapshot(new Date()))
      .catch((err: { name?: string }) => log.warn('timings not written', { error: err?.name ?? 'Error' }));
  }

  // Set when nothing more is to be reported: success went through, or the task is gone.
  let settled = false;
  if (outcome.status === 'SUCCESS') {
    try {
      await reportSuccess(deps.sfn, config.taskToken, outcome.result!);
      outcome.reported = true;
      settled = true;
      log.info('reported', { status: outcome.status });
    } catch (err) {
      // Refused (too large, invalid output) or unreachable after the SDK's retries: the state
      // machine must still learn the command failed, never wait for a success that will not come.
      const name = (err as { name?: string })?.name ?? 'Error';
      log.error('reporting success failed', { error: name });
      if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken') settled = true;
      else
        outcome = {
          status: 'FAILED',
          reported: false,
          error: {
            status: 'INTERNAL_ERROR',
            message: `the worker's result was refused by Step Functions (${name}); the outputs were stored but the command could not be completed`,
          },
        };
    }
  }
  if (!settled) {
    try {
      await reportFailure(deps.sfn, config.taskToken, outcome.error!.status, outcome.error!.message);
      outcome.reported = true;
      log.info('reported', { status: outcome.status, error_status: outcome.error?.status });
    } catch (err) {
      log.error('reporting failed', { status: outcome.status, error: (err as { name?: string })?.name ?? 'Error' });
    }
  }
  try {
    const created = measured.item ? Date.parse(measured.item.created_at) : NaN;
    emitCommandMetrics({
      status: outcome.status,
      errorStatus: outcome.error?.status,
      queueWaitSeconds:
        measured.readAt !== undefined && !Number.isNaN(created)
          ? round2((measured.readAt - created) / 1000)
          : undefined,
      runSeconds: outcome.result?.ffmpeg_command_run_seconds ?? measured.ffmpegSeconds,
      bytesIn: measured.bytesIn,
      bytesOut: Object.values(outcome.result?.output_files ?? {}).reduce(
        (sum, o) => sum + Math.round((o.size_mbytes ?? 0) * 1048576),
        0,
      ),
      compute: measured.item?.compute ?? 'unknown',
    });
  } catch (err) {
    log.warn('metrics not written', { error: (err as { name?: string })?.name ?? 'Error' });
  }
  return outcome;
}

/** What the worker measured for its metrics (metrics.ts). */
interface Measured {
  item?: CommandItem;
  readAt?: number;
  bytesIn: number;
  ffmpegSeconds?: number;
}

/**
 * Counts the attempt and says who runs it, on the item (one write, which also hands back the
 * command: the worker's only read of it): the task token and a first heartbeat_at (the
 * sweeper's silent-worker check, docs/FAILURES.md). Fatal when refused: the command is gone or
 * no longer PROCESSING (a read then says which). On ECS also the task ARN (a cancel stops that
 * task), never fatal: without it only that guard is off.
 */
async function startAttempt(deps: WorkerDeps, log: Logger): Promise<CommandItem> {
  const { config } = deps;
  const commands = commandsOf(deps);
  const taskArn = ecsTaskArn(config.ecsMetadataUri, log);
  const item = await commands.startAttempt(config.accountId, config.commandId, {
    taskToken: config.taskToken,
    at: new Date().toISOString(),
  });
  if (!item) {
    await explainRefusal(deps);
    throw new WorkerError('INTERNAL_ERROR', 'the command is no longer PROCESSING; the attempt did not start');
  }
  checkPlan(item);
  log.info('attempt started', { attempt: item.attempts });
  const arn = await taskArn;
  if (arn)
    await commands
      .recordWorkerTask(config.accountId, config.commandId, arn)
      .catch((err: { name?: string }) => log.warn('task ARN not recorded', { error: err?.name ?? 'Error' }));
  return item;
}

/**
 * Deletes the command's output objects of one attempt (`only`: this one failed) or of every
 * attempt but one (`except`: this one is starting, the others died). Bounded in time and never
 * fatal: a failure is logged only.
 */
async function discardAttemptOutputs(
  deps: WorkerDeps,
  log: Logger,
  which: { only: number } | { except: number },
): Promise<void> {
  const { config } = deps;
  const folder = (n: number) => S3_KEYS.output(config.accountId, config.commandId, '', n);
  try {
    const deleted = await deletePrefix({
      s3: deps.s3,
      bucket: config.bucket,
      ...('only' in which
        ? { prefix: folder(which.only) }
        : { prefix: S3_KEYS.commandOutputs(config.accountId, config.commandId), keep: folder(which.except) }),
      signal: AbortSignal.timeout(10_000),
    });
    if (deleted > 0) log.info('partial outputs removed', { objects: deleted, ...which });
  } catch (err) {
    log.warn('partial outputs not removed', { error: (err as { name?: string })?.name ?? 'Error' });
  }
}

const commandsOf = (deps: WorkerDeps) => new CommandRepository(deps.ddb, deps.config.commandsTable);

/** Why a refused startAttempt was refused: the item is gone, or in another status. */
async function explainRefusal(deps: WorkerDeps): Promise<void> {
  const { config } = deps;
  const item = await commandsOf(deps).get(config.accountId, config.commandId);
  if (!item) throw new WorkerError('INTERNAL_ERROR', 'the command was not found');
  // MarkProcessing ran before the task started; anything else means a stale or duplicate task.
  if (item.status !== 'PROCESSING')
    throw new WorkerError('INTERNAL_ERROR', `the command is ${item.status}, not PROCESSING`);
}

function checkPlan(item: CommandItem): void {
  if (!item.plan || !Array.isArray(item.plan.commands) || item.plan.commands.length === 0) {
    throw new WorkerError('INTERNAL_ERROR', 'the command has no plan to run');
  }
}

async function execute(
  deps: WorkerDeps,
  item: CommandItem,
  workspace: string,
  signal: AbortSignal,
  log: Logger,
  measured: Measured,
  clock: PhaseClock,
  attempt: number,
): Promise<WorkerResult> {
  const { config } = deps;
  const identity = {
    cwd: workspace,
    uid: config.ffmpegUid,
    gid: config.ffmpegGid,
    isolation: await isolationFor(config, workspace, log, { gpu: item.compute === 'gpu' }),
  };
  const plan = item.plan;

  await clock.time('download', () =>
    downloadInputs({
      inputs: plan.inputs,
      workspace,
      settings: config.download,
      allowPrivate: config.allowPrivateUrls,
      signal,
      log,
      storage: { s3: deps.s3, bucket: config.bucket, accountId: config.accountId },
    }),
  );
  signal.throwIfAborted();
  for (const input of plan.inputs) {
    measured.bytesIn += (await lstat(path.join(workspace, input.local_name)).catch(() => ({ size: 0 }))).size;
  }

  // Percent needs the expected duration: the longest input (a trim makes it approximate).
  // Probing costs more than a small command itself, so it does not hold FFmpeg back: it starts
  // once FFmpeg has run for INPUT_PROBE_DELAY_MS, and a command done before never probes.
  let totalSeconds: number | null = null;
  let inputProbe: Promise<void> | undefined;
  const probeInputs = () =>
    (inputProbe ??= (async () => {
      for (const input of plan.inputs) {
        const d = probeDuration(
          await probeFile(input.local_name, {
            ...identity,
            ffprobePath: config.ffprobePath,
            timeoutMs: config.probeTimeoutMs,
          }),
        );
        if (d !== null) totalSeconds = Math.max(totalSeconds ?? 0, d);
      }
    })().catch(() => undefined));
  const probeTimer = setTimeout(probeInputs, INPUT_PROBE_DELAY_MS);

  const commands = commandsOf(deps);
  const progress = createProgressWriter({
    write: (p) => commands.writeProgress(config.accountId, config.commandId, p),
    intervalMs: config.progressIntervalMs,
    firstWriteAfterMs: config.progressFirstWriteMs ?? DEFAULTS.progressFirstWriteMs,
    log,
  });
  let lastProgress: Progress | null = null;
  const limitMs = item.max_command_run_seconds * 1000;
  let ffmpegSeconds = 0;
  const baseline = await measureWorkspace(workspace);
  try {
    const runs = plan.commands.length;
    const filterFileIo = workspaceFileIo(workspace, {
      ...identity,
      ffprobePath: config.ffprobePath,
      timeoutMs: config.probeTimeoutMs,
    });
    for (const [index, argv] of plan.commands.entries()) {
      // Files this command's filters open by themselves are checked by content first.
      await checkFilterFilesOf(plan, index, filterFileIo);
      const remaining = limitMs - ffmpegSeconds * 1000;
      const res = await clock.time('ffmpeg', () =>
        runFfmpeg({
          ...identity,
          ffmpegPath: config.ffmpegPath,
          argv,
          timeoutMs: remaining,
          killGraceMs: config.killGraceMs,
          totalSeconds: null,
          signal,
          onSpawn: deps.hooks?.onFfmpegSpawn,
          onProgress: ({ progress: p, end }) =>
            progress.update(overall(withPercent(p, end, totalSeconds), index, runs)),
          limits: runLimits(config, baseline),
        }),
      );
      ffmpegSeconds += res.seconds;
      measured.ffmpegSeconds = round2(ffmpegSeconds);
      const which = runs > 1 ? ` (command ${index + 1} of ${runs})` : '';
      log.info('ffmpeg finished', {
        run: index + 1,
        exit_code: res.exitCode,
        signal: res.signal,
        seconds: round2(res.seconds),
        timed_out: res.timedOut,
      });
      if (res.aborted) signal.throwIfAborted();
      if (res.timedOut) {
        throw new WorkerError(
          'TIMEOUT',
          `FFmpeg was stopped after max_command_run_seconds (${item.max_command_run_seconds} s)${which}`,
        );
      }
      if (res.limitExceeded) {
        if (res.limitExceeded.kind !== 'memory')
          throw new WorkerError('OUTPUT_TOO_LARGE', `${describeLimit(res.limitExceeded)}${which}`);
        throw new WorkerError('FFMPEG_FAILED', `${describeLimit(res.limitExceeded)}${which}:\n${res.stderrTail}`);
      }
      if (res.spawnError) throw new WorkerError('INTERNAL_ERROR', `FFmpeg could not be started (${res.spawnError})`);
      if (res.exitCode !== 0) {
        const how = res.exitCode !== null ? `exited with code ${res.exitCode}` : `was killed by ${res.signal}`;
        throw new WorkerError('FFMPEG_FAILED', `FFmpeg ${how}${which}:\n${res.stderrTail}`);
      }
    }
  } finally {
    clearTimeout(probeTimer);
    // A probe still reading an input finishes before the workspace may go.
    await inputProbe;
    // The last value is not written here: it goes with the outputs.
    lastProgress = await progress.stop();
  }

  // Playlist outputs take the files FFmpeg wrote next to them, sequence outputs every file
  // their pattern matched (playlist.ts says which). Any other file FFmpeg wrote that no
  // declared output owns is not stored: it goes with the workspace.
  let companions: Record<string, string[]> = {};
  let sequences: Record<string, string[]> = {};
  if (plan.outputs.some((o) => o.playlist === true || o.sequence === true)) {
    const entries = await readdir(workspace, { withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => e.name);
    companions = assignCompanions(plan, files);
    sequences = assignSequences(plan, files);
  }

  /** An output's companion files first (once the manifest is stored, all it references is too), then it. */
  const storeOutputFiles = async (o: {
    alias: string;
    what: string;
    file: string;
    key: string;
    extra: Awaited<ReturnType<typeof companionFiles>> | null;
    contentType: string;
  }): Promise<void> => {
    if (o.extra && o.extra.names.length > 0) {
      const names = o.extra.names;
      try {
        await clock.time('upload', () =>
          uploadFiles({
            s3: deps.s3,
            bucket: config.bucket,
            files: names.map((n) => ({
              key: S3_KEYS.output(config.accountId, config.commandId, n, attempt),
              path: path.join(workspace, n),
              contentType: companionContentType(n),
            })),
            concurrency: COMPANION_UPLOAD_CONCURRENCY,
            signal,
          }),
        );
      } catch (err) {
        signal.throwIfAborted();
        const failed = err instanceof UploadFilesError ? path.posix.basename(err.item.key) : '?';
        log.error('upload failed', {
          alias: o.alias,
          file: failed,
          error: (err as { cause?: { name?: string } })?.cause?.name ?? 'Error',
        });
        throw new WorkerError(
          'OUTPUT_UPLOAD_FAILED',
          `${o.what} file "${failed}" of output ${o.alias} could not be stored`,
        );
      }
    }
    try {
      await clock.time('upload', () =>
        uploadFile({
          s3: deps.s3,
          bucket: config.bucket,
          key: o.key,
          path: o.file,
          contentType: o.contentType,
          signal,
        }),
      );
    } catch (err) {
      signal.throwIfAborted();
      log.error('upload failed', { alias: o.alias, error: (err as { name?: string })?.name ?? 'Error' });
      throw new WorkerError('OUTPUT_UPLOAD_FAILED', `output ${o.alias} could not be stored`);
    }
  };

  const outputs: Record<string, StoredOutput> = {};
  for (const out of plan.outputs) {
    let name: string;
    let extraNames: string[] | null = null;
    if (out.sequence === true) {
      const members = sequences[out.alias] ?? [];
      if (members.length === 0)
        throw new WorkerError(
          'OUTPUT_MISSING',
          `output ${out.alias} ("${out.local_name}") was not produced by the command: no file matches its pattern`,
        );
      if (members.length > LIMITS.maxSequenceFiles) {
        throw new WorkerError(
          'OUTPUT_UPLOAD_FAILED',
          `output ${out.alias} ("${out.local_name}") has ${members.length} files, over the limit of ${LIMITS.maxSequenceFiles}`,
        );
      }
      name = assertPlainName(members[0]!);
      extraNames = members.slice(1);
    } else {
      name = assertPlainName(out.local_name);
      if (out.playlist === true) extraNames = companions[out.alias] ?? [];
    }
    const file = path.join(workspace, name);
    const st = await lstat(file).catch(() => null);
    if (!st || !st.isFile())
      throw new WorkerError('OUTPUT_MISSING', `output ${out.alias} ("${name}") was not produced by the command`);
    if (st.size > config.maxOutputBytes) {
      throw new WorkerError(
        'OUTPUT_UPLOAD_FAILED',
        `output ${out.alias} is ${st.size} bytes, over the limit of ${config.maxOutputBytes}`,
      );
    }
    const what = out.sequence === true ? 'sequence' : 'playlist';
    const extra =
      extraNames !== null
        ? await companionFiles(workspace, out.alias, extraNames, st.size, config.maxOutputBytes, what)
        : null;
    const key = S3_KEYS.output(config.accountId, config.commandId, name, attempt);
    // The probe and the upload run side by side (the probe reads the file, the upload streams
    // it): the upload goes with the type the name suggests, and the file is stored again in the
    // rare case the probe says otherwise (an audio-only .mp4 is audio/mp4).
    const guessedType = likelyMimeType(name);
    const probing = clock.time('probe', () =>
      probeOutput(name, { ...identity, ffprobePath: config.ffprobePath, timeoutMs: config.probeTimeoutMs }),
    );
    const uploading = storeOutputFiles({ alias: out.alias, what, file, key, extra, contentType: guessedType });
    const [probed, uploaded] = await Promise.allSettled([probing, uploading]);
    if (uploaded.status === 'rejected') throw uploaded.reason;
    if (probed.status === 'rejected') throw probed.reason;
    const meta = toOutputFileMeta(probed.value, {
      fileId: randomUUID(),
      fileName: name,
      sizeBytes: st.size + (extra?.bytes ?? 0),
    });
    const contentType = meta.mime_type ?? 'application/octet-stream';
    // Stored again rather than copied onto itself: a copy would need read access to outputs/*,
    // which the worker's role does not have (lib/workers.ts), and the case is rare.
    if (contentType !== guessedType)
      await storeOutputFiles({ alias: out.alias, what, file, key, extra: null, contentType });
    outputs[out.alias] = extra
      ? { ...meta, file_count: 1 + extra.names.length, s3_key: key, companion_names: extra.names }
      : { ...meta, s3_key: key };
  }
  // The full outputs (a playlist's segment names) go on the item beside the result; the result
  // carries them without the names, bounded by MAX_RESULT_BYTES (Step Functions takes 256 KB).
  // The timings and the last progress go in the same write; reporting starts now.
  const stored = await commands.storeOutputs(config.accountId, config.commandId, {
    outputFilesJson: JSON.stringify(outputs),
    timings: clock.snapshot(new Date()),
    progress: lastProgress,
  });
  if (!stored) {
    throw new WorkerError('INTERNAL_ERROR', 'the command is no longer PROCESSING; its outputs were not recorded');
  }
  const result: WorkerResult = {
    ffmpeg_command_run_seconds: round2(ffmpegSeconds),
    output_files: resultOutputs(outputs),
  };
  const bytes = Buffer.byteLength(JSON.stringify(result));
  if (bytes > MAX_RESULT_BYTES) {
    throw new WorkerError(
      'INTERNAL_ERROR',
      `the worker's result is ${bytes} bytes, over the limit of ${MAX_RESULT_BYTES}`,
    );
  }
  return result;
}

/** The outputs as the task result (and the SUCCEEDED event) carry them: no companion names. */
export function resultOutputs(outputs: Record<string, StoredOutput>): Record<string, StoredOutput> {
  const out: Record<string, StoredOutput> = {};
  for (const [alias, { companion_names: _names, ...rest }] of Object.entries(outputs)) out[alias] = rest;
  return out;
}

/**
 * The companion files of playlist output `alias`, checked before anything is uploaded: within
 * the count and name limits, each still a regular file, and the playlist's total (manifest +
 * companions) within the output byte cap.
 */
async function companionFiles(
  workspace: string,
  alias: string,
  names: string[],
  manifestBytes: number,
  maxBytes: number,
  what: 'playlist' | 'sequence',
): Promise<{ names: string[]; bytes: number }> {
  const problem = companionLimitProblem(names);
  if (problem) throw new WorkerError('OUTPUT_UPLOAD_FAILED', `${what} output ${alias} cannot be stored: ${problem}`);
  let bytes = 0;
  for (const n of names) {
    const st = await lstat(path.join(workspace, assertPlainName(n)));
    if (!st.isFile())
      throw new WorkerError('INTERNAL_ERROR', `${what} file "${n}" of output ${alias} is not a regular file`);
    bytes += st.size;
  }
  if (manifestBytes + bytes > maxBytes) {
    throw new WorkerError(
      'OUTPUT_UPLOAD_FAILED',
      `${what} output ${alias} is ${manifestBytes + bytes} bytes with its ${names.length} ${what === 'playlist' ? 'segment/companion' : 'other'} files, over the limit of ${maxBytes}`,
    );
  }
  return { names, bytes };
}

/** How long FFmpeg runs before the inputs are probed for percent (runCommand). */
export const INPUT_PROBE_DELAY_MS = 1000;

/** Percent of one run from its output time and the expected duration; a run's end is 100 %. */
export function withPercent(p: Progress, end: boolean, totalSeconds: number | null): Progress {
  if (totalSeconds !== null && totalSeconds > 0)
    return {
      ...p,
      percent: end ? 100 : Math.min(100, Math.max(0, Math.round((p.out_time_seconds / totalSeconds) * 1000) / 10)),
    };
  return { ...p, percent: end ? 100 : null };
}

/** Progress of run `index` of `runs` as progress of the whole command (runs weigh the same). */
function overall(p: Progress, index: number, runs: number): Progress {
  if (runs === 1 || p.percent === null) return p;
  return { ...p, percent: Math.round(((index + p.percent / 100) / runs) * 1000) / 10 };
}

function toFailure(
  err: unknown,
  signal: AbortSignal,
  lostReason: string | undefined,
  stopSignal: AbortSignal | undefined,
  log: Logger,
): { status: ErrorStatus; message: string } {
  if (signal.aborted) {
    if (lostReason)
      return { status: 'WORKER_LOST', message: `the task is no longer waiting for this worker (${lostReason})` };
    if (stopSignal?.aborted)
      return { status: 'WORKER_LOST', message: 'the worker was stopped before the command finished' };
  }
  if (err instanceof WorkerError) return { status: err.status, message: err.message };
  if (err instanceof SafeFetchError) return { status: err.kind, message: err.message };
  // A bug or an AWS error: the name goes to the user, details only to the worker's log.
  const e = err as { name?: string; message?: string; stack?: string };
  log.error('unexpected error', { error: e?.name ?? 'Error', message: e?.message, stack: e?.stack });
  return { status: 'INTERNAL_ERROR', message: `internal error in the worker (${e?.name ?? 'Error'})` };
}
