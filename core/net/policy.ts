/**
 * The URL check shared by the submit handler (422 before anything is recorded), the worker's
 * downloads, store-file and webhooks: http(s) only, the host resolved and EVERY address it
 * resolves to checked (core/net/address.ts). The fetcher connects to the addresses checked here
 * and nothing else, so a second DNS answer cannot swap in a private address (rebinding).
 */
import { lookup } from 'node:dns/promises';
import { classifyAddress, parseIp } from './address.ts';

export interface UrlPolicyOptions {
  /** Let loopback/private/link-local/CGNAT through (local mode: FFAAS_ALLOW_PRIVATE_URLS=1). Metadata endpoints stay refused. */
  allowPrivate: boolean;
  /**
   * Name resolution; defaults to the system resolver (getaddrinfo, /etc/hosts included) with
   * every address returned. Tests inject one to play DNS rebinding or to pin a fake name.
   */
  resolve?: (hostname: string) => Promise<string[]>;
  /**
   * Origins (`http://127.0.0.1:41234`) exempt from the address check. For tests and fixtures
   * only: lets a suite talk to its own server on 127.0.0.1 while proving that every other
   * private target (another port, another loopback address, `localhost`) is refused.
   */
  trustedOrigins?: readonly string[];
}

export type UrlCheck =
  | { ok: true; url: URL /** Addresses to connect to, all checked, in resolver order. */; addresses: string[] }
  | { ok: false; reason: string };

/** The host of a URL as safe to print: never the user-info part. */
export function describeHost(url: URL | string): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return u.host || '(no host)';
  } catch {
    return '(invalid URL)';
  }
}

async function systemResolve(hostname: string): Promise<string[]> {
  const answers = await lookup(hostname, { all: true, order: 'verbatim' });
  return answers.map((a) => a.address);
}

/** Resolve and check one URL; on success, the addresses a connection may be pinned to. */
export async function checkUrl(input: string | URL, opts: UrlPolicyOptions): Promise<UrlCheck> {
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : new URL(input.href);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `scheme "${url.protocol.replace(/:$/, '')}" is not allowed (http and https only)` };
  }
  const host = url.hostname;
  if (!host) return { ok: false, reason: 'the URL has no host' };

  // The WHATWG parser has already turned 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 into
  // 127.0.0.1 and [::ffff:127.0.0.1] into [::ffff:7f00:1]; parseIp understands the rest. A
  // literal IP never goes through DNS, so it is checked here rather than in a lookup hook.
  const literal = parseIp(host);
  let addresses: string[];
  if (literal) {
    addresses = [literal.toString()];
  } else {
    try {
      addresses = await (opts.resolve ?? systemResolve)(host.replace(/\.$/, '') || host);
    } catch {
      return { ok: false, reason: `host "${url.host}" could not be resolved` };
    }
    if (addresses.length === 0) return { ok: false, reason: `host "${url.host}" could not be resolved` };
  }

  if (opts.trustedOrigins?.includes(url.origin)) return { ok: true, url, addresses };

  for (const address of addresses) {
    const verdict = classifyAddress(address, { allowPrivate: opts.allowPrivate });
    if (!verdict.ok) {
      const what = literal ? `address ${verdict.address}` : `host "${url.host}" resolves to ${verdict.address}`;
      return { ok: false, reason: `${what} (${verdict.category}), which is not a public address` };
    }
  }
  return { ok: true, url, addresses };
}

/**
 * Whether the service may fetch this URL: http/https, and every address the host resolves to
 * is public (or private, with allowPrivate). The reason names the host, never credentials.
 */
export async function assertPublicUrl(
  url: string,
  opts: UrlPolicyOptions,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const check = await checkUrl(url, opts);
  return check.ok ? { ok: true } : { ok: false, reason: check.reason };
}
