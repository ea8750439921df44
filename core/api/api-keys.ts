/** API keys: `ffsk_` + 64 lowercase hex; stored only as their SHA-256 (hex). */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_KEY_HEADER, API_KEY_PATTERN, API_KEY_PREFIX } from '../constants.ts';

/** How many leading characters of a key are kept to name it (`keys list`, `keys revoke`). */
export const API_KEY_DISPLAY_PREFIX_LENGTH = 12;

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('hex');
}

export function isWellFormedApiKey(key: string): boolean {
  return API_KEY_PATTERN.test(key);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function apiKeyPrefix(key: string): string {
  return key.slice(0, API_KEY_DISPLAY_PREFIX_LENGTH);
}

/** Constant-time comparison of two strings (false at once when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The API key a request carries: `X-API-KEY: <key>`, else `Authorization: Bearer <key>` (the
 * scheme in any case, as RFC 9110 says). `header` returns a header's value by lower-case name.
 */
export function apiKeyFromHeaders(header: (lowerCaseName: string) => string | undefined): string | undefined {
  const direct = header(API_KEY_HEADER)?.trim();
  if (direct) return direct;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header('authorization') ?? '');
  return m ? m[1] : undefined;
}
