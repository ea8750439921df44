/**
 * Local mode's file ingest: what lib/files.ts's state machine and EventBridge rule do on AWS.
 *   - StartExecution on the ingest state machine's ARN (store-file's fetch) and s3rver's own
 *     ObjectCreated events under `files/` (bytes that landed) start an ingest;
 *   - each ingest runs the worker bundle with FFAAS_TASK_KIND=ingest, the same code the Fargate
 *     task runs (fetch through the SSRF-safe fetcher, ffprobe, STORED or FAILED);
 *   - a worker that exits non-zero gets the file marked FAILED (INTERNAL_ERROR), as the state
 *     machine's catch does, so no file stays PROCESSING.
 * The ingest ASL itself is not interpreted here (its only steps are RunTask.sync and that mark).
 * On start, `recover` restarts the ingests a previous run left unfinished.
 * Executions are named by file and step (ingestExecutionName): a second start of the same name
 * is ignored, as StartExecution is idempotent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV } from '../core/constants.ts';
import { ingestExecutionName, storedFileKeyParts, type FileIngestInput } from '../core/api/files.ts';
import { FileRepository } from '../store/file-repository.ts';
import { AwsApiError } from './aws-endpoint.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './services.ts';
import { REPO_ROOT } from './paths.ts';
import type { WorkerCommand } from './worker-supervisor.ts';

type Json = Record<string, unknown>;

/** Name and ARN of the local ingest state machine. */
export const LOCAL_INGEST_STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:ffaas-local-file-ingest`;

export interface LocalFileIngestOptions {
  worker: WorkerCommand;
  /** The worker's environment (local AWS env, tables, bucket, work dir). */
  workerEnv: () => Record<string, string>;
  dynamodb: DynamoDBClient;
  filesTable: string;
  /** Ingests at once (ffprobe is light; fetches are I/O). @default 2 */
  maxConcurrency?: number;
  log?: (line: string) => void;
}

export class LocalFileIngest {
  readonly stateMachineArn = LOCAL_INGEST_STATE_MACHINE_ARN;
  private readonly started = new Set<string>();
  private readonly queue: FileIngestInput[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly files: FileRepository;
  private readonly idle: (() => void)[] = [];
  private running = 0;
  private stopped = false;

  constructor(private readonly opts: LocalFileIngestOptions) {
    this.files = new FileRepository(
      DynamoDBDocumentClient.from(opts.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
      opts.filesTable,
    );
  }

  /** Queue an ingest unless one of the same name was started already. */
  start(input: FileIngestInput): boolean {
    const name = ingestExecutionName(input);
    if (this.stopped || this.started.has(name)) return false;
    this.started.add(name);
    this.queue.push(input);
    this.pump();
    return true;
  }

  /** s3rver's `event` (S3 notification records): bytes that landed under files/ get probed. */
  onS3Event(event: { Records?: { eventName?: string; s3?: { object?: { key?: string } } }[] }): void {
    for (const r of event.Records ?? []) {
      const key = r.s3?.object?.key;
      if (r.eventName?.startsWith('ObjectCreated') && key && storedFileKeyParts(key))
        this.start({ mode: 'probe', key });
    }
  }

  /** The Step Functions call the API makes (served by the local AWS endpoint). */
  StartExecution(req: { stateMachineArn?: string; name?: string; input?: string }): Json {
    let input: FileIngestInput;
    try {
      input = JSON.parse(req.input ?? '') as FileIngestInput;
    } catch {
      throw new AwsApiError('InvalidExecutionInput', 'input is not JSON');
    }
    if (input?.mode !== 'fetch' && input?.mode !== 'probe')
      throw new AwsApiError('InvalidExecutionInput', 'not a file ingest input');
    this.start(input);
    return {
      executionArn: `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${req.name ?? ingestExecutionName(input)}`,
      startDate: Date.now() / 1000,
    };
  }

  /**
   * Restart recovery: a file left PROCESSING by a previous run gets its ingest again (the fetch
   * for store-file; the probe when its bytes are already in the bucket, as the ObjectCreated
   * event that would have started it was lost). Files whose bytes never arrived stay waiting.
   */
  async recover(s3: S3Client, bucket: string): Promise<number> {
    let started = 0;
    for (const item of await this.files.listProcessing()) {
      if (item.source === 'store_file') {
        if (this.start({ mode: 'fetch', account_id: item.account_id, file_id: item.file_id })) started++;
        continue;
      }
      const landed = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: item.s3_key })).then(
        () => true,
        () => false,
      );
      if (landed && this.start({ mode: 'probe', key: item.s3_key })) started++;
    }
    return started;
  }

  /** Resolves when nothing is queued or running (tests). */
  whenIdle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.splice(0);
    const exits = [...this.children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          try {
            if (c.pid) process.kill(-c.pid, 'SIGTERM');
          } catch {
            c.kill('SIGTERM');
          }
        }),
    );
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  private pump(): void {
    const max = this.opts.maxConcurrency ?? 2;
    while (!this.stopped && this.running < max && this.queue.length > 0) {
      const input = this.queue.shift()!;
      this.running++;
      this.run(input)
        .catch((err) => this.log(`ingest ${ingestExecutionName(input)} failed: ${(err as Error).message}`))
        .finally(() => {
          this.running--;
          this.pump();
          if (this.running === 0 && this.queue.length === 0) for (const fn of this.idle.splice(0)) fn();
        });
    }
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  private run(input: FileIngestInput): Promise<void> {
    const name = ingestExecutionName(input);
    const env: Record<string, string> = {
      ...this.opts.workerEnv(),
      [ENV.TASK_KIND]: 'ingest',
      [ENV.INGEST_INPUT]: JSON.stringify(input),
    };
    if (env[ENV.WORK_DIR]) mkdirSync(env[ENV.WORK_DIR], { recursive: true });
    return new Promise<void>((resolve) => {
      const child = spawn(this.opts.worker.command, this.opts.worker.args, {
        cwd: this.opts.worker.cwd ?? REPO_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      this.children.add(child);
      for (const stream of [child.stdout!, child.stderr!]) {
        stream.setEncoding('utf8');
        let buffered = '';
        stream.on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) this.log(`[ingest ${name.slice(0, 14)}] ${line}`);
        });
      }
      child.on('error', (err) => this.log(`[ingest ${name}] could not start: ${err.message}`));
      child.on('close', (code) => {
        this.children.delete(child);
        if (code === 0 || this.stopped) return resolve();
        // The state machine's catch: the file must not stay PROCESSING.
        const target =
          input.mode === 'fetch'
            ? { accountId: input.account_id, fileId: input.file_id }
            : storedFileKeyParts(input.key);
        if (!target) return resolve();
        this.files
          .markFailed(target.accountId, target.fileId, 'INTERNAL_ERROR', 'the file could not be processed')
          .catch((err) => this.log(`[ingest ${name}] could not mark the file FAILED: ${(err as Error).message}`))
          .finally(resolve);
      });
    });
  }
}
