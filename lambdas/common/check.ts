/**
 * The checks of a submit, shared by the submit handlers and POST /validate (one function, so
 * the two cannot disagree): body schema → command checker → URL policy. No AWS client here:
 * the open validate route bundles this and nothing of the data layer.
 */
import {
  ApiError,
  parseOrThrow,
  violationsToApiError,
  type ErrorDetail,
  type ErrorPath,
} from '../../core/api/errors.ts';
import type { SubmitRequest } from '../../core/api/command-item.ts';
import { isFileId } from '../../core/api/files.ts';
import { RunChainedFfmpegCommandsSchema, RunFfmpegCommandSchema } from '../../core/api/schemas.ts';
import { parseFfmpegCommand } from '../../core/command/index.ts';
import type { Compute } from '../../core/constants.ts';
// policy.ts, not index.ts: the fetcher (undici, ~700 KB bundled) has no place in the API's bundles.
import { assertPublicUrl, describeHost } from '../../core/net/policy.ts';
import type { CommandPlan } from '../../core/types.ts';
import { config } from './config.ts';

/**
 * null when `url` may be fetched by the service, else why not. Private targets pass only
 * when FFAAS_ALLOW_PRIVATE_URLS is set (metadata endpoints never do: core/net decides).
 */
export async function urlRefusal(url: string): Promise<string | null> {
  const verdict = await assertPublicUrl(url, { allowPrivate: config().allowPrivateUrls });
  return verdict.ok ? null : verdict.reason;
}

export interface SubmitCommand extends SubmitRequest {
  compute?: 'auto' | Compute;
}

export interface CheckedCommand {
  request: SubmitCommand;
  parsed: { plan: CommandPlan; compute: Compute };
}

/** The command strings of a request, one for a single command, several for a chain. */
function commandStrings(request: SubmitCommand): string[] {
  return request.ffmpeg_commands ?? [request.ffmpeg_command ?? ''];
}

/** Which submit route a body is for: run-ffmpeg-command or run-chained-ffmpeg-commands. */
export type SubmitKind = 'single' | 'chained';

export interface CheckOptions {
  /**
   * Say which address a refused host resolved to (submit, behind a key). The open /validate
   * route passes false: it refuses the same URLs but must not tell anyone what internal names
   * resolve to.
   * @default true
   */
  revealAddresses?: boolean;
  /** Inputs the service stages itself (Rendobar's inline {content}): never fetched, so no URL check. */
  stagedInputs?: ReadonlySet<string>;
  /**
   * Finds the inputs that name a stored file (file_id or storage_url) of the caller's account
   * and checks them (submit.ts: `storedInputResolver(accountId)`, which reads the files table).
   * Without one (POST /validate: no key, no table) a file id stands for a stored file whose
   * ownership and state are checked only on submit.
   * @default only file ids are recognised, by shape
   */
  storedInputs?: StoredInputResolver;
  /** alias → workspace name to stage the input under (Rendobar's `inputs` keys). @default `<alias><ext>` */
  inputNames?: Readonly<Record<string, string>>;
}

/** A stored file an input names: the worker reads it from the bucket. */
export interface StoredInput {
  s3Key: string;
  filename: string;
}

/** alias → stored file, for the inputs that name one; throws the ApiError for refused ones. */
export type StoredInputResolver = (
  inputFiles: Record<string, string>,
  prefix: ErrorPath,
) => Promise<Map<string, StoredInput>>;

/** Recognises file ids by their shape only (see CheckOptions.storedInputs). */
const fileIdsByShape: StoredInputResolver = async (inputFiles) =>
  new Map(
    Object.entries(inputFiles)
      .filter(([, v]) => isFileId(v))
      .map(([alias, v]) => [alias, { s3Key: '', filename: v }]),
  );

/** Stand-in URL given to the parser for a stored-file input: it only lends the extension. */
function storedInputStandIn(fileName: string): string {
  return `https://stored-file.invalid/${encodeURIComponent(fileName)}`;
}

/**
 * Every check a submit runs before anything is recorded, and the only place they are written:
 * the route's body schema (types, limits), the command checker, then every URL the service
 * would fetch. The submit handlers and POST /validate both call this, so validate can never
 * say `valid: true` for a body submit refuses. Throws the ApiError to answer with.
 */
export async function checkSubmission(
  kind: SubmitKind,
  body: unknown,
  opts: CheckOptions = {},
): Promise<CheckedCommand> {
  const request: SubmitCommand =
    kind === 'chained'
      ? parseOrThrow(RunChainedFfmpegCommandsSchema, body)
      : parseOrThrow(RunFfmpegCommandSchema, body);
  return checkCommand(request, [], opts);
}

/**
 * Parse and police the command(s), then check every URL the service would fetch. Throws the
 * ApiError to answer with; `prefix` places paths inside a run-multiple body.
 */
export async function checkCommand(
  request: SubmitCommand,
  prefix: ErrorPath = [],
  opts: CheckOptions = {},
): Promise<CheckedCommand> {
  const stored = await (opts.storedInputs ?? fileIdsByShape)(request.input_files, prefix);
  const parseInputs = Object.fromEntries(
    Object.entries(request.input_files).map(([alias, url]) => [
      alias,
      stored.has(alias) ? storedInputStandIn(stored.get(alias)!.filename) : url,
    ]),
  );
  const result = parseFfmpegCommand({
    commands: commandStrings(request),
    inputFiles: parseInputs,
    outputFiles: request.output_files,
    compute: request.compute ?? 'auto',
    gpuAvailable: config().gpuEnabled,
    inputNames: opts.inputNames,
  });
  if (!result.ok) throw violationsToApiError(result.violations, prefix);
  for (const input of result.plan.inputs) {
    const file = stored.get(input.alias);
    if (file?.s3Key) {
      input.s3_key = file.s3Key;
      input.url = `s3://${config().bucket}/${file.s3Key}`;
    }
  }

  // Stored files are read from the bucket and stand-ins (Rendobar's inline content) are never
  // fetched: only real URLs are checked against the URL policy.
  const targets: { path: ErrorPath; url: string }[] = Object.entries(request.input_files)
    .filter(([alias]) => !stored.has(alias) && !opts.stagedInputs?.has(alias))
    .map(([alias, url]) => ({ path: [...prefix, 'input_files', alias], url }));
  if (request.webhook_url) targets.push({ path: [...prefix, 'webhook_url'], url: request.webhook_url });
  const refusals = await Promise.all(targets.map(async (t) => ({ ...t, reason: await urlRefusal(t.url) })));
  const details: ErrorDetail[] = refusals
    .filter((r) => r.reason !== null)
    .map((r) => ({
      path: r.path,
      message: `URL refused: ${opts.revealAddresses === false ? `host "${describeHost(r.url)}" is not a public address the service may fetch` : r.reason}`,
      type: 'url_not_allowed',
    }));
  if (details.length > 0) {
    throw new ApiError('VALIDATION_ERROR', details.map((d) => `${d.path.join('.')}: ${d.message}`).join('; '), details);
  }
  return { request, parsed: { plan: result.plan, compute: result.compute } };
}
