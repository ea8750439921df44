/**
 * Per-account concurrency on AWS (docs/CONTROL.md): at most `max` commands of one account hold a
 * running slot. One item per account in the commands table (sort key {@link SLOTS_SORT_KEY})
 * carries `running`, the String Set of the command ids holding a slot.
 *
 * A set rather than a counter, so every write is idempotent: acquiring again (a retried write,
 * a resumed execution) finds the command already in the set, and releasing twice or releasing
 * a command that never held a slot (the sweeper and the cancel handler release whatever
 * execution ended) changes nothing. A counter would drift with each of those.
 *
 * Pure (no AWS imports): the state machine's AcquireSlot / ReleaseSlot* tasks (lib/pipeline.ts)
 * and the store's SlotRepository take their expressions from here, and
 * test/infrastructure/account-slots.test.ts checks the synthesized ASL against it.
 */

/** `command_id` of the account's slots item: never a command id (those are UUIDs), never listed (no index keys). */
export const SLOTS_SORT_KEY = '#slots';

/** Attribute of the slots item: the String Set of command ids running now. */
export const SLOTS_ATTRIBUTE = 'running';

export interface SlotExpressions {
  ConditionExpression: string;
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  /** Placeholders the caller fills: `:holder` the set {command_id}, `:command_id` the id, `:max` (acquire) the cap. */
  values: readonly string[];
}

/**
 * Take a slot: add the command to `running` when fewer than `:max` hold one (or it already
 * holds one). When the condition fails (the account is at its cap) nothing is written and the
 * caller waits and tries again. An empty set is removed by DynamoDB, hence attribute_not_exists.
 */
export const ACQUIRE_SLOT: SlotExpressions = {
  ConditionExpression: 'attribute_not_exists(#running) OR size(#running) < :max OR contains(#running, :command_id)',
  UpdateExpression: 'ADD #running :holder',
  ExpressionAttributeNames: { '#running': SLOTS_ATTRIBUTE },
  values: [':holder', ':command_id', ':max'],
};

/**
 * Give the slot back: remove the command from `running`. Conditional on holding one, so a
 * release never creates the item (and a second release is a harmless failed condition).
 */
export const RELEASE_SLOT: SlotExpressions = {
  ConditionExpression: 'contains(#running, :command_id)',
  UpdateExpression: 'DELETE #running :holder',
  ExpressionAttributeNames: { '#running': SLOTS_ATTRIBUTE },
  values: [':holder', ':command_id'],
};

/**
 * How a command waits for a slot on AWS: the acquire is retried every `waitSeconds` (no
 * backoff: a command that has waited longer must not poll less often than a newcomer) for at
 * most `maxWaitSeconds`, then the command fails with TIMEOUT. Each retry is one state
 * transition (docs/COSTS.md).
 */
export const SLOT_WAIT_DEFAULTS = { waitSeconds: 10, maxWaitSeconds: 6 * 3600 } as const;

/** Retries of the acquire for a wait of at most `maxWaitSeconds` polling every `waitSeconds`. */
export function slotWaitAttempts(waitSeconds: number, maxWaitSeconds: number): number {
  if (!(waitSeconds >= 1) || !(maxWaitSeconds >= waitSeconds))
    throw new Error(`slot wait: need 1 <= waitSeconds (${waitSeconds}) <= maxWaitSeconds (${maxWaitSeconds})`);
  return Math.ceil(maxWaitSeconds / waitSeconds);
}
