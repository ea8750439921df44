/**
 * Download URLs whose path ends in the file name and carry no query string:
 *   /v/{id}/{token}/{name}
 * `id` is a command id (its outputs, segments and frames) or a stored file's id; `token` is
 * `<scope><expiry base36>[-<attempt>].<account base64url>.<HMAC-SHA256 base64url>` over scope,
 * id, account, expiry (and attempt) with the service's secret. `attempt` names the worker
 * attempt whose folder holds a command's outputs (S3_KEYS.output); absent for stored files and
 * for outputs stored before attempts had folders. Every file under the id shares one token, so a
 * manifest's relative segment references (`seg_001.ts`) resolve to working URLs.
 * Pure: the secret and the clock are passed in (docs/DOWNLOADS.md says where they come from).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3_KEYS } from '../constants.ts';

/** The path prefix of download URLs (outside the API base paths, like Rendobar's). */
export const DOWNLOAD_PATH_PREFIX = '/v';

/** What an id names: a command's outputs ('c') or a stored file ('f'). */
export type DownloadScope = 'c' | 'f';

export interface DownloadGrant {
  scope: DownloadScope;
  id: string;
  accountId: string;
  /** Epoch seconds after which the token is refused. */
  expiresAt: number;
  /** Scope 'c': the attempt whose outputs the id's files are (S3_KEYS.output). */
  attempt?: number;
}

const TOKEN = /^([cf])([0-9a-z]{1,11})(?:-([1-9][0-9]{0,3}))?\.([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/;

function mac(
  secret: string,
  scope: DownloadScope,
  id: string,
  accountId: string,
  expiresAt: number,
  attempt: number | undefined,
): string {
  return createHmac('sha256', secret)
    .update(`ffaas-download\n${scope}\n${id}\n${accountId}\n${expiresAt}${attempt === undefined ? '' : `\n${attempt}`}`)
    .digest('base64url');
}

export function downloadToken(secret: string, grant: DownloadGrant): string {
  const { scope, id, accountId, expiresAt, attempt } = grant;
  return `${scope}${expiresAt.toString(36)}${attempt === undefined ? '' : `-${attempt}`}.${Buffer.from(accountId, 'utf8').toString('base64url')}.${mac(secret, scope, id, accountId, expiresAt, attempt)}`;
}

/** The URL path of one file (`name` is a plain file name; it is percent-encoded). */
export function downloadPath(secret: string, grant: DownloadGrant, name: string): string {
  return `${DOWNLOAD_PATH_PREFIX}/${encodeURIComponent(grant.id)}/${downloadToken(secret, grant)}/${encodeURIComponent(name)}`;
}

export type TokenCheck =
  | { ok: true; grant: DownloadGrant }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

/** Whether `token` grants `id` now (epoch seconds); constant-time on the MAC. */
export function checkDownloadToken(secret: string, id: string, token: string, nowSeconds: number): TokenCheck {
  const m = TOKEN.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const scope = m[1] as DownloadScope;
  const expiresAt = Number.parseInt(m[2]!, 36);
  const attempt = m[3] === undefined ? undefined : Number(m[3]);
  const accountId = Buffer.from(m[4]!, 'base64url').toString('utf8');
  const expected = Buffer.from(mac(secret, scope, id, accountId, expiresAt, attempt), 'utf8');
  const given = Buffer.from(m[5]!, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'bad-signature' };
  if (!Number.isFinite(expiresAt) || expiresAt < nowSeconds) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    grant: { scope, id, accountId, expiresAt, ...(attempt !== undefined && { attempt }) },
  };
}

/** A file name a download may name: one plain path segment, nothing hidden, no traversal. */
export function isDownloadName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[/\\\u0000-\u001f\u007f]/.test(name) && !name.startsWith('.');
}

/** The bucket key a checked grant and name stand for. */
export function downloadObjectKey(grant: DownloadGrant, name: string): string {
  return grant.scope === 'c'
    ? S3_KEYS.output(grant.accountId, grant.id, name, grant.attempt)
    : S3_KEYS.storedFile(grant.accountId, grant.id, name);
}

/**
 * The attempt folder of a stored output key (`outputs/<account>/<command>/<attempt>/<name>`),
 * undefined for a key without one (stored before attempts had folders).
 */
export function outputAttemptOf(s3Key: string): number | undefined {
  const m = /^outputs\/[^/]+\/[^/]+\/([1-9][0-9]{0,3})\/[^/]+$/.exec(s3Key);
  return m ? Number(m[1]) : undefined;
}

/** Manifests are served by the route itself so relative references resolve against /v/...; the rest redirects. */
export const MANIFEST_EXTENSIONS = ['.m3u8', '.mpd'] as const;
/** Largest manifest served inline (bigger ones are redirected like media). */
export const MAX_INLINE_MANIFEST_BYTES = 1024 * 1024;

export function isManifestName(name: string): boolean {
  const lower = name.toLowerCase();
  return MANIFEST_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export function manifestContentType(name: string): string {
  return name.toLowerCase().endsWith('.mpd') ? 'application/dash+xml' : 'application/vnd.apple.mpegurl';
}
