/**
 * The least each part of a one-frame command costs on this machine, each part measured alone
 * with nothing else of the service around it, and what those parts leave of issue 15's budget
 * (200 one-frame commands, two at a time, within 1.5× bare FFmpeg: docs/PERFORMANCE.md).
 *
 *   npm run bench:floors          FLOOR_CALLS (default 600 calls per part), FLOOR_RUNS (40)
 *
 * Parts, each in CPU time (utime + stime of the processes involved, or the whole machine's busy
 * time from /proc/stat for process starts, whose namespaces are set up and torn down in the
 * kernel):
 * - a one-frame FFmpeg run, bare, started from Node as the worker starts it;
 * - the worker's sandbox (fargate-task/src/sandbox.ts: nice, prlimit, bwrap with every
 *   namespace) around `true`, beside `true` alone;
 * - an HTTP request and its answer between two Node processes, keep-alive, handlers that do
 *   nothing (what a call from the worker or a client costs before any work is done);
 * - a DynamoDB GetItem / UpdateItem on local mode's dynalite, by the AWS SDK in the same process
 *   (local/in-process-http.ts) and over a socket, and the SDK alone against a canned answer;
 * - a small PutObject to s3rver over a socket, and the SDK alone against a canned answer.
 * The floor of a command is those unit costs times how often a one-frame command needs each
 * (docs/PERFORMANCE.md, "One small command, call by call"); the floor of a submit, its HTTP
 * exchange and its three calls.
 */
import { fork, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { TABLE } from '../core/constants.ts';
import { resolveExecutable } from '../fargate-task/src/config.ts';
import { sandboxedSpawn } from '../fargate-task/src/sandbox.ts';
import { dynamoClient, LOCAL_NAMES, s3Client, startDataServices } from '../local/services.ts';
import type { RequestHandler } from '../store/clients.ts';
import { busyCpuSeconds, load, logger, makeSmallInput } from './common.ts';

const CALLS = Number(process.env.FLOOR_CALLS ?? 600);
const RUNS = Number(process.env.FLOOR_RUNS ?? 40);
const log = logger('floors');
const here = import.meta.filename;

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/** This process's CPU ms per call of `fn`, after a warm-up of a tenth as many calls. */
async function perCall(fn: (i: number) => Promise<unknown>, calls = CALLS): Promise<number> {
  for (let i = 0; i < Math.ceil(calls / 10); i++) await fn(i);
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await fn(i);
  return cpuMs(process.cpuUsage(c0)) / calls;
}

/** Machine CPU ms per run of `start` (one process at a time, each awaited). */
async function perRun(start: () => Promise<void>, runs = RUNS): Promise<number> {
  for (let i = 0; i < 3; i++) await start();
  const m0 = await busyCpuSeconds();
  for (let i = 0; i < runs; i++) await start();
  return (((await busyCpuSeconds()) - m0) * 1000) / runs;
}

function exitOf(file: string, args: string[], options: Parameters<typeof spawn>[2]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, options);
    child.stdout?.resume();
    child.stderr?.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited ${code}`))));
  });
}

/** The server half of the HTTP part: answers every request with a small JSON body. */
function httpServerChild(): void {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('message', (m) => {
    if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
  });
}

/** Client and server CPU ms per request between two Node processes. */
async function httpRoundTrip(): Promise<{ client: number; server: number }> {
  const child = fork(here, ['http-server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = await new Promise<{ port: number }>((r) => child.once('message', r as never));
    const serverCpu = () =>
      new Promise<NodeJS.CpuUsage>((r) => {
        child.once('message', (m: { cpu: NodeJS.CpuUsage }) => r(m.cpu));
        child.send('cpu');
      });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const body = JSON.stringify({ TableName: 'ffaas-commands', Key: { account_id: { S: 'a' } } });
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            agent,
            method: 'POST',
            path: '/',
            headers: { 'content-type': 'application/json' },
          },
          (res) => res.resume().on('end', resolve),
        );
        req.on('error', reject);
        req.end(body);
      });
    for (let i = 0; i < CALLS / 10; i++) await one();
    const s0 = await serverCpu();
    const client = await perCall(one, CALLS);
    const s1 = await serverCpu();
    agent.destroy();
    return { client, server: (cpuMs(s1) - cpuMs(s0)) / (CALLS + Math.ceil(CALLS / 10)) };
  } finally {
    child.kill();
  }
}

async function main(): Promise<void> {
  const loadBefore = load();
  const work = await mkdtemp(path.join(tmpdir(), 'ffaas-floors-'));
  const rows: { part: string; ms: number; note?: string }[] = [];
  /** Records a part's figure and hands it back, for the floor below. */
  const add = (part: string, ms: number, note?: string): number => {
    rows.push({ part, ms, note });
    log(`${part}: ${ms.toFixed(3)} ms`);
    return ms;
  };
  /** An SDK request handler that answers every request at once with `response`. */
  const canned = (response: { statusCode: number; headers: Record<string, string>; body: Uint8Array }) =>
    ({ handle: async () => ({ response }) }) as unknown as RequestHandler;
  let bare = 0;
  let sandbox = 0;
  let rt = 0;
  let inProcRead = 0;
  let inProcWrite = 0;
  let sock = 0;
  let put = 0;
  const services = await startDataServices({ dataDir: path.join(work, 'data') });
  try {
    // FFmpeg, bare and sandboxed, started from this Node process as the worker starts it.
    const ws = path.join(work, 'ws');
    await mkdir(ws);
    await makeSmallInput(ws);
    const ffmpegPath = resolveExecutable('ffmpeg', process.env.PATH)!;
    const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', 'in240.mp4', '-frames:v', '1', 'f.jpg'];
    bare = add(
      'one-frame FFmpeg, bare (machine CPU)',
      await perRun(() => exitOf(ffmpegPath, args, { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'] })),
    );
    // The sandbox's own cost: the worker's wrapper chain around `true` beside `true` alone (a
    // difference of two small figures, so more runs than for FFmpeg).
    const bwrapPath = resolveExecutable('bwrap', process.env.PATH);
    const prlimitPath = resolveExecutable('prlimit', process.env.PATH);
    const nicePath = resolveExecutable('nice', process.env.PATH);
    const truePath = resolveExecutable('true', process.env.PATH)!;
    if (bwrapPath && prlimitPath && nicePath) {
      const spec = sandboxedSpawn(truePath, [], {
        cwd: ws,
        isolation: {
          bwrapPath,
          prlimitPath,
          limits: { addressSpaceBytes: 8 * 1024 ** 3, fileSizeBytes: 1024 ** 3 },
          nice: { path: nicePath, niceness: 10 },
        },
      });
      const plain = await perRun(() => exitOf(truePath, [], { cwd: ws, stdio: 'ignore' }), RUNS * 5);
      const wrapped = await perRun(() => exitOf(spec.file, spec.args, spec.options), RUNS * 5);
      add('`true` started from Node (machine CPU)', plain);
      add('`true` in the sandbox (machine CPU)', wrapped);
      sandbox = add('  the sandbox per run', wrapped - plain, 'nice + prlimit + bwrap: namespaces, mounts, execs');
    } else log('no bwrap/prlimit/nice here: the sandbox part is left out');

    // HTTP between two processes.
    const exchange = await httpRoundTrip();
    rt = add(
      'HTTP request + answer between two Node processes',
      exchange.client + exchange.server,
      `client ${exchange.client.toFixed(3)} + server ${exchange.server.toFixed(3)}`,
    );

    // DynamoDB calls on local mode's dynalite.
    const table = LOCAL_NAMES.tables.commands;
    const T = TABLE.commands;
    const key = (i: number) => ({ [T.partitionKey]: { S: 'floors' }, [T.sortKey]: { S: `c${i % 50}` } });
    const update = (i: number) =>
      new UpdateItemCommand({
        TableName: table,
        Key: key(i),
        UpdateExpression: 'SET #p = :p, #s = :s',
        ExpressionAttributeNames: { '#p': 'progress_json', '#s': 'status' },
        ExpressionAttributeValues: {
          ':p': { S: JSON.stringify({ frame: i, fps: 25, time: '00:00:01.00' }) },
          ':s': { S: 'PROCESSING' },
        },
      });
    const get = (i: number) => new GetItemCommand({ TableName: table, Key: key(i), ConsistentRead: true });
    const inProcess = services.dynamodb;
    for (let i = 0; i < 50; i++) await inProcess.send(update(i));
    inProcRead = add('GetItem, SDK + dynalite in one process, no socket', await perCall((i) => inProcess.send(get(i))));
    inProcWrite = add(
      'UpdateItem, SDK + dynalite in one process, no socket',
      await perCall((i) => inProcess.send(update(i))),
    );
    const overSocket = dynamoClient(services.dynamodbEndpoint);
    sock = add('GetItem, SDK + dynalite over a socket (both ends)', await perCall((i) => overSocket.send(get(i))));
    overSocket.destroy();
    // The SDK alone: the same GetItem against a handler that answers at once with a canned item.
    const sdkOnly = dynamoClient(
      services.dynamodbEndpoint,
      canned({
        statusCode: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: Buffer.from(JSON.stringify({ Item: key(0) })),
      }),
    );
    add('  the SDK alone (same GetItem, canned answer)', await perCall((i) => sdkOnly.send(get(i))));

    // A small output to s3rver.
    const jpeg = Buffer.alloc(9 * 1024, 7);
    const putJpeg = (i: number) =>
      new PutObjectCommand({ Bucket: LOCAL_NAMES.bucket, Key: `floors/${i % 50}.jpg`, Body: jpeg });
    const s3 = s3Client(services.s3Endpoint);
    put = add(
      'PutObject of 9 KiB, SDK + s3rver over a socket (both ends)',
      await perCall((i) => s3.send(putJpeg(i)), Math.ceil(CALLS / 3)),
    );
    s3.destroy();
    const s3SdkOnly = s3Client(
      services.s3Endpoint,
      canned({ statusCode: 200, headers: { etag: '"0"' }, body: new Uint8Array() }),
    );
    add('  the SDK alone (same PutObject, canned answer)', await perCall((i) => s3SdkOnly.send(putJpeg(i))));
  } finally {
    await services.stop();
    await rm(work, { recursive: true, force: true });
  }

  // How often a one-frame command needs each part (docs/PERFORMANCE.md): the worker's four
  // SDK calls over a socket (heartbeat, two UpdateItems, SendTaskSuccess) and its
  // PutObject; the service's twelve calls in-process (five reads: the key twice, the command,
  // the webhook deliverer's two; seven writes or starts, each costed as an UpdateItem: the
  // PutItem, StartExecution, MarkProcessing, two PutEvents, RecordSuccess, the slot release);
  // two client requests (submit, a poll) and the input's download, each an HTTP exchange
  // between processes; one sandboxed FFmpeg start.
  const floor: [string, number][] = [
    ['sandbox', sandbox],
    ['worker: 4 SDK calls over a socket', 4 * sock],
    ['worker: PutObject', put],
    ['service: 12 SDK calls in-process', 5 * inProcRead + 7 * inProcWrite],
    ['submit, poll, download: 3 HTTP exchanges', 3 * rt],
  ];
  const total = floor.reduce((s, [, v]) => s + v, 0);
  const budget = bare / 2;
  console.log('');
  for (const r of rows) console.log(`${r.ms.toFixed(3).padStart(9)} ms  ${r.part}${r.note ? `  (${r.note})` : ''}`);
  console.log('\nfloor of one one-frame command, parts the design requires, at their least:');
  for (const [name, v] of floor) console.log(`${v.toFixed(1).padStart(7)} ms  ${name}`);
  console.log(`${total.toFixed(1).padStart(7)} ms  in all`);
  console.log(
    `budget for 200 one-frame commands ≤ 1.5× bare: half a bare run's CPU = ${budget.toFixed(1)} ms per command; ` +
      `the floor takes ${((100 * total) / budget).toFixed(0)} %, leaving ${(budget - total).toFixed(1)} ms for everything else`,
  );
  // A submit: its HTTP exchange, the authorizer's GetItem, the PutItem and StartExecution (both
  // costed as an UpdateItem), one after the other, all CPU: its latency on an idle service.
  const submit = rt + inProcRead + 2 * inProcWrite;
  console.log(
    `floor of one submit (HTTP exchange, GetItem, PutItem, StartExecution): ${submit.toFixed(1)} ms of CPU ` +
      `against the 5 ms p50 target, before the handler's own work`,
  );
  console.log(`load average before ${loadBefore}, after ${load()}`);
}

if (process.argv[2] === 'http-server') httpServerChild();
else await main();
