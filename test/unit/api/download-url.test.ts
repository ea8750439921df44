/** Download URL tokens: bound to scope, id, account and expiry; names stay plain. */
import { describe, expect, it } from 'vitest';
import {
  checkDownloadToken,
  downloadObjectKey,
  downloadPath,
  downloadToken,
  isDownloadName,
  isManifestName,
  outputAttemptOf,
} from '../../../core/api/download-url.ts';
import { apiKeyFromHeaders } from '../../../core/api/api-keys.ts';
import { isRendiRequest, RendiListQuerySchema } from '../../../core/dialects/rendi.ts';

const SECRET = 's'.repeat(40);
const grant = { scope: 'c' as const, id: 'cmd-1', accountId: 'acct-1', expiresAt: 2_000_000_000 };

describe('download tokens', () => {
  it('a path ends in the file name with no query string, and its token checks out until it expires', () => {
    const p = downloadPath(SECRET, grant, 'master.m3u8');
    expect(p).toMatch(/^\/v\/cmd-1\/[^/?]+\/master\.m3u8$/);
    const token = p.split('/')[3]!;
    expect(checkDownloadToken(SECRET, 'cmd-1', token, grant.expiresAt - 1)).toEqual({ ok: true, grant });
    expect(checkDownloadToken(SECRET, 'cmd-1', token, grant.expiresAt + 1)).toEqual({ ok: false, reason: 'expired' });
    expect(downloadPath(SECRET, grant, 'a b#.mp4').endsWith('/a%20b%23.mp4')).toBe(true);
  });

  it("a command's token names the attempt whose folder holds its outputs; the attempt is signed", () => {
    const g2 = { ...grant, attempt: 2 };
    const token = downloadToken(SECRET, g2);
    expect(checkDownloadToken(SECRET, 'cmd-1', token, 0)).toEqual({ ok: true, grant: g2 });
    expect(downloadObjectKey(g2, 'out.mp4')).toBe('outputs/acct-1/cmd-1/2/out.mp4');
    // Another attempt, or none, does not check out with the same MAC.
    const mac = token.slice(token.lastIndexOf('.'));
    const head = token.slice(0, token.indexOf('.'));
    const rest = token.slice(token.indexOf('.'), token.lastIndexOf('.'));
    expect(checkDownloadToken(SECRET, 'cmd-1', `${head.replace('-2', '-3')}${rest}${mac}`, 0)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(checkDownloadToken(SECRET, 'cmd-1', `${head.replace('-2', '')}${rest}${mac}`, 0)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    // Outputs stored before attempts had folders keep their keys.
    expect(downloadObjectKey(grant, 'out.mp4')).toBe('outputs/acct-1/cmd-1/out.mp4');
    expect(outputAttemptOf('outputs/acct-1/cmd-1/2/out.mp4')).toBe(2);
    expect(outputAttemptOf('outputs/acct-1/cmd-1/out.mp4')).toBeUndefined();
  });

  it('is refused for another id, another secret, a changed account, scope or expiry', () => {
    const token = downloadToken(SECRET, grant);
    expect(checkDownloadToken(SECRET, 'cmd-2', token, 0).ok).toBe(false);
    expect(checkDownloadToken('t'.repeat(40), 'cmd-1', token, 0).ok).toBe(false);
    const [head, , mac] = token.split('.');
    const otherAccount = `${head}.${Buffer.from('acct-2').toString('base64url')}.${mac}`;
    expect(checkDownloadToken(SECRET, 'cmd-1', otherAccount, 0)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(checkDownloadToken(SECRET, 'cmd-1', `f${token.slice(1)}`, 0)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    const later = `c${(grant.expiresAt + 3600).toString(36)}.${token.split('.').slice(1).join('.')}`;
    expect(checkDownloadToken(SECRET, 'cmd-1', later, 0)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(checkDownloadToken(SECRET, 'cmd-1', 'garbage', 0)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('names: one plain segment; keys under the command or the stored file', () => {
    for (const bad of ['', '.hidden', 'a/b', '..', 'a\\b', 'x\u0000']) expect(isDownloadName(bad), bad).toBe(false);
    expect(isDownloadName('seg_001.ts')).toBe(true);
    expect(downloadObjectKey(grant, 'seg_001.ts')).toBe('outputs/acct-1/cmd-1/seg_001.ts');
    expect(downloadObjectKey({ ...grant, scope: 'f' }, 'a.mp4')).toBe('files/acct-1/cmd-1/a.mp4');
    expect([isManifestName('a.M3U8'), isManifestName('a.mpd'), isManifestName('a.ts')]).toEqual([true, true, false]);
  });
});

describe('API keys from headers', () => {
  const headers = (h: Record<string, string>) => (name: string) => h[name];
  it('X-API-KEY first, else Authorization: Bearer in any case', () => {
    expect(apiKeyFromHeaders(headers({ 'x-api-key': ' k1 ' }))).toBe('k1');
    expect(apiKeyFromHeaders(headers({ authorization: 'Bearer k2' }))).toBe('k2');
    expect(apiKeyFromHeaders(headers({ authorization: 'bEaReR   k3  ' }))).toBe('k3');
    expect(apiKeyFromHeaders(headers({ 'x-api-key': 'k1', authorization: 'Bearer k2' }))).toBe('k1');
    expect(apiKeyFromHeaders(headers({ authorization: 'Basic k2' }))).toBeUndefined();
    expect(apiKeyFromHeaders(headers({ authorization: 'Bearer a b' }))).toBeUndefined();
  });
});

describe('Rendi list query', () => {
  it('limit defaults to and is capped at 1000, numeric strings read as numbers', () => {
    expect(RendiListQuerySchema.parse({})).toMatchObject({ limit: 1000, offset: 0 });
    expect(RendiListQuerySchema.parse({ limit: '1000', offset: '5' })).toMatchObject({ limit: 1000, offset: 5 });
    expect(RendiListQuerySchema.safeParse({ limit: '1001' }).success).toBe(false);
    expect(RendiListQuerySchema.safeParse({ limit: 'many' }).success).toBe(false);
    expect([isRendiRequest('/v1/commands'), isRendiRequest('/api/v1/commands'), isRendiRequest(undefined)]).toEqual([
      true,
      false,
      false,
    ]);
  });
});
