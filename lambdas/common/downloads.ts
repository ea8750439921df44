/**
 * Download URLs for the handlers (core/api/download-url.ts makes and checks the tokens): the
 * signing secret, read once per container, and the public origin the URLs start with.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ENV } from '../../core/constants.ts';
import { downloadPath, outputAttemptOf, type DownloadGrant } from '../../core/api/download-url.ts';
import { storedOutputs } from '../../core/api/poll.ts';
import type { CommandItem, StoredOutput } from '../../core/types.ts';
import { config } from './config.ts';

let secret: Promise<string> | undefined;

/**
 * The HMAC secret of download tokens: FFAAS_URL_SECRET (local mode keeps a random one in its
 * data dir), else the Secrets Manager secret FFAAS_URL_SECRET_ARN (the stack generates it),
 * fetched once per container (Powertools caches it; a rotated secret reaches new containers).
 */
export function urlSecret(): Promise<string> {
  secret ??= (async () => {
    const inline = process.env[ENV.URL_SECRET];
    if (inline && inline.length >= 32) return inline;
    const arn = process.env[ENV.URL_SECRET_ARN];
    if (!arn)
      throw new Error(`configuration: neither ${ENV.URL_SECRET} (32+ characters) nor ${ENV.URL_SECRET_ARN} is set`);
    const value = await getSecret(arn, { maxAge: 24 * 3600 });
    if (typeof value !== 'string' || value.length < 32)
      throw new Error('the download URL secret is missing or too short');
    return value;
  })();
  secret.catch(() => (secret = undefined));
  return secret;
}

export function resetUrlSecret(): void {
  secret = undefined;
}

function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === name && v) return v;
  return undefined;
}

/**
 * The origin download URLs start with: FFAAS_PUBLIC_URL when set (custom domains), else the
 * request's own host, plus the stage on an execute-api host (its URLs carry /{stage}).
 */
export function publicBaseUrl(event: Pick<APIGatewayProxyEvent, 'headers' | 'requestContext'>): string {
  const configured = process.env[ENV.PUBLIC_URL];
  if (configured) return configured.replace(/\/+$/, '');
  const host = header(event, 'host') ?? event.requestContext?.domainName ?? 'localhost';
  const proto =
    header(event, 'x-forwarded-proto') ?? (/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host) ? 'http' : 'https');
  const stage = event.requestContext?.stage;
  const staged = /\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/.test(host) && stage ? `/${stage}` : '';
  return `${proto}://${host}${staged}`;
}

/** Seconds from now a freshly minted download URL stays valid (the signed-URL setting). */
export function downloadExpiry(now: Date = new Date()): number {
  return Math.floor(now.getTime() / 1000) + config().signedUrlSeconds;
}

export interface CommandDownloads {
  /** alias → URL of the stored output (null: not stored or deleted). */
  byAlias: Record<string, string | null>;
  /** URL of any file stored under the command (a playlist's companions too). */
  urlOf: (name: string) => string;
  expiresAt: number;
}

/** Download URLs of a command's outputs, minted now (every poll gets fresh ones). */
export async function commandDownloads(
  item: CommandItem,
  base: string,
  now: Date = new Date(),
): Promise<CommandDownloads> {
  const outputs: Record<string, StoredOutput> = storedOutputs(item);
  // Every stored output of a command comes from its one successful attempt: its folder.
  const firstKey = Object.values(outputs).find((o) => o.s3_key)?.s3_key;
  const attempt = firstKey ? outputAttemptOf(firstKey) : undefined;
  const grant: DownloadGrant = {
    scope: 'c',
    id: item.command_id,
    accountId: item.account_id,
    expiresAt: downloadExpiry(now),
    ...(attempt !== undefined && { attempt }),
  };
  const storedAny = Object.values(outputs).some((o) => o.status === 'STORED' && !o.is_deleted);
  const key = storedAny ? await urlSecret() : '';
  const urlOf = (name: string) => `${base}${downloadPath(key, grant, name)}`;
  const byAlias: Record<string, string | null> = {};
  for (const [alias, out] of Object.entries(outputs)) {
    byAlias[alias] =
      out.status === 'STORED' && !out.is_deleted && out.s3_key
        ? urlOf(out.s3_key.slice(out.s3_key.lastIndexOf('/') + 1))
        : null;
  }
  return { byAlias, urlOf, expiresAt: grant.expiresAt };
}
