/**
 * local/in-process-http.ts: the SDK's requests handed to a server's listener in this process
 * answer exactly as over loopback HTTP (items, errors by name, the document client's
 * marshalling), and no socket is opened. Against dynalite and local mode's own Step Functions /
 * EventBridge endpoint (local/aws-endpoint.ts), each called both ways side by side.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { SFNClient, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsApiError, startAwsEndpoint, type AwsEndpoint } from '../../local/aws-endpoint.ts';
import { inProcessRequestHandler } from '../../local/in-process-http.ts';
import { serveInProcess, transportFor, type RequestHandler } from '../../store/clients.ts';
import { closeServer, listenLocal } from '../helpers/index.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'x', secretAccessKey: 'y' };
const TABLE = 'things';

let dir: string;
let dyn: Server;
let endpoint: string;
let connections = 0;
let overHttp: DynamoDBDocumentClient;
let inProcess: DynamoDBDocumentClient;

const docOf = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ffaas-in-process-'));
  dyn = dynalite({ createTableMs: 0, path: dir });
  endpoint = `http://127.0.0.1:${await listenLocal(dyn)}`;
  dyn.on('connection', () => connections++);
  overHttp = docOf(new DynamoDBClient({ endpoint, region, credentials }));
  const inProcessClient = new DynamoDBClient({
    endpoint,
    region,
    credentials,
    requestHandler: inProcessRequestHandler(dyn) as RequestHandler,
  });
  inProcess = docOf(inProcessClient);
  await inProcess.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await waitUntilTableExists({ client: inProcessClient, maxWaitTime: 10, minDelay: 1 }, { TableName: TABLE });
});

afterAll(async () => {
  await closeServer(dyn);
  await rm(dir, { recursive: true, force: true });
});

describe('DynamoDB (dynalite) in process', () => {
  it('writes, reads, updates and queries as over HTTP, without opening a connection', async () => {
    const before = connections;
    const item = { pk: 'a', sk: '1', n: 3, tags: ['x', 'y'], nested: { ok: true, none: null }, text: 'ü €' };
    await inProcess.send(new PutCommand({ TableName: TABLE, Item: item }));
    await inProcess.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk: 'a', sk: '1' },
        UpdateExpression: 'SET #n = #n + :one',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    const got = await inProcess.send(new GetCommand({ TableName: TABLE, Key: { pk: 'a', sk: '1' } }));
    const q = await inProcess.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': 'a' },
      }),
    );
    expect(connections).toBe(before);
    expect(got.Item).toEqual({ ...item, n: 4 });
    expect(q.Items).toEqual([{ ...item, n: 4 }]);
    // The other way round: what one wrote the other reads the same.
    expect((await overHttp.send(new GetCommand({ TableName: TABLE, Key: { pk: 'a', sk: '1' } }))).Item).toEqual(
      got.Item,
    );
    expect(connections).toBeGreaterThan(before);
  });

  it('fails with the same exceptions as over HTTP (a failed condition, a missing table, a bad request)', async () => {
    await inProcess.send(new PutCommand({ TableName: TABLE, Item: { pk: 'b', sk: '1' } }));
    const attempts = [
      (c: DynamoDBDocumentClient) =>
        c.send(
          new PutCommand({
            TableName: TABLE,
            Item: { pk: 'b', sk: '1' },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      (c: DynamoDBDocumentClient) => c.send(new GetCommand({ TableName: 'missing', Key: { pk: 'b', sk: '1' } })),
      (c: DynamoDBDocumentClient) => c.send(new GetCommand({ TableName: TABLE, Key: { pk: 'b' } })),
    ];
    for (const attempt of attempts) {
      const viaHttp = await attempt(overHttp).catch((e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
      const inProc = await attempt(inProcess).catch((e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
      expect(inProc).toBeInstanceOf(Error);
      expect((inProc as Error).name).toBe((viaHttp as Error).name);
      expect((inProc as Error).message).toBe((viaHttp as Error).message);
      expect((inProc as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode).toBe(
        (viaHttp as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode,
      );
    }
    expect((await attempts[0]!(inProcess).catch((e: Error) => e)) as Error).toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
  });

  it('an aborted call rejects with AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(
      inProcess.send(new GetCommand({ TableName: TABLE, Key: { pk: 'a', sk: '1' } }), { abortSignal: ac.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe("local mode's Step Functions / EventBridge endpoint in process", () => {
  let aws: AwsEndpoint;
  const started: string[] = [];
  const events: unknown[] = [];

  beforeAll(async () => {
    aws = await startAwsEndpoint({
      sfn: {
        StartExecution: (req) => (started.push(req.name!), { executionArn: `arn:exec:${req.name}`, startDate: 1 }),
        DescribeExecution: () => ({}),
        SendTaskSuccess: () => {
          throw new AwsApiError('TaskDoesNotExist', 'no such task');
        },
        SendTaskFailure: () => ({}),
        SendTaskHeartbeat: () => ({}),
      },
      events: { PutEvents: (req) => (events.push(...(req.Entries ?? [])), { FailedEntryCount: 0, Entries: [] }) },
    });
  });
  afterAll(() => aws.close());

  it('answers StartExecution and PutEvents, and a refused SendTaskSuccess is TaskDoesNotExist, as over HTTP', async () => {
    const handler = inProcessRequestHandler(aws.server) as RequestHandler;
    const sfnIn = new SFNClient({ endpoint: aws.url, region, credentials, requestHandler: handler });
    const sfnHttp = new SFNClient({ endpoint: aws.url, region, credentials });
    const out = await sfnIn.send(new StartExecutionCommand({ stateMachineArn: 'arn:sm', name: 'one', input: '{}' }));
    expect(out.executionArn).toBe('arn:exec:one');
    expect(out.startDate).toEqual(new Date(1000));
    expect(started).toEqual(['one']);
    const refused = await sfnIn
      .send(new SendTaskSuccessCommand({ taskToken: 't', output: '{}' }))
      .catch((e: Error) => e);
    const refusedHttp = await sfnHttp
      .send(new SendTaskSuccessCommand({ taskToken: 't', output: '{}' }))
      .catch((e: Error) => e);
    expect(refused).toMatchObject({ name: 'TaskDoesNotExist', message: 'no such task' });
    expect((refused as Error).name).toBe((refusedHttp as Error).name);

    const eb = new EventBridgeClient({ endpoint: aws.url, region, credentials, requestHandler: handler });
    const put = await eb.send(
      new PutEventsCommand({ Entries: [{ Source: 'ffaas', DetailType: 'x', Detail: '{"a":1}', EventBusName: 'b' }] }),
    );
    expect(put.FailedEntryCount).toBe(0);
    expect(events).toEqual([{ Source: 'ffaas', DetailType: 'x', Detail: '{"a":1}', EventBusName: 'b' }]);
  });
});

describe('serveInProcess / transportFor (store/clients.ts)', () => {
  it("gives clients of a served endpoint the handler, by the service's AWS_ENDPOINT_URL_*, until undone", () => {
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    try {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
      expect(transportFor('DYNAMODB')).toEqual({});
      const handler = inProcessRequestHandler(dyn) as RequestHandler;
      const undo = serveInProcess(endpoint, handler);
      expect(transportFor('DYNAMODB')).toEqual({ requestHandler: handler });
      expect(transportFor('SFN')).toEqual({});
      process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:1';
      expect(transportFor('DYNAMODB')).toEqual({});
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
      undo();
      expect(transportFor('DYNAMODB')).toEqual({});
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      else process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    }
  });
});
