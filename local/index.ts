/**
 * Local mode's public face, for code outside local/ (the CLI, scripts, tests):
 * - startLocalFfaas(): the whole service on one machine, in this process (what `npm start` runs);
 * - openLocalData() / withLocalData(): the DynamoDB of a data dir for another process — through
 *   the running instance if there is one, else by opening the data dir for a while;
 * - readLiveEndpoints(): where the instance running on a data dir listens, if one does.
 * Everything else in local/ is internal.
 */
import type { LocalFfaas, LocalFfaasOptions } from './start.ts';

export type { LocalFfaas, LocalFfaasOptions } from './start.ts';
export type { EndpointsFile, LocalDataAccess } from './services.ts';
export { endpointsFilePath, openLocalData, readLiveEndpoints, resolveDataDir, withLocalData } from './services.ts';

/** Starts local mode in this process. Loaded on first use, so the CLI's key commands stay light. */
export async function startLocalFfaas(options?: LocalFfaasOptions): Promise<LocalFfaas> {
  const { startLocalFfaas: start } = await import('./start.ts');
  return start(options);
}
