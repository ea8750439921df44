/**
 * Webhook secrets at rest. A secret must be readable to sign with, so it cannot be hashed: it
 * is encrypted before it is written to the account item, and decrypted only by the code that
 * signs a delivery.
 * - AWS: KMS Encrypt/Decrypt with the stack's webhook key (FFAAS_WEBHOOK_KMS_KEY_ID); the API
 *   may only encrypt, the delivery function may only decrypt. The account id is the encryption
 *   context: a ciphertext copied onto another account's item does not decrypt.
 * - Local mode: AES-256-GCM with a key kept in the data dir (`webhook-secrets.key`, mode 0600),
 *   the account id as additional authenticated data.
 * Stored as `kms:v1:<base64>` or `aes:v1:<base64 of iv | tag | ciphertext>`. A value without a
 * prefix is taken as plaintext (only where neither key is configured, e.g. handler tests).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';

export interface SecretBox {
  seal(secret: string, accountId: string): Promise<string>;
  open(stored: string, accountId: string): Promise<string>;
}

const KMS_PREFIX = 'kms:v1:';
const AES_PREFIX = 'aes:v1:';

export class KmsSecretBox implements SecretBox {
  constructor(
    private readonly client: KMSClient,
    private readonly keyId: string,
  ) {}

  async seal(secret: string, accountId: string): Promise<string> {
    const out = await this.client.send(
      new EncryptCommand({
        KeyId: this.keyId,
        Plaintext: Buffer.from(secret, 'utf8'),
        EncryptionContext: { account_id: accountId },
      }),
    );
    return KMS_PREFIX + Buffer.from(out.CiphertextBlob!).toString('base64');
  }

  async open(stored: string, accountId: string): Promise<string> {
    if (stored.startsWith(AES_PREFIX)) throw new Error('webhook secret was sealed by local mode');
    if (!stored.startsWith(KMS_PREFIX)) return stored;
    const out = await this.client.send(
      new DecryptCommand({
        KeyId: this.keyId,
        CiphertextBlob: Buffer.from(stored.slice(KMS_PREFIX.length), 'base64'),
        EncryptionContext: { account_id: accountId },
      }),
    );
    return Buffer.from(out.Plaintext!).toString('utf8');
  }
}

/** Reads (or creates, 0600) the 32-byte key file. */
export function localKey(file: string): Buffer {
  try {
    const key = readFileSync(file);
    if (key.length === 32) return key;
    throw new Error(`${file} is not a 32-byte key`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(path.dirname(file), { recursive: true });
    const key = randomBytes(32);
    try {
      writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
      return key;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file);
      throw e;
    }
  }
}

export class LocalSecretBox implements SecretBox {
  constructor(private readonly key: Buffer) {}

  async seal(secret: string, accountId: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(accountId, 'utf8'));
    const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return AES_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64');
  }

  async open(stored: string, accountId: string): Promise<string> {
    if (stored.startsWith(KMS_PREFIX)) throw new Error('webhook secret was sealed with KMS');
    if (!stored.startsWith(AES_PREFIX)) return stored;
    const raw = Buffer.from(stored.slice(AES_PREFIX.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(accountId, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/** No key configured: stored as given (never the case on AWS or in local mode). */
export class PlainSecretBox implements SecretBox {
  async seal(secret: string, _accountId?: string): Promise<string> {
    return secret;
  }
  async open(stored: string, _accountId?: string): Promise<string> {
    if (stored.startsWith(KMS_PREFIX) || stored.startsWith(AES_PREFIX))
      throw new Error('webhook secret is encrypted but no key is configured');
    return stored;
  }
}
