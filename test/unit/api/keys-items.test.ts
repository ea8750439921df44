import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { API_KEY_PATTERN, PENDING_MARK, TASK_TIMEOUT_ALLOWANCE_SECONDS } from '../../../core/constants.ts';
import {
  apiKeyPrefix,
  buildCommandItem,
  buildExecutionInput,
  decodeCursor,
  encodeCursor,
  generateApiKey,
  hashApiKey,
  isCommandId,
  newCommandId,
  safeEqual,
  ApiError,
} from '../../../core/api/index.ts';

describe('API keys', () => {
  it('ffsk_ + 64 lowercase hex, unique', () => {
    const keys = new Set(Array.from({ length: 50 }, generateApiKey));
    expect(keys.size).toBe(50);
    for (const k of keys) expect(k).toMatch(API_KEY_PATTERN);
  });
  it('hash is the sha256 hex of the key; prefix is its first 12 characters', () => {
    const k = generateApiKey();
    expect(hashApiKey(k)).toBe(createHash('sha256').update(k).digest('hex'));
    expect(hashApiKey(k)).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKeyPrefix(k)).toBe(k.slice(0, 12));
    expect(apiKeyPrefix(k).startsWith('ffsk_')).toBe(true);
  });
  it('safeEqual', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('ids', () => {
  it('uuid v4', () => {
    const id = newCommandId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isCommandId(id)).toBe(true);
    expect(isCommandId('../x')).toBe(false);
  });
});

describe('buildCommandItem / buildExecutionInput', () => {
  const plan = {
    inputs: [{ alias: 'in_a', url: 'https://e.com/a.mp4', local_name: 'in_a.mp4' }],
    outputs: [{ alias: 'out_a', local_name: 'a.webm' }],
    commands: [['-i', 'in_a.mp4', 'a.webm']],
  };
  const now = new Date('2026-01-01T00:00:00.000Z');

  it('QUEUED, pending, defaults, TTL', () => {
    const item = buildCommandItem({
      accountId: 'acc',
      commandId: 'id1',
      commandType: 'FFMPEG_COMMAND',
      request: {
        input_files: { in_a: 'https://e.com/a.mp4' },
        output_files: { out_a: 'a.webm' },
        ffmpeg_command: '-i {{in_a}} {{out_a}}',
      },
      parsed: { plan, compute: 'cpu' },
      now,
    });
    expect(item).toEqual({
      account_id: 'acc',
      command_id: 'id1',
      status: 'QUEUED',
      command_type: 'FFMPEG_COMMAND',
      created_at: '2026-01-01T00:00:00.000Z',
      original_request: {
        input_files: { in_a: 'https://e.com/a.mp4' },
        output_files: { out_a: 'a.webm' },
        ffmpeg_command: '-i {{in_a}} {{out_a}}',
      },
      max_command_run_seconds: 900,
      compute: 'cpu',
      vcpu_count: 2,
      plan,
      pending: PENDING_MARK,
      expire_at: now.getTime() / 1000 + 30 * 86400,
    });
  });

  it('keeps metadata, webhook, chained commands, vcpu and timeout', () => {
    const item = buildCommandItem({
      accountId: 'acc',
      commandId: 'id2',
      commandType: 'CHAINED_COMMAND',
      request: {
        input_files: {},
        output_files: { out_a: 'a.webm' },
        ffmpeg_commands: ['a', 'b'],
        metadata: { x: 1 },
        webhook_url: 'https://h.example.com',
        max_command_run_seconds: 60,
        vcpu_count: 8,
      },
      parsed: { plan, compute: 'gpu' },
      now,
    });
    expect(item.original_request).toEqual({
      input_files: {},
      output_files: { out_a: 'a.webm' },
      ffmpeg_commands: ['a', 'b'],
    });
    expect(item).toMatchObject({
      metadata: { x: 1 },
      webhook_url: 'https://h.example.com',
      vcpu_count: 8,
      max_command_run_seconds: 60,
    });
    expect(buildExecutionInput(item)).toEqual({
      account_id: 'acc',
      command_id: 'id2',
      compute: 'gpu',
      task_cpu: '8192',
      task_memory: '16384',
      // No inputs, one output: 5 GiB + 1 GiB headroom, under Fargate's 21 GiB minimum.
      task_ephemeral_storage_gib: 21,
      // No input to make room for: all but the 1 GiB headroom.
      task_workspace_max_bytes: String(20 * 1024 ** 3),
      task_timeout_seconds: 60 + TASK_TIMEOUT_ALLOWANCE_SECONDS,
    });
  });
});

describe('list cursor', () => {
  it('round-trips and is bound to the account', () => {
    const key = { account_id: 'acc', command_id: 'c1', created_at: '2026-01-01T00:00:00.000Z' };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'acc')).toEqual(key);
    expect(() => decodeCursor(cursor, 'other')).toThrow(ApiError);
    expect(() => decodeCursor('garbage!!', 'acc')).toThrow(ApiError);
    expect(() => decodeCursor(Buffer.from('[1]').toString('base64url'), 'acc')).toThrow(ApiError);
  });
});
