import { describe, expect, it } from 'vitest';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { isAwsError, isConditionFailure } from '../../../store/errors.ts';

describe('isAwsError', () => {
  it('knows the SDK class and a foreign copy of it by name', () => {
    const sdk = new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    const foreign = Object.assign(new Error('no'), { name: 'ConditionalCheckFailedException' });
    expect(isConditionFailure(sdk)).toBe(true);
    expect(isConditionFailure(foreign)).toBe(true);
    expect(isAwsError(foreign, 'ResourceInUseException')).toBe(false);
  });

  it('is false for anything else', () => {
    for (const v of [undefined, null, 'ConditionalCheckFailedException', new Error('x'), { name: 42 }]) {
      expect(isConditionFailure(v)).toBe(false);
    }
  });
});
