/**
 * The ffaas CLI (`npx ffaas …`, through bin/ffaas.mjs).
 *
 *   ffaas keys create --name NAME [--account ID]   prints the new key on the last line
 *   ffaas keys list
 *   ffaas keys revoke PREFIX
 *
 * Target: the local instance on --data-dir (default $FFAAS_DATA_DIR or ./.ffaas), or a deployed
 * stack with --stack NAME [--region R], or explicit --api-keys-table/--accounts-table.
 */
import { parseArgs } from 'node:util';
import { openKeyStore, type KeyStoreTarget } from '../cli/key-store.ts';
import { AmbiguousApiKeyPrefixError, ApiKeyNotFoundError } from '../store/api-key-repository.ts';

const USAGE = `usage:
  ffaas keys create --name NAME [--account ID]
  ffaas keys list
  ffaas keys revoke PREFIX
target (default: local mode on ./.ffaas or $FFAAS_DATA_DIR):
  --data-dir DIR | --stack NAME [--region R] | --api-keys-table T --accounts-table T [--region R]`;

class UsageError extends Error {}

function targetOf(values: Record<string, string | boolean | undefined>): KeyStoreTarget {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const region = str('region');
  if (str('stack')) return { kind: 'stack', stackName: str('stack')!, region };
  if (str('api-keys-table') || str('accounts-table')) {
    if (!str('api-keys-table') || !str('accounts-table')) throw new UsageError('--api-keys-table and --accounts-table go together');
    return { kind: 'tables', apiKeysTable: str('api-keys-table')!, accountsTable: str('accounts-table')!, region };
  }
  return { kind: 'local', dataDir: str('data-dir') };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      account: { type: 'string' },
      'data-dir': { type: 'string' },
      stack: { type: 'string' },
      region: { type: 'string' },
      'api-keys-table': { type: 'string' },
      'accounts-table': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, action, arg] = positionals;
  if (values.help || group !== 'keys' || !action) throw new UsageError(values.help ? '' : 'unknown command');

  const store = await openKeyStore(targetOf(values));
  try {
    switch (action) {
      case 'create': {
        if (!values.name) throw new UsageError('keys create needs --name NAME');
        const created = await store.repository.create({ name: values.name, accountId: values.account });
        console.log(`Created key ${created.prefix}… "${created.name}" for account ${created.accountId}${created.accountCreated ? ' (new account)' : ''} in ${store.where}.`);
        const usage = await store.onAccount?.(created.accountId);
        if (usage) console.log(usage);
        console.log('It is shown only now; send it as the X-API-KEY header:');
        console.log(created.key);
        return 0;
      }
      case 'list': {
        const keys = await store.repository.list();
        if (keys.length === 0) console.log(`no keys in ${store.where}`);
        for (const k of keys) {
          console.log([k.prefix, k.account_id, k.created_at, k.revoked_at ? `revoked ${k.revoked_at}` : 'active', k.name].join('\t'));
        }
        return 0;
      }
      case 'revoke': {
        if (!arg) throw new UsageError('keys revoke needs the key or its prefix');
        const revoked = await store.repository.revoke(arg);
        console.log(`revoked ${revoked.prefix} "${revoked.name}" (account ${revoked.account_id})`);
        return 0;
      }
      default:
        throw new UsageError(`unknown keys action ${JSON.stringify(action)}`);
    }
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      if (err.message) console.error(`ffaas: ${err.message}`);
      console.error(USAGE);
      process.exit(2);
    }
    if (err instanceof ApiKeyNotFoundError || err instanceof AmbiguousApiKeyPrefixError) {
      console.error(`ffaas: ${err.message}`);
      process.exit(1);
    }
    console.error(`ffaas: ${(err as Error).message ?? err}`);
    process.exit(1);
  },
);
