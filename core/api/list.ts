/** Paging of GET /commands: the opaque cursor is base64url of the last returned item's keys. */
import { TABLE } from '../constants.ts';
import { ApiError } from './errors.ts';

/** The keys of a row of the by_created index (table keys + index sort key). */
export interface ListCursorKey {
  account_id: string;
  command_id: string;
  created_at: string;
}

export function encodeCursor(key: ListCursorKey): string {
  const ordered = {
    [TABLE.commands.partitionKey]: key.account_id,
    [TABLE.commands.sortKey]: key.command_id,
    [TABLE.commands.byCreatedSortKey]: key.created_at,
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8').toString('base64url');
}

/**
 * The key a cursor stands for. A cursor that does not decode, or names another account, is a
 * 400 (the client must pass back what it was given).
 */
export function decodeCursor(cursor: string, accountId: string): ListCursorKey {
  const bad = () =>
    new ApiError('INVALID_REQUEST', 'invalid cursor', [
      { path: ['cursor'], message: 'not a cursor returned by this API' },
    ]);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!value || typeof value !== 'object') throw bad();
  const v = value as Record<string, unknown>;
  const account = v[TABLE.commands.partitionKey];
  const command = v[TABLE.commands.sortKey];
  const created = v[TABLE.commands.byCreatedSortKey];
  if (typeof account !== 'string' || typeof command !== 'string' || typeof created !== 'string') throw bad();
  if (account !== accountId) throw bad();
  return { account_id: account, command_id: command, created_at: created };
}
