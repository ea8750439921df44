/**
 * Which IP addresses the service may connect to on a user's behalf (docs/SECURITY-POLICY.md layer 6).
 *
 * Deny by default: an address is public only when ipaddr.js calls it plain `unicast`. Every
 * IPv6 form that embeds an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
 * `::a.b.c.d`, SIIT `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4
 * `2002::/16`) is judged by the IPv4 address inside it, so `[::ffff:7f00:1]` is loopback like
 * `127.0.0.1`. Teredo hides its client address (obfuscated) and is refused outright.
 */
import ipaddr from 'ipaddr.js';

export type AddressVerdict = { ok: true; address: string } | { ok: false; address: string; category: string };

/**
 * Addresses that stay refused even when private addresses are allowed (local development):
 * the cloud metadata and task-credential endpoints are never a legitimate media source.
 */
const ALWAYS_REFUSED = new Set([
  '169.254.169.254', // EC2 instance metadata (IMDS)
  '169.254.170.2', // ECS task metadata and task-role credentials
  '169.254.170.23', // EKS pod identity agent
  'fd00:ec2::254', // IMDS over IPv6 (Nitro)
  'fd00:ec2::23', // EKS pod identity agent over IPv6
]);

/** Categories `allowPrivate` lets through (local mode and tests talk to 127.0.0.1 etc.). */
const PRIVATE_CATEGORIES = new Set(['loopback', 'private', 'uniqueLocal', 'linkLocal', 'carrierGradeNat']);

/** Parse an IP literal in any spelling ipaddr.js knows; null when it is not an IP address. */
export function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Zone ids (fe80::1%eth0) are link-local anyway; keep the address part.
  const noZone = bare.includes('%') ? bare.slice(0, bare.indexOf('%')) : bare;
  if (!ipaddr.isValid(noZone)) return null;
  try {
    return ipaddr.parse(noZone);
  } catch {
    return null;
  }
}

/** The IPv4 address an IPv6 address carries, for the forms that route to it; else null. */
function embeddedIpv4(ip: ipaddr.IPv6): ipaddr.IPv4 | null {
  const p = ip.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const range = ip.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145') return v4(p[6]!, p[7]!);
  if (range === 'rfc6052') {
    // 64:ff9b::/96 carries the IPv4 address in the last 32 bits; 64:ff9b:1::/48 (local-use
    // NAT64) may use other layouts, judged by the last 32 bits too and refused below if odd.
    return v4(p[6]!, p[7]!);
  }
  if (range === '6to4') return v4(p[1]!, p[2]!);
  // IPv4-compatible (deprecated, ::a.b.c.d): the first 96 bits are zero. `::` and `::1` are
  // unspecified/loopback in their own right and handled by range().
  if (p.slice(0, 6).every((x) => x === 0) && range !== 'unspecified' && range !== 'loopback') {
    return v4(p[6]!, p[7]!);
  }
  return null;
}

/**
 * Classify one address. `category` names why a refused address is refused (ipaddr.js's range
 * name, prefixed with the embedding form for IPv6 spellings of IPv4 addresses).
 */
export function classifyAddress(text: string, opts: { allowPrivate: boolean }): AddressVerdict {
  const ip = parseIp(text);
  if (!ip) return { ok: false, address: text, category: 'not an IP address' };
  const normalized = ip.toString();
  if (ALWAYS_REFUSED.has(normalized)) return { ok: false, address: normalized, category: 'cloud metadata' };

  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    const range = v6.range();
    if (range === 'teredo') return { ok: false, address: normalized, category: 'teredo' };
    const inner = embeddedIpv4(v6);
    if (inner) {
      const verdict = classifyAddress(inner.toString(), opts);
      return verdict.ok
        ? { ok: true, address: normalized }
        : {
            ok: false,
            address: normalized,
            category: `${range === 'unicast' ? 'ipv4Compatible' : range}(${verdict.category})`,
          };
    }
  }
  const range = ip.range();
  if (range === 'unicast') return { ok: true, address: normalized };
  if (opts.allowPrivate && PRIVATE_CATEGORIES.has(range)) return { ok: true, address: normalized };
  return { ok: false, address: normalized, category: range };
}

/** True for an address the service may connect to. */
export function isPublicAddress(text: string): boolean {
  return classifyAddress(text, { allowPrivate: false }).ok;
}
