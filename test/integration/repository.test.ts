/**
 * CommandRepository and ApiKeyRepository against a real DynamoDB API (dynalite in this
 * process, state on disk so conditions are enforced), on tables made by createTables: the
 * same keys and indexes local mode and the CDK stack use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PENDING_MARK, TABLE, API_KEY_PATTERN, pendingShard, statusKey } from '../../core/constants.ts';
import type { CommandItem } from '../../core/types.ts';
import { hashApiKey } from '../../core/api/api-keys.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/index.ts';
import { createTables, type TableNames } from '../../store/tables.ts';
import { CommandExistsError, CommandRepository } from '../../store/command-repository.ts';
import { AmbiguousApiKeyPrefixError, ApiKeyNotFoundError, ApiKeyRepository } from '../../store/api-key-repository.ts';

const names: TableNames = { commands: 'it-commands', apiKeys: 'it-api-keys', accounts: 'it-accounts' };
let db: DynaliteHandle;
let commands: CommandRepository;
let keys: ApiKeyRepository;

function item(accountId: string, n: number, overrides: Partial<CommandItem> = {}): CommandItem {
  return {
    account_id: accountId,
    command_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    status: 'QUEUED',
    command_type: 'FFMPEG_COMMAND',
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    original_request: {
      input_files: {},
      output_files: { out_a: 'a.mp4' },
      ffmpeg_command: '-f lavfi -i testsrc {{out_a}}',
    },
    max_command_run_seconds: 60,
    compute: 'cpu',
    vcpu_count: 2,
    plan: {
      inputs: [],
      outputs: [{ alias: 'out_a', local_name: 'a.mp4' }],
      commands: [['-f', 'lavfi', '-i', 'testsrc', 'a.mp4']],
    },
    pending: PENDING_MARK,
    expire_at: 2_000_000_000,
    ...overrides,
  };
}

/** The item as create stores it: with its index keys. */
const stored = (i: CommandItem): CommandItem => ({
  ...i,
  status_key: statusKey(i.account_id, i.status),
  ...(i.pending !== undefined ? { pending_shard: pendingShard(i.command_id) } : {}),
});

beforeAll(async () => {
  db = await startDynalite();
  await createTables(db.client, names);
  await createTables(db.client, names); // idempotent: local mode calls it on every start
  commands = new CommandRepository(db.doc, names.commands);
  keys = new ApiKeyRepository(db.doc, { apiKeys: names.apiKeys, accounts: names.accounts });
});
afterAll(async () => {
  await db?.stop();
});

describe('createTables', () => {
  it('declares the keys and indexes of TABLE', async () => {
    const t = (await db.client.send(new DescribeTableCommand({ TableName: names.commands }))).Table!;
    expect(t.KeySchema).toEqual([
      { AttributeName: TABLE.commands.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.commands.sortKey, KeyType: 'RANGE' },
    ]);
    const gsis = Object.fromEntries((t.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, g]));
    expect(Object.keys(gsis).sort()).toEqual(
      [TABLE.commands.byCreatedIndex, TABLE.commands.byStatusIndex, TABLE.commands.pendingIndex].sort(),
    );
    expect(gsis[TABLE.commands.byStatusIndex]!.KeySchema).toEqual([
      { AttributeName: TABLE.commands.byStatusPartitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.commands.byStatusSortKey, KeyType: 'RANGE' },
    ]);
    expect(gsis[TABLE.commands.byStatusIndex]!.Projection?.ProjectionType).toBe('KEYS_ONLY');
    expect(gsis[TABLE.commands.pendingIndex]!.KeySchema).toEqual([
      { AttributeName: TABLE.commands.pendingPartitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.commands.pendingSortKey, KeyType: 'RANGE' },
    ]);
    expect(gsis[TABLE.commands.byCreatedIndex]!.Projection?.ProjectionType).toBe('KEYS_ONLY');
  });
});

describe('CommandRepository', () => {
  it('create is a conditional put: a duplicate id is refused and the first item kept', async () => {
    const first = item('acc-dup', 1);
    await commands.create(first);
    await expect(commands.create({ ...first, status: 'FAILED' })).rejects.toBeInstanceOf(CommandExistsError);
    expect(await commands.get('acc-dup', first.command_id)).toEqual(stored(first));
  });

  it('get is scoped by account', async () => {
    const mine = item('acc-a', 2);
    await commands.create(mine);
    expect(await commands.get('acc-a', mine.command_id)).toMatchObject({ command_id: mine.command_id });
    expect(await commands.get('acc-b', mine.command_id)).toBeNull();
    expect(await commands.get('acc-a', 'no-such-id')).toBeNull();
  });

  it('listByAccount: newest first, limit/offset, cursor paging, status filter, other accounts excluded', async () => {
    const account = 'acc-list';
    for (let n = 10; n < 17; n++) await commands.create(item(account, n, n % 2 === 0 ? { status: 'SUCCESS' } : {}));
    await commands.create(item('acc-list-other', 30));
    const ids = (page: { items: CommandItem[] }) => page.items.map((i) => Number(i.command_id.slice(-2)));

    const first = await commands.listByAccount(account, { limit: 3 });
    expect(ids(first)).toEqual([16, 15, 14]);
    expect(first.next).toMatchObject({ account_id: account });

    const second = await commands.listByAccount(account, { limit: 3, cursor: first.next! });
    expect(ids(second)).toEqual([13, 12, 11]);
    const third = await commands.listByAccount(account, { limit: 3, cursor: second.next! });
    expect(ids(third)).toEqual([10]);
    expect(third.next).toBeNull();

    expect(ids(await commands.listByAccount(account, { limit: 2, offset: 2 }))).toEqual([14, 13]);
    const success = await commands.listByAccount(account, { limit: 2, status: 'SUCCESS' });
    expect(ids(success)).toEqual([16, 14]);
    expect(ids(await commands.listByAccount(account, { limit: 10, status: 'SUCCESS', cursor: success.next! }))).toEqual(
      [12, 10],
    );
    expect(ids(await commands.listByAccount(account, { limit: 100 }))).toHaveLength(7);
  });

  it('listPending: items still carrying `pending` older than the bound; removing it leaves the index', async () => {
    const old = item('acc-p', 40, { created_at: '2025-12-31T23:00:00.000Z' });
    const fresh = item('acc-p', 41, { created_at: '2026-06-01T00:00:00.000Z' });
    const started = item('acc-p', 42, { created_at: '2025-12-31T23:00:01.000Z' });
    delete started.pending;
    for (const i of [old, fresh, started]) await commands.create(i);

    const bound = '2026-01-01T00:00:00.000Z';
    const pendingIds = async () =>
      (await commands.listPending(bound)).filter((i) => i.account_id === 'acc-p').map((i) => i.command_id);
    expect(await pendingIds()).toEqual([old.command_id]);
    // The whole item comes back (projection ALL): enough to rebuild the execution input.
    expect((await commands.listPending(bound)).find((i) => i.command_id === old.command_id)).toEqual(stored(old));

    // MarkProcessing's step (the same write as the state machine's): it leaves the index.
    expect(await commands.markProcessing('acc-p', old.command_id, '2026-01-01T00:00:00.000Z')).toBe(true);
    expect(await pendingIds()).toEqual([]);
    const moved = await commands.get('acc-p', old.command_id);
    expect(moved).toMatchObject({ status: 'PROCESSING', status_key: statusKey('acc-p', 'PROCESSING') });
    expect(moved).not.toHaveProperty('pending_shard');
    // The status filter follows the move (by_status index).
    expect(
      (await commands.listByAccount('acc-p', { limit: 10, status: 'PROCESSING' })).items.map((i) => i.command_id),
    ).toEqual([old.command_id]);
  });

  it('clearPending removes the mark only when the item left QUEUED', async () => {
    const queued = item('acc-c', 50);
    const moved = item('acc-c', 51, { status: 'SUCCESS' });
    await commands.create(queued);
    await commands.create(moved);
    expect(await commands.clearPending('acc-c', queued.command_id)).toBe(false);
    expect(await commands.clearPending('acc-c', moved.command_id)).toBe(true);
    expect((await commands.get('acc-c', queued.command_id))!.pending).toBe(PENDING_MARK);
    expect((await commands.get('acc-c', moved.command_id))!.pending).toBeUndefined();
    expect(await commands.clearPending('acc-c', 'missing')).toBe(false);
  });

  it('lifecycle steps move status forward only: each refuses an item outside its from statuses', async () => {
    const c = item('acc-l', 60);
    await commands.create(c);
    const id = c.command_id;
    const failure = {
      finishedAt: '2026-01-01T00:10:00.000Z',
      errorStatus: 'FFMPEG_FAILED' as const,
      errorMessage: 'boom',
    };
    const success = { finishedAt: '2026-01-01T00:10:00.000Z', ffmpegCommandRunSeconds: 1.5, outputFilesJson: '{}' };
    const progress = { percent: 50, out_time_seconds: 1, speed: 1, fps: 25 };

    expect(await commands.writeProgress('acc-l', id, progress)).toBe(false); // QUEUED
    expect(await commands.recordSuccess('acc-l', id, success)).toBe(false); // QUEUED
    expect(await commands.abandonProcessing('acc-l', id, failure)).toBe(false); // QUEUED
    expect(await commands.markProcessing('acc-l', id, '2026-01-01T00:00:05.000Z')).toBe(true);
    let got = (await commands.get('acc-l', id))!;
    expect(got).toMatchObject({ status: 'PROCESSING', started_at: '2026-01-01T00:00:05.000Z' });
    expect(got.pending).toBeUndefined();
    expect(await commands.markProcessing('acc-l', id, 'later')).toBe(false); // no second start

    expect(await commands.writeProgress('acc-l', id, progress)).toBe(true);
    expect((await commands.get('acc-l', id))!.progress).toEqual(progress);
    expect(await commands.recordSuccess('acc-l', id, success)).toBe(true);
    got = (await commands.get('acc-l', id))!;
    expect(got).toMatchObject({ status: 'SUCCESS', finished_at: success.finishedAt, ffmpeg_command_run_seconds: 1.5 });

    // Final: nothing moves it again.
    expect(await commands.recordFailure('acc-l', id, failure)).toBe(false);
    expect(await commands.abandonProcessing('acc-l', id, failure)).toBe(false);
    expect(await commands.writeProgress('acc-l', id, progress)).toBe(false);
    expect((await commands.get('acc-l', id))!.status).toBe('SUCCESS');
    expect(await commands.markProcessing('acc-l', 'missing', 'x')).toBe(false);
  });

  it('recordFailure takes QUEUED or PROCESSING; abandonProcessing only PROCESSING; scanKeysByStatus finds them', async () => {
    const queued = item('acc-f', 70);
    const processing = item('acc-f', 71);
    await commands.create(queued);
    await commands.create(processing);
    await commands.markProcessing('acc-f', processing.command_id, '2026-01-01T00:00:01.000Z');
    expect(await commands.scanKeysByStatus('PROCESSING')).toContainEqual({
      account_id: 'acc-f',
      command_id: processing.command_id,
    });
    expect(await commands.scanKeysByStatus('PROCESSING')).not.toContainEqual({
      account_id: 'acc-f',
      command_id: queued.command_id,
    });
    const failure = {
      finishedAt: '2026-01-01T00:10:00.000Z',
      errorStatus: 'WORKER_LOST' as const,
      errorMessage: 'lost',
    };
    expect(await commands.abandonProcessing('acc-f', queued.command_id, failure)).toBe(false);
    expect(await commands.recordFailure('acc-f', queued.command_id, failure)).toBe(true);
    expect(await commands.abandonProcessing('acc-f', processing.command_id, failure)).toBe(true);
    for (const c of [queued, processing]) {
      const got = (await commands.get('acc-f', c.command_id))!;
      expect(got).toMatchObject({
        status: 'FAILED',
        error_status: 'WORKER_LOST',
        error_message: 'lost',
        finished_at: failure.finishedAt,
      });
      expect(got.pending).toBeUndefined();
    }
  });
});

describe('ApiKeyRepository', () => {
  it('create stores only the hash, prefix, name, account and date; creates the account when new', async () => {
    const created = await keys.create({ name: 'ci' });
    expect(created.key).toMatch(API_KEY_PATTERN);
    expect(created.prefix).toBe(created.key.slice(0, 12));
    expect(created.accountCreated).toBe(true);
    const stored = await keys.findByHash(hashApiKey(created.key));
    expect(stored).toEqual({
      key_hash: hashApiKey(created.key),
      prefix: created.prefix,
      name: 'ci',
      account_id: created.accountId,
      created_at: expect.any(String),
    });
    expect(JSON.stringify(stored)).not.toContain(created.key);
    expect(await keys.getAccount(created.accountId)).toMatchObject({ account_id: created.accountId });

    const second = await keys.create({ name: 'ci-2', accountId: created.accountId });
    expect(second.accountId).toBe(created.accountId);
    expect(second.accountCreated).toBe(false);

    const named = await keys.create({ name: 'named', accountId: 'team-blue' });
    expect(named.accountCreated).toBe(true);
    expect(await keys.getAccount('team-blue')).not.toBeNull();
  });

  it('list returns every key; findByHash misses unknown hashes', async () => {
    const a = await keys.create({ name: 'list-a' });
    const all = await keys.list();
    expect(all.map((k) => k.prefix)).toContain(a.prefix);
    expect(await keys.findByHash(hashApiKey('ffsk_' + '0'.repeat(64)))).toBeNull();
  });

  it('revoke by prefix sets revoked_at once; unknown and ambiguous prefixes are errors', async () => {
    const k = await keys.create({ name: 'to-revoke' });
    const revoked = await keys.revoke(k.prefix);
    expect(revoked.revoked_at).toEqual(expect.any(String));
    const again = await keys.revoke(k.key); // the full key works too, and keeps the first date
    expect(again.revoked_at).toBe(revoked.revoked_at);
    const raw = await db.doc.send(new GetCommand({ TableName: names.apiKeys, Key: { key_hash: hashApiKey(k.key) } }));
    expect(raw.Item?.revoked_at).toBe(revoked.revoked_at);

    await expect(keys.revoke('ffsk_zzzzzzz')).rejects.toBeInstanceOf(ApiKeyNotFoundError);
    await expect(keys.revoke('ffsk_')).rejects.toBeInstanceOf(AmbiguousApiKeyPrefixError);
  });
});
