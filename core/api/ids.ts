import { randomUUID } from 'node:crypto';

/** A command id: a random (v4) UUID. */
export function newCommandId(): string {
  return randomUUID();
}

/** An account id for accounts created without an explicit id. */
export function newAccountId(): string {
  return randomUUID();
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether a path parameter can be a command id (anything else is a 404 without a read). */
export function isCommandId(value: string): boolean {
  return UUID_PATTERN.test(value);
}
