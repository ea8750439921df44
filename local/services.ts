/**
 * The AWS data services of local mode, in this process: dynalite (DynamoDB API, LevelDB on disk)
 * and s3rver (S3 API, files on disk), both on 127.0.0.1 with an OS-picked port so two local
 * instances (or test suites) run side by side. Tables and the bucket are created when missing,
 * so a restart on the same data dir keeps every command, key and file.
 *
 * While running, `$FFAAS_DATA_DIR/endpoints.json` tells other processes (the `ffaas keys` CLI)
 * where the live services are, so they never open the LevelDB store themselves (it allows one
 * opener only).
 */
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { serveInProcess, type RequestHandler } from '../store/clients.ts';
import { createTables } from '../store/tables.ts';
import { inProcessRequestHandler } from './in-process-http.ts';

/** Region and credentials every local client uses. s3rver checks signatures against S3RVER/S3RVER. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalNames {
  tables: {
    commands: string;
    apiKeys: string;
    accounts: string;
    files: string;
    presets: string;
    webhookDeliveries: string;
    idempotency: string;
  };
  bucket: string;
}

/** Resource names in local mode (fixed: the data dir is the namespace). */
export const LOCAL_NAMES: LocalNames = {
  tables: {
    commands: 'ffaas-commands',
    apiKeys: 'ffaas-api-keys',
    accounts: 'ffaas-accounts',
    files: 'ffaas-files',
    presets: 'ffaas-presets',
    webhookDeliveries: 'ffaas-webhook-deliveries',
    idempotency: 'ffaas-idempotency',
  },
  bucket: 'ffaas-local',
};

/**
 * The local bucket's CORS rules: the console uploads with the presigned PUT URLs the API hands
 * out and plays outputs from another port; any origin may, as on loopback the presigned URL
 * itself is the credential.
 */
export const LOCAL_BUCKET_CORS = [
  '<CORSConfiguration><CORSRule>',
  '<AllowedOrigin>*</AllowedOrigin>',
  '<AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedMethod>PUT</AllowedMethod>',
  '<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds>',
  '</CORSRule></CORSConfiguration>',
].join('');

export const ENDPOINTS_FILE = 'endpoints.json';

/** Contents of `$FFAAS_DATA_DIR/endpoints.json`. */
export interface EndpointsFile {
  pid: number;
  started_at: string;
  /** Base URL of the HTTP API, once it listens (null before). */
  url: string | null;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoints: { dynamodb: string; s3: string; sfn?: string; eventbridge?: string };
  tables: LocalNames['tables'];
  bucket: string;
  state_machine_arn?: string;
  event_bus_name?: string;
}

export interface DataServices {
  dataDir: string;
  dynamodbEndpoint: string;
  s3Endpoint: string;
  names: LocalNames;
  dynamodb: DynamoDBClient;
  s3: S3Client;
  /** s3rver's S3 event notifications (ObjectCreated, ObjectRemoved) as it emits them. */
  onS3Event(
    listener: (event: { Records?: { eventName?: string; s3?: { object?: { key?: string } } }[] }) => void,
  ): void;
  stop(): Promise<void>;
}

export function resolveDataDir(dataDir?: string): string {
  return path.resolve(dataDir ?? process.env.FFAAS_DATA_DIR ?? '.ffaas');
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function dynamoClient(endpoint: string, requestHandler?: RequestHandler): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
    maxAttempts: 3,
    ...(requestHandler && { requestHandler }),
  });
}

/**
 * Whether this process's own calls to its dynalite and Step Functions/EventBridge endpoint skip
 * the socket (local/in-process-http.ts). FFAAS_IN_PROCESS_CALLS=0 sends them over loopback HTTP
 * as the worker's are (to compare, or to watch them on the wire).
 */
export function inProcessCalls(): boolean {
  return process.env.FFAAS_IN_PROCESS_CALLS !== '0';
}

export function s3Client(endpoint: string, requestHandler?: RequestHandler): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
    forcePathStyle: true,
    ...(requestHandler && { requestHandler }),
  });
}

/** Starts dynalite and s3rver on the data dir and makes sure the tables and the bucket exist. */
export async function startDataServices(opts: { dataDir: string; names?: LocalNames }): Promise<DataServices> {
  const dataDir = resolveDataDir(opts.dataDir);
  const names = opts.names ?? LOCAL_NAMES;
  await mkdir(path.join(dataDir, 'dynamodb'), { recursive: true });
  await mkdir(path.join(dataDir, 's3'), { recursive: true });

  const dyn = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: path.join(dataDir, 'dynamodb') });
  const dynPort = await listen(dyn);
  const s3rver = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory: path.join(dataDir, 's3'),
    silent: true,
    // The bucket and its CORS rules, made by s3rver itself as it starts: no HeadBucket and
    // PutBucketCors over HTTP, which were the S3 client's first (slowest) requests, on every start.
    configureBuckets: [{ name: names.bucket, configs: [LOCAL_BUCKET_CORS] }],
  });
  let s3Port: number;
  try {
    s3Port = (await s3rver.run()).port;
  } catch (err) {
    await new Promise((r) => dyn.close(() => r(undefined)));
    throw err;
  }
  const dynamodbEndpoint = `http://127.0.0.1:${dynPort}`;
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  // This process's clients (the handlers' too) call dynalite without a socket.
  const dynamodbInProcess = inProcessCalls() ? (inProcessRequestHandler(dyn) as RequestHandler) : undefined;
  const unserve = dynamodbInProcess ? serveInProcess(dynamodbEndpoint, dynamodbInProcess) : () => undefined;
  const dynamodb = dynamoClient(dynamodbEndpoint, dynamodbInProcess);
  const s3 = s3Client(s3Endpoint);

  const stop = async (): Promise<void> => {
    unserve();
    dynamodb.destroy();
    s3.destroy();
    await s3rver.close().catch(() => undefined);
    await new Promise<void>((resolve) => {
      dyn.closeAllConnections?.();
      dyn.close(() => resolve());
    });
  };

  try {
    await ensureTables(dynamodb, names);
  } catch (err) {
    await stop();
    throw err;
  }
  const onS3Event: DataServices['onS3Event'] = (listener) => {
    (s3rver as unknown as { on(e: 'event', l: typeof listener): void }).on('event', listener);
  };
  return { dataDir, dynamodbEndpoint, s3Endpoint, names, dynamodb, s3, onS3Event, stop };
}

/** Creates the tables when missing (the shared definition of their keys and indexes). */
export async function ensureTables(client: DynamoDBClient, names: LocalNames): Promise<void> {
  await createTables(client, names.tables);
}

// ---- endpoints.json ----

export function endpointsFilePath(dataDir: string): string {
  return path.join(resolveDataDir(dataDir), ENDPOINTS_FILE);
}

/** Writes endpoints.json atomically (write + rename), so a reader never sees half a file. */
export async function writeEndpointsFile(dataDir: string, content: EndpointsFile): Promise<void> {
  const file = endpointsFilePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** Removes endpoints.json if it is ours (another live instance may have replaced it). */
export async function removeEndpointsFile(dataDir: string): Promise<void> {
  const file = endpointsFilePath(dataDir);
  try {
    const current = JSON.parse(await readFile(file, 'utf8')) as EndpointsFile;
    if (current.pid !== process.pid) return;
  } catch {
    return;
  }
  await rm(file, { force: true });
}

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The endpoints of the local instance running on this data dir, or null when none runs
 * (no file, unreadable file, or a stale file left by a process that is gone).
 */
export async function readLiveEndpoints(dataDir?: string): Promise<EndpointsFile | null> {
  let content: EndpointsFile;
  try {
    content = JSON.parse(await readFile(endpointsFilePath(resolveDataDir(dataDir)), 'utf8')) as EndpointsFile;
  } catch {
    return null;
  }
  if (!content || typeof content.pid !== 'number' || !isPidAlive(content.pid)) return null;
  return content;
}

// ---- access for other processes (the CLI) ----

/** Local mode's DynamoDB, opened for a process other than the running instance (the CLI). */
export interface LocalDataAccess {
  dataDir: string;
  dynamodb: DynamoDBClient;
  tables: LocalNames['tables'];
  bucket: string;
  /** Where the data is served from, for messages. */
  where: string;
  close(): Promise<void>;
}

/**
 * The data of the local instance on a data dir: through its live dynalite when one runs there
 * (LevelDB allows one opener), else by starting the data services on the data dir for as long as
 * the access is open. Close it when done.
 */
export async function openLocalData(dataDirOption?: string): Promise<LocalDataAccess> {
  const dataDir = resolveDataDir(dataDirOption);
  const live = await readLiveEndpoints(dataDir);
  if (live) {
    const dynamodb = new DynamoDBClient({
      endpoint: live.endpoints.dynamodb,
      region: live.region,
      credentials: live.credentials,
    });
    return {
      dataDir,
      dynamodb,
      tables: live.tables,
      bucket: live.bucket,
      where: `local instance on ${dataDir} (pid ${live.pid})`,
      close: async () => dynamodb.destroy(),
    };
  }
  const services = await startDataServices({ dataDir });
  return {
    dataDir,
    dynamodb: services.dynamodb,
    tables: services.names.tables,
    bucket: services.names.bucket,
    where: `local data dir ${dataDir}`,
    close: () => services.stop(),
  };
}

/** Runs `fn` with the local data open (openLocalData) and closes it after, whatever happens. */
export async function withLocalData<T>(
  dataDir: string | undefined,
  fn: (data: LocalDataAccess) => Promise<T>,
): Promise<T> {
  const data = await openLocalData(dataDir);
  try {
    return await fn(data);
  } finally {
    await data.close();
  }
}
