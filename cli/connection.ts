/**
 * Which ffaas the CLI talks to, and with which key:
 *   --url / $FFAAS_URL, else the local mode running on the data dir (its endpoints.json);
 *   --key / $FFAAS_API_KEY, else (local mode only) a key the CLI creates once for the data dir's
 *   local account and keeps in <data dir>/cli-key (mode 0600).
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FfaasClient } from '../client/index.ts';
import { readLiveEndpoints, resolveDataDir } from '../local/index.ts';
import { openKeyStore } from './key-store.ts';

export class CliUsageError extends Error {}

export interface ConnectionOptions {
  url?: string;
  key?: string;
  dataDir?: string;
}

export interface Connection {
  client: FfaasClient;
  baseUrl: string;
  /** For messages: "local mode on ./.ffaas" or the URL. */
  where: string;
}

export const CLI_KEY_FILE = 'cli-key';
/** The account of the CLI's own local key (`ffaas keys create --account local` shares it). */
export const LOCAL_CLI_ACCOUNT = 'local';

export async function connect(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const url = options.url ?? env.FFAAS_URL;
  const key = options.key ?? env.FFAAS_API_KEY;
  if (url) {
    if (!key) throw new CliUsageError(`no API key for ${url}: pass --key KEY or set FFAAS_API_KEY`);
    return { client: new FfaasClient({ baseUrl: url, apiKey: key }), baseUrl: url, where: url };
  }
  const dataDir = resolveDataDir(options.dataDir);
  const live = await readLiveEndpoints(dataDir);
  if (!live?.url) {
    throw new CliUsageError(
      `no local mode running on ${dataDir}: start it with \`npm start\` (or FFAAS_DATA_DIR=… npm start), or point the CLI at a deployment with --url URL --key KEY (or FFAAS_URL / FFAAS_API_KEY)`,
    );
  }
  return {
    client: new FfaasClient({ baseUrl: live.url, apiKey: key ?? (await localCliKey(dataDir)) }),
    baseUrl: live.url,
    where: `local mode on ${dataDir} (${live.url})`,
  };
}

/** The CLI's own key for local mode: created on first use, then read back. */
async function localCliKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, CLI_KEY_FILE);
  try {
    const saved = (await readFile(file, 'utf8')).trim();
    if (saved) return saved;
  } catch {
    /* first use */
  }
  const store = await openKeyStore({ kind: 'local', dataDir });
  try {
    const created = await store.repository.create({ name: 'ffaas-cli', accountId: LOCAL_CLI_ACCOUNT });
    await writeFile(file, `${created.key}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return created.key;
  } finally {
    await store.close();
  }
}
