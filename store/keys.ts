/**
 * The primary key of each table, built in one place. Generic in the value so the state
 * machine (lib/pipeline.ts) builds its DynamoDB task keys with the same helper from JSONPath
 * values. A new table adds its key function here.
 */
import { TABLE } from '../core/constants.ts';

/** The command item: account_id + command_id. */
export function commandKey<V = string>(accountId: V, commandId: V): Record<string, V> {
  return { [TABLE.commands.partitionKey]: accountId, [TABLE.commands.sortKey]: commandId };
}

/** An API key item: the SHA-256 of the key. */
export function apiKeyKey<V = string>(keyHash: V): Record<string, V> {
  return { [TABLE.apiKeys.partitionKey]: keyHash };
}

/** An account item. */
export function accountKey<V = string>(accountId: V): Record<string, V> {
  return { [TABLE.accounts.partitionKey]: accountId };
}

/** A stored file: account_id + file_id. */
export function fileKey<V = string>(accountId: V, fileId: V): Record<string, V> {
  return { [TABLE.files.partitionKey]: accountId, [TABLE.files.sortKey]: fileId };
}

/** A preset: account_id + preset_id. */
export function presetKey<V = string>(accountId: V, presetId: V): Record<string, V> {
  return { [TABLE.presets.partitionKey]: accountId, [TABLE.presets.sortKey]: presetId };
}

/** A webhook delivery: one per command, account_id + command_id. */
export function deliveryKey<V = string>(accountId: V, commandId: V): Record<string, V> {
  return { [TABLE.webhookDeliveries.partitionKey]: accountId, [TABLE.webhookDeliveries.sortKey]: commandId };
}
