/**
 * A typed client of the ffaas API (`import { FfaasClient } from 'ffaas/client'`).
 *
 * The types are the zod schemas' own (core/api/responses.ts, core/api/schemas.ts), so they are
 * the shapes the handlers are typed by and the OpenAPI document is generated from; a test checks
 * that every route of the document has a method here (CLIENT_ROUTES) and that answers of a
 * started local mode parse with the schemas. It runs on any runtime with `fetch` (Node 18+,
 * browsers, Deno, Bun) and imports nothing at run time.
 */
import type * as z from 'zod';
import type {
  ErrorEnvelope,
  HealthResponse,
  ListCommandsResponse,
  PollResponse,
  SubmitMultipleResponse,
  SubmitResponse,
  ValidateResponse,
} from '../core/api/responses.ts';
import type {
  RunChainedFfmpegCommandsSchema,
  RunFfmpegCommandSchema,
  RunMultipleFfmpegCommandsSchema,
  ValidateSchema,
} from '../core/api/schemas.ts';

export type {
  ErrorEnvelope,
  HealthResponse,
  ListCommandsResponse,
  OutputFileMeta,
  PollResponse,
  Progress,
  SubmitMultipleResponse,
  SubmitResponse,
  ValidateResponse,
} from '../core/api/responses.ts';

/** Request bodies as the API accepts them (zod's input side). */
export type RunFfmpegCommandRequest = z.input<typeof RunFfmpegCommandSchema>;
export type RunChainedFfmpegCommandsRequest = z.input<typeof RunChainedFfmpegCommandsSchema>;
export type RunMultipleFfmpegCommandsRequest = z.input<typeof RunMultipleFfmpegCommandsSchema>;
export type ValidateRequest = z.input<typeof ValidateSchema>;

export interface ListCommandsQuery {
  limit?: number;
  offset?: number;
  status?: string;
  cursor?: string;
}

/** A stored file as the files routes answer (OutputFileMeta plus the file's own fields). */
export interface StoredFile {
  file_id: string;
  status: 'PROCESSING' | 'STORED' | 'FAILED';
  filename: string;
  storage_url: string | null;
  error_status?: string | null;
  error_message?: string | null;
  [key: string]: unknown;
}

export interface ClientOptions {
  /** Where the API is, e.g. `http://127.0.0.1:8080` or the stack's ApiUrl (a path such as /prod is kept). */
  baseUrl: string;
  /** Sent as X-API-KEY; routes without auth (health, validate, openapi.json) work without it. */
  apiKey?: string;
  /** @default '/api/v1' (`/v1` serves the same routes) */
  basePath?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface WaitOptions {
  /** Called with every poll (live status and progress). */
  onUpdate?: (command: PollResponse) => void;
  /** Aborts the wait (not the command: call cancelCommand for that). */
  signal?: AbortSignal;
  /** First delay between polls; each next one doubles. @default 1000 */
  initialDelayMs?: number;
  /** @default 10000 */
  maxDelayMs?: number;
  /** Give up (throw FfaasTimeoutError) after this long; the command keeps running. @default no limit */
  timeoutMs?: number;
}

/** An answer with a status of 400 or more, with the service's error envelope when it sent one. */
export class FfaasApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: ErrorEnvelope | unknown,
  ) {
    super(message);
    this.name = 'FfaasApiError';
  }
}

export class FfaasTimeoutError extends Error {
  constructor(
    readonly commandId: string,
    readonly last: PollResponse,
  ) {
    super(`command ${commandId} still ${last.status} when the wait ended`);
    this.name = 'FfaasTimeoutError';
  }
}

/** The statuses after which a command never changes. */
export const FINAL_STATUSES = ['SUCCESS', 'FAILED'] as const;
export const isFinished = (c: Pick<PollResponse, 'status'>): boolean =>
  (FINAL_STATUSES as readonly string[]).includes(c.status);

/**
 * "METHOD /path" of every route (as in the OpenAPI document) → the client method that calls it.
 * A route added to the API without a method here fails test/unit/client.test.ts.
 */
export const CLIENT_ROUTES = {
  'GET /health': 'health',
  'POST /validate': 'validate',
  'POST /run-ffmpeg-command': 'runFfmpegCommand',
  'POST /run-chained-ffmpeg-commands': 'runChainedFfmpegCommands',
  'POST /run-multiple-ffmpeg-commands': 'runMultipleFfmpegCommands',
  'GET /commands': 'listCommands',
  'GET /commands/{command_id}': 'getCommand',
  'GET /openapi.json': 'openapi',
  'POST /commands/{command_id}/cancel': 'cancelCommand',
  'POST /files/upload': 'uploadFileMultipart',
  'POST /files/upload-url': 'createUploadUrl',
  'POST /files/store-file': 'storeFile',
  'GET /files': 'listFiles',
  'GET /files/{file_id}': 'getFile',
  'DELETE /files/{file_id}': 'deleteFile',
  'POST /files/init-upload': 'initUpload',
  'POST /files/{file_id}/complete-upload': 'completeUpload',
  'DELETE /commands/{command_id}/files': 'deleteCommandFiles',
  'POST /presets': 'createPreset',
  'GET /presets': 'listPresets',
  'GET /presets/{preset_id}': 'getPreset',
  'DELETE /presets/{preset_id}': 'deletePreset',
  'POST /presets/{preset_id}/execute': 'executePreset',
  'PUT /webhook-config': 'setWebhook',
  'GET /webhook-config': 'getWebhook',
  'DELETE /webhook-config': 'deleteWebhook',
  'GET /commands/{command_id}/webhooks': 'commandWebhooks',
  'POST /commands/{command_id}/webhooks/redeliver': 'redeliverWebhook',
  'GET /webhook-deliveries': 'webhookDeliveries',
  'GET /usage': 'getUsage',
  'GET /v/{id}/{token}/{name}': 'download',
  'POST /jobs': 'submitRendobarJob',
  'GET /jobs/{job_id}': 'getRendobarJob',
  'POST /ffmpeg/validate': 'validateRendobarCommand',
  'POST /jobs/{job_id}/cancel': 'cancelRendobarJob',
  'POST /assets/upload': 'uploadRendobarAsset',
  'GET /assets/{asset_id}': 'getRendobarAsset',
  'GET /assets/{asset_id}/content': 'rendobarAssetContent',
} as const satisfies Record<string, keyof FfaasClient>;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export class FfaasClient {
  readonly baseUrl: string;
  private readonly apiKey?: string;
  private readonly basePath: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.basePath = options.basePath ?? '/api/v1';
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Any route: `path` below the base path. Throws FfaasApiError on a status of 400 or more. */
  async request<T>(
    method: string,
    path: string,
    options: {
      body?: unknown;
      query?: Record<string, unknown>;
      raw?: NonNullable<RequestInit['body']>;
      headers?: Record<string, string>;
    } = {},
  ): Promise<T> {
    const url = new URL(`${this.baseUrl}${this.basePath}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.apiKey) headers['x-api-key'] = this.apiKey;
    let body: NonNullable<RequestInit['body']> | undefined = options.raw;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const res = await this.fetchImpl(url, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const env = parsed as Partial<ErrorEnvelope> | undefined;
      const code = env?.error?.code ?? `HTTP_${res.status}`;
      const message = env?.error?.message ?? (typeof parsed === 'string' && parsed ? parsed : res.statusText);
      throw new FfaasApiError(res.status, code, `${res.status} ${code}: ${message}`, parsed);
    }
    return parsed as T;
  }

  health(): Promise<HealthResponse> {
    return this.request('GET', '/health');
  }
  validate(body: ValidateRequest): Promise<ValidateResponse> {
    return this.request('POST', '/validate', { body });
  }
  runFfmpegCommand(body: RunFfmpegCommandRequest): Promise<SubmitResponse> {
    return this.request('POST', '/run-ffmpeg-command', { body });
  }
  runChainedFfmpegCommands(body: RunChainedFfmpegCommandsRequest): Promise<SubmitResponse> {
    return this.request('POST', '/run-chained-ffmpeg-commands', { body });
  }
  runMultipleFfmpegCommands(body: RunMultipleFfmpegCommandsRequest): Promise<SubmitMultipleResponse> {
    return this.request('POST', '/run-multiple-ffmpeg-commands', { body });
  }
  getCommand(commandId: string): Promise<PollResponse> {
    return this.request('GET', `/commands/${encodeURIComponent(commandId)}`);
  }
  listCommands(query: ListCommandsQuery = {}): Promise<ListCommandsResponse> {
    return this.request('GET', '/commands', { query: { ...query } });
  }
  /** The OpenAPI 3.1 document this server serves. */
  openapi(): Promise<Record<string, unknown>> {
    return this.request('GET', '/openapi.json');
  }
  /** Cancels a queued or running command (it ends FAILED / CANCELLED); 409 when already finished. */
  cancelCommand(commandId: string): Promise<PollResponse> {
    return this.request('POST', `/commands/${encodeURIComponent(commandId)}/cancel`);
  }

  /** The account's usage between two ISO dates (totals and per day; docs/CONTROL.md). */
  getUsage(query: { from?: string; to?: string } = {}): Promise<Record<string, unknown>> {
    return this.request('GET', '/usage', { query });
  }

  /** The bytes behind a download URL a poll handed out (`/v/{id}/{token}/{name}`, no key). */
  async download(url: string): Promise<ArrayBuffer> {
    const res = await this.fetchImpl(url, { redirect: 'follow' });
    if (!res.ok) throw new FfaasApiError(res.status, 'NOT_FOUND', `download failed: ${res.status}`, null);
    return res.arrayBuffer();
  }

  /** Rendobar's dialect, served at the root: POST /jobs (docs/API.md, "Rendobar"). */
  submitRendobarJob(body: {
    type: 'ffmpeg';
    inputs?: Record<string, unknown>;
    params: Record<string, unknown>;
  }): Promise<{ data: Record<string, unknown> }> {
    return this.rootRequest('POST', '/jobs', body);
  }

  getRendobarJob(jobId: string): Promise<{ data: Record<string, unknown> }> {
    return this.rootRequest('GET', `/jobs/${encodeURIComponent(jobId)}`);
  }

  validateRendobarCommand(body: { command: string }): Promise<{ data: Record<string, unknown> }> {
    return this.rootRequest('POST', '/ffmpeg/validate', body);
  }

  cancelRendobarJob(jobId: string): Promise<{ data: Record<string, unknown> }> {
    return this.rootRequest('POST', `/jobs/${encodeURIComponent(jobId)}/cancel`);
  }

  /** Rendobar's uploads: the asset's `url` is an input of this account's jobs once it is ready. */
  uploadRendobarAsset(data: Blob, filename: string): Promise<{ data: Record<string, unknown> }> {
    const form = new FormData();
    form.set('file', data, filename);
    return this.rootRequest('POST', '/assets/upload', undefined, form);
  }

  getRendobarAsset(assetId: string): Promise<{ data: Record<string, unknown> }> {
    return this.rootRequest('GET', `/assets/${encodeURIComponent(assetId)}`);
  }

  /** An asset's bytes (the route answers a redirect to a short signed URL, followed here). */
  async rendobarAssetContent(assetId: string): Promise<ArrayBuffer> {
    const url = `${this.baseUrl}/assets/${encodeURIComponent(assetId)}/content`;
    const res = await this.fetchImpl(url, { headers: this.apiKey ? { 'x-api-key': this.apiKey } : {} });
    if (!res.ok) throw new FfaasApiError(res.status, `HTTP_${res.status}`, `asset content failed: ${res.status}`, null);
    return res.arrayBuffer();
  }

  /** A request to a route served at the root rather than under the base path. */
  private rootRequest<T>(
    method: string,
    path: string,
    body?: unknown,
    raw?: NonNullable<RequestInit['body']>,
  ): Promise<T> {
    const root = new FfaasClient({ baseUrl: this.baseUrl, apiKey: this.apiKey, fetch: this.fetchImpl, basePath: '' });
    return root.request<T>(method, path, raw !== undefined ? { raw } : body === undefined ? {} : { body });
  }

  /** Submits one command and waits for it to end (polls 1 s, 2 s, 4 s … up to maxDelayMs). */
  async run(body: RunFfmpegCommandRequest, options: WaitOptions = {}): Promise<PollResponse> {
    const { command_id } = await this.runFfmpegCommand(body);
    return this.waitForCommand(command_id, options);
  }

  /** Polls a command with backoff until SUCCESS or FAILED, and returns it. */
  async waitForCommand(commandId: string, options: WaitOptions = {}): Promise<PollResponse> {
    const started = Date.now();
    const max = options.maxDelayMs ?? 10_000;
    let delay = options.initialDelayMs ?? 1000;
    for (;;) {
      const command = await this.getCommand(commandId);
      options.onUpdate?.(command);
      if (isFinished(command)) return command;
      if (options.timeoutMs !== undefined && Date.now() - started + delay > options.timeoutMs) {
        throw new FfaasTimeoutError(commandId, command);
      }
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, max);
    }
  }

  // Stored files (docs/API.md): usable as inputs by their file_id.
  createUploadUrl(filename: string): Promise<{ file_id: string; upload_url: string; expires_at?: string }> {
    return this.request('POST', '/files/upload-url', { body: { filename } });
  }
  /** RenderIO's multipart upload (small files only; uploadFile works for any size). */
  uploadFileMultipart(data: Blob, filename: string): Promise<StoredFile> {
    const form = new FormData();
    form.set('file', data, filename);
    return this.request('POST', '/files/upload', { raw: form });
  }
  storeFile(fileUrl: string): Promise<{ file_id: string }> {
    return this.request('POST', '/files/store-file', { body: { file_url: fileUrl } });
  }
  async listFiles(
    query: { limit?: number; offset?: number } = {},
  ): Promise<{ files: StoredFile[]; limit: number; offset: number }> {
    return this.request('GET', '/files', { query });
  }
  getFile(fileId: string): Promise<StoredFile> {
    return this.request('GET', `/files/${encodeURIComponent(fileId)}`);
  }
  deleteFile(fileId: string): Promise<{ success: boolean; file_id: string; is_deleted: boolean }> {
    return this.request('DELETE', `/files/${encodeURIComponent(fileId)}`);
  }
  /**
   * Uploads bytes of any size (upload-url, then a PUT of the bytes) and waits until the file is
   * STORED (probed); throws when it ends FAILED. Returns the file, whose file_id is an input.
   */
  async uploadFile(data: Blob | Uint8Array, filename: string, options: WaitOptions = {}): Promise<StoredFile> {
    const { file_id, upload_url } = await this.createUploadUrl(filename);
    const put = await this.fetchImpl(upload_url, { method: 'PUT', body: data as NonNullable<RequestInit['body']> });
    if (!put.ok)
      throw new FfaasApiError(
        put.status,
        'UPLOAD_FAILED',
        `PUT of ${filename} answered ${put.status}`,
        await put.text(),
      );
    let delay = options.initialDelayMs ?? 250;
    for (;;) {
      const file = await this.getFile(file_id);
      if (file.status === 'STORED') return file;
      if (file.status === 'FAILED') {
        throw new FfaasApiError(
          422,
          file.error_status ?? 'FAILED',
          `${filename}: ${file.error_status}: ${file.error_message ?? ''}`,
          file,
        );
      }
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 4000);
    }
  }

  // The account's webhook (docs/API.md): every command's end is POSTed to it, signed.
  /** Sets the webhook; the answer carries the signing secret (generated when none is given), shown only now. */
  setWebhook(url: string, secret?: string): Promise<{ success: boolean; url: string; secret: string }> {
    return this.request('PUT', '/webhook-config', { body: secret === undefined ? { url } : { url, secret } });
  }
  getWebhook(): Promise<{ configured: boolean; url?: string | null; is_active?: boolean; [key: string]: unknown }> {
    return this.request('GET', '/webhook-config');
  }
  deleteWebhook(): Promise<{ success: boolean; deleted: boolean }> {
    return this.request('DELETE', '/webhook-config');
  }
  /** The deliveries of one command's webhook. */
  commandWebhooks(commandId: string): Promise<Record<string, unknown>> {
    return this.request('GET', `/commands/${encodeURIComponent(commandId)}/webhooks`);
  }
  redeliverWebhook(commandId: string): Promise<Record<string, unknown>> {
    return this.request('POST', `/commands/${encodeURIComponent(commandId)}/webhooks/redeliver`);
  }
  /** Recent deliveries of the account (failures first to look at). */
  webhookDeliveries(query: Record<string, string | number> = {}): Promise<Record<string, unknown>> {
    return this.request('GET', '/webhook-deliveries', { query });
  }

  // Rendi's multipart upload, command output deletion and presets (docs/FILES.md).
  initUpload(body: { filename: string; size_bytes?: number; parts?: number }): Promise<Record<string, unknown>> {
    return this.request('POST', '/files/init-upload', { body });
  }
  completeUpload(fileId: string, parts: { part_number: number; etag: string }[]): Promise<StoredFile> {
    return this.request('POST', `/files/${encodeURIComponent(fileId)}/complete-upload`, { body: { parts } });
  }
  deleteCommandFiles(commandId: string): Promise<Record<string, unknown>> {
    return this.request('DELETE', `/commands/${encodeURIComponent(commandId)}/files`);
  }
  createPreset(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.request('POST', '/presets', { body });
  }
  listPresets(): Promise<Record<string, unknown>> {
    return this.request('GET', '/presets');
  }
  getPreset(presetId: string): Promise<Record<string, unknown>> {
    return this.request('GET', `/presets/${encodeURIComponent(presetId)}`);
  }
  deletePreset(presetId: string): Promise<Record<string, unknown>> {
    return this.request('DELETE', `/presets/${encodeURIComponent(presetId)}`);
  }
  executePreset(presetId: string, body: Record<string, unknown> = {}): Promise<SubmitResponse> {
    return this.request('POST', `/presets/${encodeURIComponent(presetId)}/execute`, { body });
  }
}
