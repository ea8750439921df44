/** Webhook secrets at rest: AES-GCM with the data dir's key (local), KMS with the account as context (AWS, mocked). */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { KmsSecretBox, LocalSecretBox, PlainSecretBox, localKey } from '../../../lambdas/common/secret-box.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ffaas-secrets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('local: AES-256-GCM with a key file in the data dir', () => {
  it('creates a 32-byte key file readable by the owner only, and reuses it', async () => {
    const file = path.join(dir, 'webhook-secrets.key');
    const key = localKey(file);
    expect(key).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(localKey(file).equals(key)).toBe(true);
    expect((await readFile(file)).equals(key)).toBe(true);
  });

  it('round-trips, never stores the plain secret, and is bound to the account', async () => {
    const box = new LocalSecretBox(localKey(path.join(dir, 'k2')));
    const sealed = await box.seal('whsec_abc', 'acc-1');
    expect(sealed).toMatch(/^aes:v1:/);
    expect(sealed).not.toContain('abc');
    expect(await box.seal('whsec_abc', 'acc-1')).not.toBe(sealed); // a fresh IV each time
    expect(await box.open(sealed, 'acc-1')).toBe('whsec_abc');
    await expect(box.open(sealed, 'acc-2')).rejects.toThrow();
    await expect(new LocalSecretBox(localKey(path.join(dir, 'k3'))).open(sealed, 'acc-1')).rejects.toThrow();
  });
});

describe('AWS: KMS', () => {
  const kms = mockClient(KMSClient);

  it('encrypts with the account as encryption context and decrypts the same way', async () => {
    kms.reset();
    kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('CIPHER') });
    kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from('whsec_abc') });
    const box = new KmsSecretBox(new KMSClient({ region: 'us-east-1' }), 'arn:aws:kms:us-east-1:1:key/k');
    const sealed = await box.seal('whsec_abc', 'acc-1');
    expect(sealed).toBe(`kms:v1:${Buffer.from('CIPHER').toString('base64')}`);
    expect(kms).toHaveReceivedCommandWith(EncryptCommand, {
      KeyId: 'arn:aws:kms:us-east-1:1:key/k',
      EncryptionContext: { account_id: 'acc-1' },
    });
    expect(await box.open(sealed, 'acc-1')).toBe('whsec_abc');
    expect(kms).toHaveReceivedCommandWith(DecryptCommand, { EncryptionContext: { account_id: 'acc-1' } });
  });
});

it('without a key, a sealed value is refused rather than used as a secret', async () => {
  await expect(new PlainSecretBox().open('kms:v1:xx', 'a')).rejects.toThrow(/no key/);
  expect(await new PlainSecretBox().open('whsec_x', 'a')).toBe('whsec_x');
});
