/**
 * The worker's DynamoDB client over the wire against a loopback endpoint that throttles: the
 * SDK's retry (with the worker's attempt count) gets the write through; a condition failure is
 * an answer, not retried.
 */
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WORKER_DYNAMODB_MAX_ATTEMPTS, workerDynamoClient } from '../../../fargate-task/src/clients.ts';
import { documentClientFor } from '../../../store/clients.ts';
import { CommandRepository } from '../../../store/command-repository.ts';
import { closeServer, listenLocal } from '../../helpers/index.ts';

let answers: { status: number; type?: string }[] = [];
let requests = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    requests++;
    const next = answers.shift() ?? { status: 200 };
    res.writeHead(next.status, { 'content-type': 'application/x-amz-json-1.0' });
    // A write that goes through answers with the item as written (startAttempt's ALL_NEW).
    res.end(
      JSON.stringify(
        next.type
          ? { __type: `com.amazonaws.dynamodb.v20120810#${next.type}`, message: 'x' }
          : { Attributes: { attempts: { N: '2' } } },
      ),
    );
  });
});
let repo: CommandRepository;
let client: ReturnType<typeof workerDynamoClient>;

beforeAll(async () => {
  const port = await listenLocal(server);
  client = workerDynamoClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  repo = new CommandRepository(documentClientFor(client), 'commands');
});
afterAll(() => closeServer(server));

const throttled = { status: 400, type: 'ProvisionedThroughputExceededException' };

it('a throttled write is retried until it goes through', async () => {
  answers = [throttled, { status: 400, type: 'ThrottlingException' }];
  requests = 0;
  expect(await repo.startAttempt('acct', 'cmd', { taskToken: 'token', at: new Date(0).toISOString() })).toEqual({
    attempts: 2,
  });
  expect(requests).toBe(3);
  // More attempts than the SDK's default 3 (each throttled retry waits longer: not run here).
  expect(await client.config.maxAttempts()).toBe(WORKER_DYNAMODB_MAX_ATTEMPTS);
  expect(WORKER_DYNAMODB_MAX_ATTEMPTS).toBeGreaterThan(3);
}, 30_000);

it('a condition failure is an answer (no item), not retried', async () => {
  answers = [{ status: 400, type: 'ConditionalCheckFailedException' }];
  requests = 0;
  expect(await repo.startAttempt('acct', 'cmd', { taskToken: 'token', at: new Date(0).toISOString() })).toBeUndefined();
  expect(requests).toBe(1);
});
