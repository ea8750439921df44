/**
 * The ffaas CLI's commands (bin/cli.ts runs main()). Each command takes --json (machine output
 * on stdout, messages on stderr) and --help; an error says what to do next.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FfaasApiError, type FfaasClient } from '../client/index.ts';
import { AmbiguousApiKeyPrefixError, ApiKeyNotFoundError } from '../store/api-key-repository.ts';
import { CliUsageError, connect } from './connection.ts';
import { FfmpegArgsError } from './ffmpeg-args.ts';
import { openKeyStore, type KeyStoreTarget } from './key-store.ts';
import { runFfmpeg } from './run.ts';

const CONNECTION_HELP = `connection (default: the local mode running on ./.ffaas or $FFAAS_DATA_DIR, with a key the CLI makes for it):
  --url URL      a deployment's API URL ($FFAAS_URL)
  --key KEY      its API key ($FFAAS_API_KEY)
  --data-dir DIR local mode's data dir ($FFAAS_DATA_DIR)
  --json         machine-readable output on stdout`;

export const HELP: Record<string, string> = {
  '': `usage: ffaas <command> [options]

  run -- ffmpeg ARGS…          run an FFmpeg command on the service: local inputs are uploaded,
                               outputs downloaded where the command names them
  commands list|get|cancel|logs
  files upload|list|rm
  webhooks set|show|test
  keys create|list|revoke      API keys of local mode or a deployed stack

\`ffaas <command> --help\` tells more. Docs: docs/CLI.md.`,
  run: `usage: ffaas run [--url URL] [--key KEY] [--json] [--no-download] -- ffmpeg -i INPUT … OUTPUT

  The arguments you would give FFmpeg on your machine. Every -i that is not a URL is a local
  file, uploaded first; every output is downloaded to the path you named (an HLS/DASH playlist
  with its segments). Shows live progress on a terminal; Ctrl-C cancels the command.
  Exit code: 0 on SUCCESS, 1 when it FAILED (FFmpeg's stderr tail is printed), 130 cancelled.

${CONNECTION_HELP}`,
  commands: `usage:
  ffaas commands list [--limit N] [--status S]   newest first
  ffaas commands get ID                          status, progress, outputs
  ffaas commands cancel ID                       ends it FAILED / CANCELLED
  ffaas commands logs ID                         the error and FFmpeg's stderr tail

${CONNECTION_HELP}`,
  files: `usage:
  ffaas files upload PATH      upload a local file (any size); prints its file_id, usable as an input
  ffaas files list [--limit N]
  ffaas files rm FILE_ID

${CONNECTION_HELP}`,
  webhooks: `usage:
  ffaas webhooks set URL [--secret S]   every command's end is POSTed there, signed (the secret is shown once)
  ffaas webhooks show                    the setting and recent deliveries
  ffaas webhooks test                    runs a one-second command and shows its delivery

${CONNECTION_HELP}`,
  keys: `usage:
  ffaas keys create --name NAME [--account ID]   prints the new key on the last line
  ffaas keys list
  ffaas keys revoke PREFIX
target (default: local mode on ./.ffaas or $FFAAS_DATA_DIR):
  --data-dir DIR | --stack NAME [--region R] | --api-keys-table T --accounts-table T [--region R]`,
};

class HelpRequested extends Error {
  constructor(readonly topic: string) {
    super('');
  }
}

const OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  limit: { type: 'string' },
  status: { type: 'string' },
  secret: { type: 'string' },
  'no-download': { type: 'boolean' },
  name: { type: 'string' },
  account: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  'api-keys-table': { type: 'string' },
  'accounts-table': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function print(values: Values, data: unknown, human: () => void): void {
  if (values.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else human();
}

const need = (value: string | undefined, what: string, topic: string): string => {
  if (!value) throw new CliUsageError(`${topic} needs ${what} (ffaas ${topic.split(' ')[0]} --help)`);
  return value;
};

export async function main(argv: string[]): Promise<number> {
  const dashdash = argv.indexOf('--');
  const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
  const ffmpegArgs = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  const { values, positionals } = parseArgs({ args: own, allowPositionals: true, options: OPTIONS });
  const [group = '', action, arg] = positionals;
  if (values.help || group === '' || group === 'help')
    throw new HelpRequested(group === 'help' ? (action ?? '') : group);
  if (!(group in HELP))
    throw new CliUsageError(
      `unknown command ${JSON.stringify(group)}: run, commands, files, webhooks or keys (ffaas --help)`,
    );
  if (group === 'keys') return keys(values, action, arg);

  const conn = () => connect({ url: values.url, key: values.key, dataDir: values['data-dir'] });
  switch (group) {
    case 'run': {
      if (ffmpegArgs.length === 0)
        throw new CliUsageError('run needs the FFmpeg command after --: ffaas run -- ffmpeg -i in.mp4 out.webm');
      return runFfmpeg((await conn()).client, ffmpegArgs, { json: !!values.json, noDownload: values['no-download'] });
    }
    case 'commands':
      return commands((await conn()).client, values, action, arg);
    case 'files':
      return files((await conn()).client, values, action, arg);
    case 'webhooks':
      return webhooks((await conn()).client, values, action, arg);
  }
  return 2;
}

async function commands(client: FfaasClient, values: Values, action?: string, id?: string): Promise<number> {
  switch (action) {
    case 'list': {
      const page = await client.listCommands({
        limit: values.limit ? Number(values.limit) : undefined,
        status: values.status,
      });
      print(values, page, () => {
        if (page.commands.length === 0) console.log('no commands yet: ffaas run -- ffmpeg …');
        for (const c of page.commands) {
          const pct = c.progress?.percent != null ? ` ${Math.round(c.progress.percent)}%` : '';
          console.log(
            [
              c.command_id,
              c.created_at,
              `${c.status}${pct}`,
              c.error_status ?? '',
              Object.values(c.original_request.output_files).join(','),
            ].join('\t'),
          );
        }
      });
      return 0;
    }
    case 'get': {
      const c = await client.getCommand(need(id, 'a command id', 'commands get'));
      print(values, c, () => {
        console.log(`${c.command_id}  ${c.status}${c.error_status ? ` (${c.error_status})` : ''}`);
        if (c.progress)
          console.log(
            `progress: ${c.progress.percent ?? '?'}% at ${c.progress.out_time_seconds}s, speed ${c.progress.speed ?? '?'}x`,
          );
        for (const [alias, f] of Object.entries(c.output_files))
          console.log(`${alias}\t${f.filename}\t${f.status}\t${f.storage_url ?? ''}`);
      });
      return 0;
    }
    case 'cancel': {
      const c = await client.cancelCommand(need(id, 'a command id', 'commands cancel'));
      print(values, c, () =>
        console.log(`${c.command_id}  ${c.status}${c.error_status ? ` (${c.error_status})` : ''}`),
      );
      return 0;
    }
    case 'logs': {
      const c = await client.getCommand(need(id, 'a command id', 'commands logs'));
      print(
        values,
        { command_id: c.command_id, status: c.status, error_status: c.error_status, error_message: c.error_message },
        () => {
          console.log(`${c.command_id}  ${c.status}${c.error_status ? ` (${c.error_status})` : ''}`);
          console.log(c.error_message ?? (c.status === 'SUCCESS' ? 'no errors' : 'nothing yet'));
        },
      );
      return 0;
    }
  }
  throw new CliUsageError(`commands needs list, get, cancel or logs (ffaas commands --help)`);
}

async function files(client: FfaasClient, values: Values, action?: string, arg?: string): Promise<number> {
  switch (action) {
    case 'upload': {
      const file = need(arg, 'a file path', 'files upload');
      const bytes = await readFile(file).catch(() => {
        throw new CliUsageError(`cannot read ${file}`);
      });
      const stored = await client.uploadFile(new Uint8Array(bytes), path.basename(file));
      print(values, stored, () => console.log(`${stored.file_id}\t${stored.filename}\t${stored.status}`));
      return 0;
    }
    case 'list': {
      const page = await client.listFiles({ limit: values.limit ? Number(values.limit) : undefined });
      const list = Array.isArray(page) ? page : page.files;
      print(values, page, () => {
        if (list.length === 0) console.log('no files: ffaas files upload PATH');
        for (const f of list) console.log([f.file_id, f.filename, f.status, f.size_mbytes ?? ''].join('\t'));
      });
      return 0;
    }
    case 'rm': {
      const out = await client.deleteFile(need(arg, 'a file id', 'files rm'));
      print(values, out, () => console.log(`deleted ${out.file_id}`));
      return 0;
    }
  }
  throw new CliUsageError('files needs upload, list or rm (ffaas files --help)');
}

async function webhooks(client: FfaasClient, values: Values, action?: string, arg?: string): Promise<number> {
  switch (action) {
    case 'set': {
      const out = await client.setWebhook(need(arg, 'a URL', 'webhooks set'), values.secret);
      print(values, out, () => {
        console.log(`webhook set to ${out.url}; its signing secret (shown only now):`);
        console.log(out.secret);
      });
      return 0;
    }
    case 'show': {
      const config = await client.getWebhook();
      const deliveries = await client.webhookDeliveries().catch(() => null);
      print(values, { config, deliveries }, () => {
        console.log(
          config.configured
            ? `${config.url} (${config.is_active ? 'active' : 'disabled'})`
            : 'no webhook: ffaas webhooks set URL',
        );
        if (deliveries) console.log(JSON.stringify(deliveries, null, 2));
      });
      return 0;
    }
    case 'test': {
      const config = await client.getWebhook();
      if (!config.configured) throw new CliUsageError('no webhook set: ffaas webhooks set URL');
      const done = await client.run(
        {
          input_files: {},
          output_files: { out_test: 'webhook-test.png' },
          ffmpeg_command: 'ffmpeg -filter_complex testsrc=duration=1:size=64x64 -frames:v 1 {{out_test}}',
        },
        { initialDelayMs: 500, maxDelayMs: 2000 },
      );
      let deliveries: Record<string, unknown> = {};
      for (let i = 0; i < 20; i++) {
        deliveries = await client.commandWebhooks(done.command_id);
        // Recorded is not yet sent: wait for the first attempt's answer (or a final state).
        if (/"attempts":[1-9]/.test(JSON.stringify(deliveries))) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      print(values, { command_id: done.command_id, deliveries }, () => {
        console.log(`test command ${done.command_id} ended ${done.status}; its webhook deliveries:`);
        console.log(JSON.stringify(deliveries, null, 2));
      });
      return 0;
    }
  }
  throw new CliUsageError('webhooks needs set, show or test (ffaas webhooks --help)');
}

function keyTarget(values: Values): KeyStoreTarget {
  const region = values.region;
  if (values.stack) return { kind: 'stack', stackName: values.stack, region };
  if (values['api-keys-table'] || values['accounts-table']) {
    if (!values['api-keys-table'] || !values['accounts-table'])
      throw new CliUsageError('--api-keys-table and --accounts-table go together');
    return { kind: 'tables', apiKeysTable: values['api-keys-table'], accountsTable: values['accounts-table'], region };
  }
  return { kind: 'local', dataDir: values['data-dir'] };
}

async function keys(values: Values, action?: string, arg?: string): Promise<number> {
  if (!action || !['create', 'list', 'revoke'].includes(action))
    throw new CliUsageError('keys needs create, list or revoke (ffaas keys --help)');
  const store = await openKeyStore(keyTarget(values));
  try {
    switch (action) {
      case 'create': {
        if (!values.name) throw new CliUsageError('keys create needs --name NAME');
        const created = await store.repository.create({ name: values.name, accountId: values.account });
        if (values.json) {
          print(
            values,
            { key: created.key, prefix: created.prefix, name: created.name, account_id: created.accountId },
            () => undefined,
          );
          return 0;
        }
        console.log(
          `Created key ${created.prefix}… "${created.name}" for account ${created.accountId}${created.accountCreated ? ' (new account)' : ''} in ${store.where}.`,
        );
        const usage = await store.onAccount?.(created.accountId);
        if (usage) console.log(usage);
        console.log('It is shown only now; send it as the X-API-KEY header:');
        console.log(created.key);
        return 0;
      }
      case 'list': {
        const list = await store.repository.list();
        print(values, list, () => {
          if (list.length === 0) console.log(`no keys in ${store.where}`);
          for (const k of list)
            console.log(
              [k.prefix, k.account_id, k.created_at, k.revoked_at ? `revoked ${k.revoked_at}` : 'active', k.name].join(
                '\t',
              ),
            );
        });
        return 0;
      }
      case 'revoke': {
        const revoked = await store.repository.revoke(need(arg, 'the key or its prefix', 'keys revoke'));
        print(values, revoked, () =>
          console.log(`revoked ${revoked.prefix} "${revoked.name}" (account ${revoked.account_id})`),
        );
        return 0;
      }
    }
    throw new CliUsageError(`unknown keys action ${JSON.stringify(action)} (ffaas keys --help)`);
  } finally {
    await store.close();
  }
}

/** Exit codes: 0 ok, 1 failed (the service said no, or the command FAILED), 2 usage. */
export function reportError(err: unknown): number {
  if (err instanceof HelpRequested) {
    console.log(HELP[err.topic] ?? HELP['']);
    return 0;
  }
  if (
    err instanceof CliUsageError ||
    err instanceof FfmpegArgsError ||
    (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(`ffaas: ${(err as Error).message}`);
    return 2;
  }
  if (err instanceof FfaasApiError) {
    const hints: Record<number, string> = {
      401: ' (check the key: --key or FFAAS_API_KEY; local mode: ffaas keys create --name NAME)',
      404: err.code === 'NOT_FOUND' ? " (a wrong id, another account's, or a route this server does not have)" : '',
    };
    console.error(`ffaas: ${err.message}${hints[err.status] ?? ''}`);
    const details = (err.body as { error?: { details?: { path: unknown[]; message: string }[] } })?.error?.details;
    for (const d of details ?? []) console.error(`  ${d.path.join('.')}: ${d.message}`);
    return 1;
  }
  if (err instanceof ApiKeyNotFoundError || err instanceof AmbiguousApiKeyPrefixError) {
    console.error(`ffaas: ${err.message}`);
    return 1;
  }
  const cause = (err as { cause?: { code?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') {
    console.error(
      `ffaas: cannot reach the service (${(err as Error).message}): is it running? (npm start, or check --url)`,
    );
    return 1;
  }
  console.error(`ffaas: ${(err as Error).message ?? err}`);
  return 1;
}
