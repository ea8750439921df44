/**
 * Names shared by the CDK stack, the Lambda handlers, the worker and local mode.
 * Everything that two of those must agree on is spelled once, here.
 */

export const COMMAND_STATUS = ['QUEUED', 'PROCESSING', 'SUCCESS', 'FAILED'] as const;
export type CommandStatus = (typeof COMMAND_STATUS)[number];

/** SUCCESS and FAILED: nothing moves a command on from them. */
export const isFinalStatus = (status: CommandStatus): boolean => status === 'SUCCESS' || status === 'FAILED';

export const COMMAND_TYPE = ['FFMPEG_COMMAND', 'CHAINED_COMMAND', 'MULTIPLE_COMMAND'] as const;
export type CommandType = (typeof COMMAND_TYPE)[number];

/** `error_status` of a FAILED command (docs/API.md). */
export const ERROR_STATUS = [
  'INPUT_DOWNLOAD_FAILED',
  'INPUT_TOO_LARGE',
  'FFMPEG_FAILED',
  'TIMEOUT',
  'OUTPUT_MISSING',
  'OUTPUT_UPLOAD_FAILED',
  /** FFmpeg wrote past the workspace quota while running (and was stopped). */
  'OUTPUT_TOO_LARGE',
  /** RunTask kept failing for lack of capacity (or ECS errors) after its retries. */
  'NO_CAPACITY',
  'WORKER_LOST',
  /** The account cancelled it (POST /commands/{id}/cancel). */
  'CANCELLED',
  'INTERNAL_ERROR',
] as const;
export type ErrorStatus = (typeof ERROR_STATUS)[number];

/** Error codes of the HTTP error envelope (docs/API.md). */
export const API_ERROR = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  VALIDATION_ERROR: 422,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  /** Local mode is shutting down: submits are refused (with Retry-After) while running work drains. */
  SERVICE_UNAVAILABLE: 503,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR;

export const COMPUTE = ['cpu', 'gpu'] as const;
export type Compute = (typeof COMPUTE)[number];

/** Environment variables read by handlers and the worker. */
export const ENV = {
  COMMANDS_TABLE: 'FFAAS_COMMANDS_TABLE',
  API_KEYS_TABLE: 'FFAAS_API_KEYS_TABLE',
  ACCOUNTS_TABLE: 'FFAAS_ACCOUNTS_TABLE',
  BUCKET: 'FFAAS_BUCKET',
  STATE_MACHINE_ARN: 'FFAAS_STATE_MACHINE_ARN',
  EVENT_BUS_NAME: 'FFAAS_EVENT_BUS_NAME',
  GPU_ENABLED: 'FFAAS_GPU_ENABLED',
  ALLOW_PRIVATE_URLS: 'FFAAS_ALLOW_PRIVATE_URLS',
  SIGNED_URL_SECONDS: 'FFAAS_SIGNED_URL_SECONDS',
  /** Download URL signing: the secret itself (local mode), or the Secrets Manager secret holding it (AWS). */
  URL_SECRET: 'FFAAS_URL_SECRET',
  URL_SECRET_ARN: 'FFAAS_URL_SECRET_ARN',
  /** Origin of the public API (`https://api.example.com/prod`); default: derived from the request. */
  PUBLIC_URL: 'FFAAS_PUBLIC_URL',
  /** The one browser origin (the deployed console's) the API answers CORS requests of; unset: none. */
  CORS_ORIGIN: 'FFAAS_CORS_ORIGIN',
  /** Files and presets (issue 10). */
  FILES_TABLE: 'FFAAS_FILES_TABLE',
  PRESETS_TABLE: 'FFAAS_PRESETS_TABLE',
  /** ARN of the file ingest state machine (store-file fetches; probes of landed files). */
  FILE_INGEST_STATE_MACHINE_ARN: 'FFAAS_FILE_INGEST_STATE_MACHINE_ARN',
  /** Days commands, outputs and stored files are kept (default LIMITS.retentionDays). */
  RETENTION_DAYS: 'FFAAS_RETENTION_DAYS',
  /** Worker: which job this task runs (`command`, the default, or `ingest`). */
  TASK_KIND: 'FFAAS_TASK_KIND',
  /** Worker, ingest tasks: JSON of FileIngestInput. */
  INGEST_INPUT: 'FFAAS_INGEST_INPUT',
  /** Webhooks: the deliveries table, the retry queue and dead-letter queue (AWS), the schedule. */
  WEBHOOK_DELIVERIES_TABLE: 'FFAAS_WEBHOOK_DELIVERIES_TABLE',
  WEBHOOK_QUEUE_URL: 'FFAAS_WEBHOOK_QUEUE_URL',
  WEBHOOK_DLQ_URL: 'FFAAS_WEBHOOK_DLQ_URL',
  WEBHOOK_BACKOFF_SECONDS: 'FFAAS_WEBHOOK_BACKOFF_SECONDS',
  WEBHOOK_BACKOFF_SCALE: 'FFAAS_WEBHOOK_BACKOFF_SCALE',
  WEBHOOK_DISABLE_AFTER: 'FFAAS_WEBHOOK_DISABLE_AFTER',
  /** KMS key that encrypts webhook secrets at rest (AWS; local mode uses a key file in the data dir). */
  WEBHOOK_KMS_KEY_ID: 'FFAAS_WEBHOOK_KMS_KEY_ID',
  /** Local mode: how often due deliveries are looked for (ms). */
  WEBHOOK_POLL_MS: 'FFAAS_WEBHOOK_POLL_MS',
  /** ARN of the workers' ECS cluster: the cancel handler stops a worker's task there (AWS only). */
  WORKER_CLUSTER_ARN: 'FFAAS_WORKER_CLUSTER_ARN',
  /** Sweeper: seconds a running worker may go without a heartbeat (WORKER_SILENT_TIMEOUT_SECONDS). */
  WORKER_SILENT_SECONDS: 'FFAAS_WORKER_SILENT_SECONDS',
  /** Set per task by the state machine's RunTask container overrides. */
  COMMAND_ID: 'FFAAS_COMMAND_ID',
  ACCOUNT_ID: 'FFAAS_ACCOUNT_ID',
  TASK_TOKEN: 'FFAAS_TASK_TOKEN',
  /** Worker scratch space (defaults to the OS temp dir). */
  WORK_DIR: 'FFAAS_WORK_DIR',
  FFMPEG_PATH: 'FFAAS_FFMPEG_PATH',
  FFPROBE_PATH: 'FFAAS_FFPROBE_PATH',
  /** Bytes FFmpeg may add to its workspace per command (the stack sizes it by ephemeral storage). */
  WORKSPACE_MAX_BYTES: 'FFAAS_WORKSPACE_MAX_BYTES',
  /** Local mode. */
  DATA_DIR: 'FFAAS_DATA_DIR',
  PORT: 'PORT',
} as const;

/** DynamoDB key and index names. */
export const TABLE = {
  commands: {
    partitionKey: 'account_id',
    sortKey: 'command_id',
    /** Newest-first listing per account (KEYS_ONLY: the page's items are then read by key). */
    byCreatedIndex: 'by_created',
    byCreatedSortKey: 'created_at',
    /**
     * Newest-first listing per account and status: PK `status_key` = `<account_id>#<status>`
     * (statusKey), kept in step with `status` by every lifecycle step that moves it. KEYS_ONLY.
     */
    byStatusIndex: 'by_status',
    byStatusPartitionKey: 'status_key',
    byStatusSortKey: 'created_at',
    /**
     * Sparse index of commands that were accepted but whose execution has not marked them
     * PROCESSING yet. `pending` is set on submit and removed by MarkProcessing; the reconciler
     * starts executions for entries older than RECONCILE_AFTER_SECONDS.
     */
    pendingIndex: 'pending',
    /** `pending#<0..PENDING_SHARDS-1>` (pendingShard): spreads the writes over partitions. */
    pendingPartitionKey: 'pending_shard',
    pendingSortKey: 'created_at',
    ttlAttribute: 'expire_at',
  },
  apiKeys: { partitionKey: 'key_hash' },
  accounts: { partitionKey: 'account_id' },
  /** Stored files (uploads, store-file): newest-first listing per account, TTL like commands. */
  files: {
    partitionKey: 'account_id',
    sortKey: 'file_id',
    byCreatedIndex: 'by_created',
    byCreatedSortKey: 'created_at',
    ttlAttribute: 'expire_at',
  },
  /** Saved command templates (RenderIO presets); kept until deleted. */
  presets: {
    partitionKey: 'account_id',
    sortKey: 'preset_id',
  },
  /** One item per command whose completion is (to be) delivered to a webhook. */
  webhookDeliveries: {
    partitionKey: 'account_id',
    sortKey: 'command_id',
    /** Sparse: deliveries waiting for an attempt (`due` set while PENDING), by next_attempt_at. */
    dueIndex: 'due',
    duePartitionKey: 'due',
    dueSortKey: 'next_attempt_at',
    /** The account's deliveries, most recently changed first. */
    byUpdatedIndex: 'by_updated',
    byUpdatedSortKey: 'updated_at',
  },
} as const;

/** Value of the `pending` attribute while a command waits for its execution. */
export const PENDING_MARK = 'QUEUED';
/** Partition key values of the pending index; the reconciler reads every shard. */
export const PENDING_SHARDS = 8;

/** The pending index partition of a command: a stable hash of its id over PENDING_SHARDS. */
export function pendingShard(commandId: string): string {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < commandId.length; i++) h = Math.imul(h ^ commandId.charCodeAt(i), 0x01000193);
  return `pending#${(h >>> 0) % PENDING_SHARDS}`;
}

/** The by_status index partition of a command. */
export function statusKey(accountId: string, status: CommandStatus): string {
  return `${accountId}#${status}`;
}
export const RECONCILE_AFTER_SECONDS = 60;

/** EventBridge. */
export const EVENT_SOURCE = 'ffaas';
export const EVENT_DETAIL_TYPE = {
  SUCCEEDED: 'FFmpeg Command Succeeded',
  FAILED: 'FFmpeg Command Failed',
  /** QUEUED → PROCESSING (published after MarkProcessing). */
  STARTED: 'FFmpeg Command Started',
} as const;

/** The events that end in a webhook delivery (the stack's rule and local mode match these). */
export const WEBHOOK_EVENT_PATTERN: { source: string[]; 'detail-type': string[] } = {
  source: [EVENT_SOURCE],
  'detail-type': [EVENT_DETAIL_TYPE.SUCCEEDED, EVENT_DETAIL_TYPE.FAILED],
};

/** State names of the command state machine; local mode and tests address states by them. */
export const STATE = {
  /** Per-account concurrency (docs/CONTROL.md): the first state; local mode's input skips the slots. */
  UseAccountSlots: 'UseAccountSlots',
  AcquireSlot: 'AcquireSlot',
  /** Waited longer than the slot wait limit: TIMEOUT. */
  NameQueueTimeout: 'NameQueueTimeout',
  /** Each way out gives the slot back (store/account-slots.ts). */
  ReleaseSlotAfterSuccess: 'ReleaseSlotAfterSuccess',
  ReleaseSlotAfterFailure: 'ReleaseSlotAfterFailure',
  ReleaseSlotAndFinish: 'ReleaseSlotAndFinish',
  /** A release that found no slot held (skipped slots, or a command that never got one). */
  NoSlotHeld: 'NoSlotHeld',
  MarkProcessing: 'MarkProcessing',
  PublishStarted: 'PublishStarted',
  ChooseCompute: 'ChooseCompute',
  RunOnFargate: 'RunOnFargate',
  /** With Fargate Spot: the on-demand run when Spot has no capacity. */
  RunOnFargateOnDemand: 'RunOnFargateOnDemand',
  RunOnGpu: 'RunOnGpu',
  RecordSuccess: 'RecordSuccess',
  PublishSucceeded: 'PublishSucceeded',
  NameWorkerLost: 'NameWorkerLost',
  NameInternalError: 'NameInternalError',
  NameNoCapacity: 'NameNoCapacity',
  RecordFailure: 'RecordFailure',
  PublishFailed: 'PublishFailed',
  AlreadyFinished: 'AlreadyFinished',
  ResumeOrFinish: 'ResumeOrFinish',
  ResumeProcessing: 'ResumeProcessing',
} as const;

/** Name of the worker container in both task definitions. */
export const WORKER_CONTAINER_NAME = 'worker';

/**
 * How often the worker heartbeats and how long the state machine waits without one. The Run
 * states' HeartbeatSeconds is the START-UP limit per compute (docs/FAILURES.md): it covers the
 * time from RunTask to the worker's first heartbeat (a GPU instance scaled from zero, a cold
 * image pull), and the worker heartbeats from its first line, every HEARTBEAT_INTERVAL_SECONDS.
 */
export const HEARTBEAT_INTERVAL_SECONDS = 20;
export const STARTUP_TIMEOUT_SECONDS = { cpu: 300, gpu: 900 } as const satisfies Record<'cpu' | 'gpu', number>;
/**
 * The "worker silent while running" limit (docs/FAILURES.md): once a worker has recorded itself,
 * a `heartbeat_at` older than this makes the sweeper fail its task as WORKER_LOST, so the Run
 * state's Retry starts the command again. Checked by the sweeper's periodic run (every minute).
 */
export const WORKER_SILENT_TIMEOUT_SECONDS = 90;
/**
 * Worker starts per command (`attempts` in the poll): a lost worker (no heartbeat, stopped
 * task, Spot interruption, local restart) is started again until this many have run.
 */
export const MAX_ATTEMPTS = 3;
/** Upper bound of the worker's SendTaskSuccess output (Step Functions refuses > 256 KB). */
export const MAX_RESULT_BYTES = 64 * 1024;
/** Added to max_command_run_seconds for downloads, probing and uploads. */
export const TASK_TIMEOUT_ALLOWANCE_SECONDS = 900;

/** Limits of docs/API.md ("Limits"), enforced as docs/SECURITY-POLICY.md layer 7 says. */
export const LIMITS = {
  maxBodyBytes: 256 * 1024,
  maxMetadataKeys: 10,
  maxInputs: 10,
  maxOutputs: 10,
  maxChainedCommands: 10,
  maxMultipleCommands: 10,
  minRunSeconds: 1,
  maxRunSeconds: 3600,
  defaultRunSeconds: 900,
  maxInputBytes: 5 * 1024 ** 3,
  maxOutputBytes: 5 * 1024 ** 3,
  maxPixels: 8192 * 8192,
  /**
   * Generated sources (testsrc2, color, sine, ...; core/command/source-bounds.ts): most
   * seconds (`duration`), video frames per second (`rate`) and audio samples per second
   * (`sample_rate`) a source filter may be asked for. Their frame size is bounded by maxPixels.
   */
  maxSourceSeconds: 3600,
  maxSourceFrameRate: 240,
  maxSourceSampleRate: 384_000,
  /**
   * Files one declared image-sequence / segment output (`frame_%03d.png`) may have; their
   * total size is bounded like one output (maxOutputBytes).
   */
  maxSequenceFiles: 1000,
  maxRedirects: 5,
  downloadTimeoutSeconds: 600,
  signedUrlSeconds: 3600,
  listMaxLimit: 100,
  listDefaultLimit: 20,
  /** Commands, outputs and stored files are kept this long (DynamoDB TTL, S3 lifecycle). */
  retentionDays: 30,
  /**
   * POST /files/upload (multipart body through the API): API Gateway takes at most 10 MB per
   * request and a Lambda event 6 MB, and a binary body arrives base64 (4/3 larger), so the
   * upload route takes up to 4 MiB of body; bigger files go through upload-url or init-upload.
   */
  maxUploadBodyBytes: 4 * 1024 * 1024,
  /** A stored file (any route) is at most this large, like an input. */
  maxStoredFileBytes: 5 * 1024 ** 3,
  /** Rendi multipart uploads: part size and part count bounds (S3's: 5 MiB..5 GiB, ≤ 10000). */
  multipartPartBytes: 16 * 1024 * 1024,
  maxMultipartParts: 1000,
  /** Presets per account (a listing reads them all). */
  maxPresets: 200,
} as const;

export const VCPU_COUNTS = [1, 2, 4, 8, 16] as const;
export type VcpuCount = (typeof VCPU_COUNTS)[number];
export const DEFAULT_VCPU_COUNT: VcpuCount = 2;

/** Fargate task size for each vcpu_count (cpu units, MiB). */
export function taskSize(vcpu: VcpuCount): { cpu: number; memory: number } {
  return { cpu: vcpu * 1024, memory: vcpu * 2048 };
}

/** S3 object keys. */
export const S3_KEYS = {
  /**
   * An output file. Each worker attempt writes under its own `<attempt>/` folder, so a re-run
   * never mixes its files with a dead attempt's partial uploads; items stored before attempts
   * had folders have keys without one (attempt undefined).
   */
  output: (accountId: string, commandId: string, fileName: string, attempt?: number) =>
    attempt === undefined
      ? `outputs/${accountId}/${commandId}/${fileName}`
      : `outputs/${accountId}/${commandId}/${attempt}/${fileName}`,
  /** Every object of a command, of all its attempts (cancel and clean-up list this prefix). */
  commandOutputs: (accountId: string, commandId: string) => `outputs/${accountId}/${commandId}/`,
  storedFile: (accountId: string, fileId: string, fileName: string) => `files/${accountId}/${fileId}/${fileName}`,
  /**
   * An input the service stored for one command (Rendobar's inline `{content}`): under the
   * account's `files/` prefix, where the worker reads stored inputs, and removed with the
   * command's files (cancel, DELETE …/files) or by the `files/` lifecycle rule.
   */
  commandInput: (accountId: string, commandId: string, fileName: string) =>
    `files/${accountId}/commands/${commandId}/${fileName}`,
} as const;

export const API_KEY_PREFIX = 'ffsk_';
export const API_KEY_PATTERN = /^ffsk_[0-9a-f]{64}$/;
export const API_KEY_HEADER = 'x-api-key';
