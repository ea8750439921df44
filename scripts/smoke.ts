/**
 * Smoke test of a running ffaas: `npm run smoke -- --stack NAME --input-url URL` against a
 * deployed stack, or `npm run smoke -- --url http://127.0.0.1:PORT --key KEY --input-url URL`
 * against any running instance (local mode included).
 *
 * Against a stack it: creates an API key (the CLI's key store, `keys create --stack`), puts a
 * temporary EventBridge rule on the stack's bus with an SQS queue as its target (matching the
 * new key's account), runs one command through the API, polls it to SUCCESS, downloads the
 * output and checks it with ffprobe, waits for the completion event in the queue, and cleans
 * up (rule, queue, key). A webhook is only checked when `--webhook-url` is given (the command
 * then carries it and the script says where to look); otherwise that step is skipped.
 * Exit code 0 when every step that ran passed, 1 otherwise, 2 on bad arguments.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { EVENT_SOURCE } from '../core/constants.ts';

const run = promisify(execFile);

export class UsageError extends Error {}

export type SmokeTarget =
  | { kind: 'stack'; stackName: string; region?: string }
  | { kind: 'url'; url: string; key: string };

export interface SmokeOptions {
  target: SmokeTarget;
  inputUrl: string;
  webhookUrl?: string;
  /** Seconds to wait for the command to finish. */
  timeoutSeconds: number;
}

export const SMOKE_USAGE = `usage:
  npm run smoke -- --stack NAME --input-url URL [--region R] [--webhook-url URL] [--timeout S]
  npm run smoke -- --url http://127.0.0.1:PORT --key KEY --input-url URL [--webhook-url URL] [--timeout S]`;

/** The command line, checked: exactly one target, an http(s) input, a positive timeout. */
export function parseSmokeArgs(argv: string[]): SmokeOptions {
  const options = {
    stack: { type: 'string' },
    region: { type: 'string' },
    url: { type: 'string' },
    key: { type: 'string' },
    'input-url': { type: 'string' },
    'webhook-url': { type: 'string' },
    timeout: { type: 'string' },
  } as const;
  let values: ReturnType<
    typeof parseArgs<{ options: typeof options; strict: true; allowPositionals: false }>
  >['values'];
  try {
    ({ values } = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.stack && values.url) throw new UsageError('give --stack or --url, not both');
  if (!values.stack && !values.url) throw new UsageError('give --stack NAME (a deployed stack) or --url URL --key KEY');
  if (values.url && !values.key) throw new UsageError('--url needs --key (an API key of that instance)');
  if (values.stack && values.key)
    throw new UsageError('--key is for --url; with --stack the script creates its own key');
  if (values.url && values.region) throw new UsageError('--region is for --stack');
  if (!values['input-url']) throw new UsageError('--input-url URL is required: a short video the service can download');
  for (const [flag, v] of [
    ['--input-url', values['input-url']],
    ['--webhook-url', values['webhook-url']],
    ['--url', values.url],
  ] as const) {
    if (v !== undefined && !/^https?:\/\/[^/]/.test(v)) throw new UsageError(`${flag} must be an http(s) URL`);
  }
  const timeoutSeconds = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0)
    throw new UsageError('--timeout must be a positive number of seconds');
  const target: SmokeTarget = values.stack
    ? { kind: 'stack', stackName: values.stack, ...(values.region ? { region: values.region } : {}) }
    : { kind: 'url', url: values.url!.replace(/\/+$/, ''), key: values.key! };
  return {
    target,
    inputUrl: values['input-url']!,
    ...(values['webhook-url'] ? { webhookUrl: values['webhook-url'] } : {}),
    timeoutSeconds,
  };
}

/** The smoke command: one second of the input, scaled down, to one MP4. */
export function smokeCommandBody(inputUrl: string, webhookUrl?: string): Record<string, unknown> {
  return {
    input_files: { in_video: inputUrl },
    output_files: { out_video: 'smoke.mp4' },
    ffmpeg_command: '-i {{in_video}} -t 1 -vf scale=160:-2 -c:v libx264 -an {{out_video}}',
    max_command_run_seconds: 120,
    metadata: { smoke: true },
    ...(webhookUrl ? { webhook_url: webhookUrl } : {}),
  };
}

/** Problems with the downloaded output, from `ffprobe -print_format json -show_streams -show_format`. */
export function probeProblems(probe: {
  streams?: Array<{ codec_type?: string; width?: number }>;
  format?: { duration?: string };
}): string[] {
  const problems: string[] = [];
  const video = (probe.streams ?? []).find((s) => s.codec_type === 'video');
  if (!video) problems.push('no video stream');
  else if (video.width !== 160) problems.push(`video is ${video.width} px wide, not 160`);
  const duration = Number(probe.format?.duration);
  if (!(duration > 0 && duration <= 1.5)) problems.push(`duration ${probe.format?.duration} is not about 1 s`);
  return problems;
}

/** The temporary rule's pattern: completions of the smoke key's account only. */
export function smokeEventPattern(accountId: string): Record<string, unknown> {
  return { source: [EVENT_SOURCE], detail: { account_id: [accountId] } };
}

export interface StepResult {
  step: string;
  outcome: 'ok' | 'failed' | 'skipped';
  detail: string;
}

interface Api {
  base: string;
  key: string;
}

async function call(api: Api, method: string, route: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${api.base}${route}`, {
    method,
    headers: { 'X-API-KEY': api.key, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  try {
    return { status: res.status, json: JSON.parse(text) };
  } catch {
    return { status: res.status, json: { raw: text.slice(0, 200) } };
  }
}

/** Submit, poll to the end, download and probe. */
async function runThroughApi(
  api: Api,
  options: SmokeOptions,
  results: StepResult[],
): Promise<{ commandId?: string; ok: boolean }> {
  const submit = await call(
    api,
    'POST',
    '/api/v1/run-ffmpeg-command',
    smokeCommandBody(options.inputUrl, options.webhookUrl),
  );
  if (submit.status !== 200 || typeof submit.json?.command_id !== 'string') {
    results.push({
      step: 'submit',
      outcome: 'failed',
      detail: `HTTP ${submit.status} ${JSON.stringify(submit.json).slice(0, 300)}`,
    });
    return { ok: false };
  }
  const commandId = submit.json.command_id as string;
  results.push({ step: 'submit', outcome: 'ok', detail: `command ${commandId}` });

  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let poll: any;
  for (;;) {
    const res = await call(api, 'GET', `/api/v1/commands/${commandId}`);
    poll = res.json;
    if (res.status !== 200) {
      results.push({ step: 'poll', outcome: 'failed', detail: `HTTP ${res.status}` });
      return { commandId, ok: false };
    }
    if (poll.status === 'SUCCESS' || poll.status === 'FAILED') break;
    if (Date.now() > deadline) {
      results.push({
        step: 'poll',
        outcome: 'failed',
        detail: `still ${poll.status} after ${options.timeoutSeconds} s`,
      });
      return { commandId, ok: false };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (poll.status !== 'SUCCESS') {
    results.push({
      step: 'poll',
      outcome: 'failed',
      detail: `${poll.error_status}: ${String(poll.error_message).slice(0, 300)}`,
    });
    return { commandId, ok: false };
  }
  results.push({ step: 'poll', outcome: 'ok', detail: `SUCCESS in ${poll.total_processing_seconds ?? '?'} s` });

  const url = poll.output_files?.out_video?.storage_url;
  if (typeof url !== 'string') {
    results.push({ step: 'output', outcome: 'failed', detail: 'no storage_url for out_video' });
    return { commandId, ok: false };
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'ffaas-smoke-'));
  try {
    const res = await fetch(url);
    if (!res.ok) {
      results.push({ step: 'output', outcome: 'failed', detail: `download HTTP ${res.status}` });
      return { commandId, ok: false };
    }
    const file = path.join(dir, 'smoke.mp4');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await run(process.env.FFAAS_FFPROBE_PATH ?? 'ffprobe', [
      '-v',
      'error',
      '-print_format',
      'json',
      '-show_streams',
      '-show_format',
      file,
    ]);
    const problems = probeProblems(JSON.parse(stdout));
    results.push(
      problems.length
        ? { step: 'output', outcome: 'failed', detail: problems.join('; ') }
        : { step: 'output', outcome: 'ok', detail: 'downloaded; ffprobe: 160 px video, about 1 s' },
    );
    return { commandId, ok: problems.length === 0 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function webhookStep(options: SmokeOptions, commandId: string | undefined, results: StepResult[]): void {
  results.push(
    options.webhookUrl
      ? {
          step: 'webhook',
          outcome: 'ok',
          detail: `command ${commandId} carried webhook_url ${options.webhookUrl}: check that endpoint for its delivery`,
        }
      : {
          step: 'webhook',
          outcome: 'skipped',
          detail: 'no --webhook-url given (the script runs no public endpoint of its own)',
        },
  );
}

/** Against any running instance with a key: API, output; no event check (no access to its bus). */
export async function smokeUrl(options: SmokeOptions & { target: { kind: 'url' } }): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const { commandId } = await runThroughApi(
    { base: `${options.target.url}`, key: options.target.key },
    options,
    results,
  );
  results.push({
    step: 'event',
    outcome: 'skipped',
    detail: "only with --stack (the script reads the stack's bus through a temporary rule)",
  });
  webhookStep(options, commandId, results);
  return results;
}

/** Against a deployed stack: key, rule + queue, API, output, event; everything removed after. */
export async function smokeStack(options: SmokeOptions & { target: { kind: 'stack' } }): Promise<StepResult[]> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const { EventBridgeClient, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand, DeleteRuleCommand } =
    await import('@aws-sdk/client-eventbridge');
  const {
    SQSClient,
    CreateQueueCommand,
    GetQueueAttributesCommand,
    SetQueueAttributesCommand,
    ReceiveMessageCommand,
    DeleteQueueCommand,
  } = await import('@aws-sdk/client-sqs');
  const { openKeyStore } = await import('../cli/key-store.ts');
  const { STACK_OUTPUTS } = await import('../lib/outputs.ts');

  const region = options.target.region;
  const cfg = region ? { region } : {};
  const results: StepResult[] = [];
  const cleanups: Array<[string, () => Promise<unknown>]> = [];
  try {
    const stack = await new CloudFormationClient(cfg).send(
      new DescribeStacksCommand({ StackName: options.target.stackName }),
    );
    const outputs = new Map((stack.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    const apiUrl = outputs.get(STACK_OUTPUTS.apiUrl);
    const busName = outputs.get(STACK_OUTPUTS.eventBusName);
    if (!apiUrl || !busName)
      throw new Error(
        `stack ${options.target.stackName} has no ${STACK_OUTPUTS.apiUrl}/${STACK_OUTPUTS.eventBusName} outputs`,
      );

    const store = await openKeyStore({ kind: 'stack', stackName: options.target.stackName, region });
    const created = await store.repository.create({ name: `smoke-${new Date().toISOString()}` });
    cleanups.push(['revoke key', async () => (await store.repository.revoke(created.prefix), store.close())]);
    results.push({ step: 'key', outcome: 'ok', detail: `key ${created.prefix}… for new account ${created.accountId}` });

    // Temporary rule → queue, before the command runs, so its completion event is caught.
    const name = `ffaas-smoke-${Date.now()}`;
    const sqs = new SQSClient(cfg);
    const events = new EventBridgeClient(cfg);
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const queueUrl = queue.QueueUrl!;
    cleanups.push(['delete queue', () => sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }))]);
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes!.QueueArn!;
    const rule = await events.send(
      new PutRuleCommand({
        Name: name,
        EventBusName: busName,
        EventPattern: JSON.stringify(smokeEventPattern(created.accountId)),
      }),
    );
    cleanups.push(['delete rule', () => events.send(new DeleteRuleCommand({ Name: name, EventBusName: busName }))]);
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': rule.RuleArn } },
              },
            ],
          }),
        },
      }),
    );
    await events.send(
      new PutTargetsCommand({ Rule: name, EventBusName: busName, Targets: [{ Id: 'smoke', Arn: queueArn }] }),
    );
    cleanups.push([
      'remove target',
      () => events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: busName, Ids: ['smoke'] })),
    ]);

    const { commandId } = await runThroughApi({ base: apiUrl.replace(/\/+$/, ''), key: created.key }, options, results);

    if (commandId) {
      let found: any;
      const until = Date.now() + 60_000;
      while (!found && Date.now() < until) {
        const got = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 10, MaxNumberOfMessages: 10 }),
        );
        found = (got.Messages ?? [])
          .map((m) => JSON.parse(m.Body ?? '{}'))
          .find((e) => e.detail?.command_id === commandId);
      }
      results.push(
        found
          ? { step: 'event', outcome: 'ok', detail: `${found['detail-type']} (${found.detail.status})` }
          : { step: 'event', outcome: 'failed', detail: 'no completion event within 60 s' },
      );
    }
    webhookStep(options, commandId, results);
  } catch (err) {
    results.push({ step: 'setup', outcome: 'failed', detail: (err as Error).message });
  } finally {
    // Undo in reverse order; a failed cleanup is reported, the others still run.
    for (const [what, undo] of cleanups.reverse()) {
      try {
        await undo();
      } catch (err) {
        results.push({ step: `cleanup: ${what}`, outcome: 'failed', detail: (err as Error).message });
      }
    }
  }
  return results;
}

export function formatResults(results: StepResult[]): { text: string; ok: boolean } {
  const mark = { ok: 'ok  ', failed: 'FAIL', skipped: 'skip' } as const;
  const text = results.map((r) => `${mark[r.outcome]}  ${r.step.padEnd(8)} ${r.detail}`).join('\n');
  return { text, ok: results.length > 0 && results.every((r) => r.outcome !== 'failed') };
}

async function main(): Promise<number> {
  let options: SmokeOptions;
  try {
    options = parseSmokeArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${SMOKE_USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const results =
    options.target.kind === 'stack'
      ? await smokeStack(options as SmokeOptions & { target: { kind: 'stack' } })
      : await smokeUrl(options as SmokeOptions & { target: { kind: 'url' } });
  const { text, ok } = formatResults(results);
  process.stdout.write(`${text}\n${ok ? 'smoke test passed' : 'smoke test FAILED'}\n`);
  return ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
