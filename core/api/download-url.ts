/**
 * Download URLs whose path ends in the file name and carry no query string:
 *   /v/{id}/{token}/{name}
 * `id` is a command id (its outputs, segments and frames) or a stored file's id; `token` is
 * `<scope><expiry base36>.<account base64url>.<HMAC-SHA256 base64url>` over scope, id, account
 * and expiry with the service's secret. Every file under the id shares one token, so a
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
}

const TOKEN = /^([cf])([0-9a-z]{1,11})\.([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/;

function mac(secret: string, scope: DownloadScope, id: string, accountId: string, expiresAt: number): string {
  return createHmac('sha256', secret)
    .update(`ffaas-download\n${scope}\n${id}\n${accountId}\n${expiresAt}`)
    .digest('base64url');
}

export function downloadToken(secret: string, grant: DownloadGrant): string {
  const { scope, id, accountId, expiresAt } = grant;
  return `${scope}${expiresAt.toString(36)}.${Buffer.from(accountId, 'utf8').toString('base64url')}.${mac(secret, scope, id, accountId, expiresAt)}`;
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
  const accountId = Buffer.from(m[3]!, 'base64url').toString('utf8');
  const expected = Buffer.from(mac(secret, scope, id, accountId, expiresAt), 'utf8');
  const given = Buffer.from(m[4]!, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'bad-signature' };
  if (!Number.isFinite(expiresAt) || expiresAt < nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, grant: { scope, id, accountId, expiresAt } };
}

/** A file name a download may name: one plain path segment, nothing hidden, no traversal. */
export function isDownloadName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[/\\\u0000-\u001f\u007f]/.test(name) && !name.startsWith('.');
}

/** The bucket key a checked grant and name stand for. */
export function downloadObjectKey(grant: DownloadGrant, name: string): string {
  return grant.scope === 'c'
    ? S3_KEYS.output(grant.accountId, grant.id, name)
    : S3_KEYS.storedFile(grant.accountId, grant.id, name);
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
