/**
 * Address classification and URL checks for every spelling of the dangerous addresses
 * (docs/SECURITY-POLICY.md layer 6: "test every spelling"). No network: literal IPs never touch DNS and
 * names go through an injected resolver.
 */
import { describe, expect, it } from 'vitest';
import { assertPublicUrl, checkUrl, classifyAddress, isPublicAddress } from '../../../core/net/index.ts';

const refusedAddresses: [string, string][] = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.1', 'private'],
  ['172.16.5.4', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'cloud metadata'],
  ['169.254.170.2', 'cloud metadata'],
  ['169.254.1.1', 'linkLocal'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['100.127.255.254', 'carrierGradeNat'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['255.255.255.255', 'broadcast'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['192.0.2.10', 'reserved'],
  ['198.18.0.1', 'reserved'],
  ['240.0.0.1', 'reserved'],
  ['::1', 'loopback'],
  ['::', 'unspecified'],
  ['fe80::1', 'linkLocal'],
  ['fe80::1%eth0', 'linkLocal'],
  ['fc00::1', 'uniqueLocal'],
  ['fd12:3456::1', 'uniqueLocal'],
  ['fd00:ec2::254', 'cloud metadata'],
  ['ff02::1', 'multicast'],
  ['::ffff:127.0.0.1', 'ipv4Mapped(loopback)'],
  ['::ffff:7f00:1', 'ipv4Mapped(loopback)'],
  ['::ffff:169.254.169.254', 'ipv4Mapped(cloud metadata)'],
  ['::ffff:a9fe:a9fe', 'ipv4Mapped(cloud metadata)'],
  ['::ffff:10.0.0.1', 'ipv4Mapped(private)'],
  ['0:0:0:0:0:ffff:7f00:1', 'ipv4Mapped(loopback)'],
  // ipaddr.js reads the dotted IPv4-compatible spelling as IPv4-mapped; refused either way.
  ['::127.0.0.1', 'ipv4Mapped(loopback)'],
  ['::7f00:1', 'ipv4Compatible(loopback)'],
  ['::a9fe:a9fe', 'ipv4Compatible(cloud metadata)'],
  ['::ffff:0:7f00:1', 'rfc6145(loopback)'],
  ['64:ff9b::7f00:1', 'rfc6052(loopback)'],
  ['64:ff9b::169.254.169.254', 'rfc6052(cloud metadata)'],
  ['64:ff9b::10.1.2.3', 'rfc6052(private)'],
  ['2002:7f00:1::', '6to4(loopback)'],
  ['2002:a9fe:a9fe::1', '6to4(cloud metadata)'],
  ['2002:c0a8:101::1', '6to4(private)'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ['2001:db8::1', 'reserved'],
  ['100::1', 'discard'],
];

const publicAddresses = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700:4700::1111',
  '2a00:1450:4001:81c::200e',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
];

describe('classifyAddress', () => {
  it.each(refusedAddresses)('refuses %s (%s)', (address, category) => {
    const v = classifyAddress(address, { allowPrivate: false });
    expect(v.ok).toBe(false);
    expect(v.ok ? '' : v.category).toBe(category);
  });

  it.each(publicAddresses)('allows public %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('allowPrivate lets loopback/private/ULA/CGNAT/link-local through, never metadata or multicast', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.0.1',
      '::1',
      'fd12::1',
      '100.64.1.1',
      '169.254.10.10',
      '::ffff:127.0.0.1',
    ]) {
      expect(classifyAddress(a, { allowPrivate: true }).ok, a).toBe(true);
    }
    for (const a of [
      '169.254.169.254',
      '169.254.170.2',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
      '64:ff9b::a9fe:a9fe',
      '224.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
    ]) {
      expect(classifyAddress(a, { allowPrivate: true }).ok, a).toBe(false);
    }
  });

  it('refuses things that are not addresses', () => {
    expect(classifyAddress('example.com', { allowPrivate: true }).ok).toBe(false);
    expect(classifyAddress('', { allowPrivate: true }).ok).toBe(false);
  });
});

/** URL spellings of private targets, each with the address the WHATWG parser turns it into. */
const refusedUrls: [string, RegExp][] = [
  ['http://127.0.0.1/', /127\.0\.0\.1 \(loopback\)/],
  ['http://2130706433/', /127\.0\.0\.1 \(loopback\)/], // decimal
  ['http://0177.0.0.1/', /127\.0\.0\.1 \(loopback\)/], // octal
  ['http://0x7f.1/', /127\.0\.0\.1 \(loopback\)/], // hex, short
  ['http://0x7f000001/', /127\.0\.0\.1 \(loopback\)/], // hex, whole
  ['http://017700000001/', /127\.0\.0\.1 \(loopback\)/], // octal, whole
  ['http://127.1/', /127\.0\.0\.1 \(loopback\)/], // short
  ['http://127.0.1/', /127\.0\.0\.1 \(loopback\)/],
  ['http://0/', /0\.0\.0\.0 \(unspecified\)/],
  ['http://[::1]/', /::1 \(loopback\)/],
  ['http://[::]/', /:: \(unspecified\)/],
  ['http://[::ffff:127.0.0.1]/', /::ffff:7f00:1 \(ipv4Mapped\(loopback\)\)/],
  ['http://[::ffff:7f00:1]/', /ipv4Mapped\(loopback\)/],
  ['http://[0:0:0:0:0:ffff:127.0.0.1]/', /ipv4Mapped\(loopback\)/],
  ['http://[::127.0.0.1]/', /ipv4Compatible\(loopback\)/],
  ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
  ['http://2852039166/', /169\.254\.169\.254 \(cloud metadata\)/], // decimal IMDS
  ['http://0xa9.0xfe.0xa9.0xfe/', /cloud metadata/],
  ['http://0251.0376.0251.0376/', /cloud metadata/],
  ['http://169.254.170.2/v2/credentials/x', /cloud metadata/],
  ['http://[fd00:ec2::254]/', /cloud metadata/],
  ['http://[::ffff:a9fe:a9fe]/', /cloud metadata/],
  ['http://[64:ff9b::a9fe:a9fe]/', /cloud metadata/],
  ['http://[2002:a9fe:a9fe::]/', /cloud metadata/],
  ['http://10.0.0.1:8080/', /private/],
  ['https://192.168.0.1/', /private/],
  ['http://100.64.0.1/', /carrierGradeNat/],
  ['http://[fe80::1]/', /linkLocal/],
  ['http://user:secret@127.0.0.1/', /loopback/],
];

describe('assertPublicUrl: literal spellings (no DNS)', () => {
  const noDns = async (): Promise<string[]> => {
    throw new Error('DNS must not be used for a literal IP');
  };

  it.each(refusedUrls)('refuses %s', async (url, reason) => {
    const r = await assertPublicUrl(url, { allowPrivate: false, resolve: noDns });
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(reason);
    expect(r.ok ? '' : r.reason).not.toContain('secret');
  });

  it('allows public literals', async () => {
    for (const url of ['http://8.8.8.8/', 'https://[2606:4700:4700::1111]/x.mp4', 'http://134744072/']) {
      expect(await assertPublicUrl(url, { allowPrivate: false, resolve: noDns }), url).toEqual({ ok: true });
    }
  });

  it('refuses schemes other than http and https', async () => {
    for (const url of [
      'file:///etc/passwd',
      'ftp://example.com/a',
      'gopher://example.com/',
      'data:text/plain,hi',
      'javascript:alert(1)',
      'ws://example.com/',
    ]) {
      const r = await assertPublicUrl(url, { allowPrivate: false });
      expect(r.ok, url).toBe(false);
      expect(r.ok ? '' : r.reason).toMatch(/not allowed|no host|not a valid/);
    }
  });

  it('refuses garbage', async () => {
    expect(await assertPublicUrl('not a url', { allowPrivate: false })).toEqual({
      ok: false,
      reason: 'not a valid URL',
    });
    expect((await assertPublicUrl('http://[::1/', { allowPrivate: false })).ok).toBe(false);
  });
});

describe('assertPublicUrl: names (injected resolver)', () => {
  const resolver = (table: Record<string, string[]>) => async (host: string) => {
    const hit = table[host];
    if (!hit) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    return hit;
  };

  it('refuses a name that resolves to a private address (DNS rebinding setup)', async () => {
    const r = await assertPublicUrl('https://media.attacker.example/a.mp4', {
      allowPrivate: false,
      resolve: resolver({ 'media.attacker.example': ['10.0.0.5'] }),
    });
    expect(r).toEqual({
      ok: false,
      reason: expect.stringMatching(/media\.attacker\.example.*10\.0\.0\.5 \(private\)/),
    });
  });

  it('checks EVERY resolved address, not just the first', async () => {
    const r = await assertPublicUrl('http://mixed.example/', {
      allowPrivate: false,
      resolve: resolver({ 'mixed.example': ['93.184.216.34', '169.254.169.254'] }),
    });
    expect(r.ok).toBe(false);
  });

  it('refuses an IPv6 answer that maps to loopback', async () => {
    const r = await assertPublicUrl('http://v6.example/', {
      allowPrivate: false,
      resolve: resolver({ 'v6.example': ['::ffff:127.0.0.1'] }),
    });
    expect(r.ok).toBe(false);
  });

  it('allows a name whose every address is public, and names unresolvable hosts', async () => {
    expect(
      await assertPublicUrl('http://ok.example/a', {
        allowPrivate: false,
        resolve: resolver({ 'ok.example': ['93.184.216.34', '2606:2800:220:1::1'] }),
      }),
    ).toEqual({ ok: true });
    const r = await assertPublicUrl('http://nowhere.example/', { allowPrivate: false, resolve: resolver({}) });
    expect(r).toEqual({ ok: false, reason: 'host "nowhere.example" could not be resolved' });
  });

  it('resolves localhost with the system resolver and refuses it', async () => {
    const r = await assertPublicUrl('http://localhost:9/', { allowPrivate: false });
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(/localhost.*loopback/);
  });

  it('checkUrl returns the checked addresses to pin the connection to', async () => {
    const r = await checkUrl('http://ok.example/a', {
      allowPrivate: false,
      resolve: resolver({ 'ok.example': ['93.184.216.34'] }),
    });
    expect(r).toMatchObject({ ok: true, addresses: ['93.184.216.34'] });
  });

  it('trustedOrigins exempts exactly one origin (scheme, host and port)', async () => {
    const opts = { allowPrivate: false, trustedOrigins: ['http://127.0.0.1:4567'] };
    expect(await assertPublicUrl('http://127.0.0.1:4567/x', opts)).toEqual({ ok: true });
    expect((await assertPublicUrl('http://127.0.0.1:4568/x', opts)).ok).toBe(false);
    expect((await assertPublicUrl('https://127.0.0.1:4567/x', opts)).ok).toBe(false);
    expect((await assertPublicUrl('http://127.0.0.2:4567/x', opts)).ok).toBe(false);
    expect((await assertPublicUrl('http://localhost:4567/x', opts)).ok).toBe(false);
  });
});
