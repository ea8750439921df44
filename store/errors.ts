/**
 * SDK error tests. The SDK throws its own exception classes, but a second copy of a client
 * package (bundles, the Step Functions emulator) throws classes `instanceof` does not know:
 * the name decides.
 */
export function isAwsError(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === name;
}

/** A conditional write lost: the item was not in the state the condition asked for. */
export const isConditionFailure = (err: unknown): boolean => isAwsError(err, 'ConditionalCheckFailedException');

/** Runs a conditional write; false when its condition failed (the item was elsewhere), else rethrows. */
export async function unlessConditionFails(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
