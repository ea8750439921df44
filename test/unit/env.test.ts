import { describe, expect, it } from 'vitest';
import { envFlag } from '../../core/env.ts';

describe('envFlag', () => {
  it.each(['1', 'true', 'TRUE', ' yes ', 'On'])('%j is on', (v) => expect(envFlag(v)).toBe(true));
  it.each([undefined, '', '0', 'false', 'no', 'off', 'enabled', 'y'])('%j is off', (v) =>
    expect(envFlag(v)).toBe(false),
  );
});
