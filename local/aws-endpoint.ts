/**
 * One small HTTP server speaking the AWS JSON protocols of the few Step Functions and
 * EventBridge calls the handlers and the worker make. They reach it through
 * AWS_ENDPOINT_URL_SFN / AWS_ENDPOINT_URL_EVENTBRIDGE, unchanged SDK v3 clients:
 *   POST /  X-Amz-Target: AWSStepFunctions.<Op>  Content-Type: application/x-amz-json-1.0
 *   POST /  X-Amz-Target: AWSEvents.PutEvents    Content-Type: application/x-amz-json-1.1
 * Answers use the request's content type; errors are 400 `{"__type": "...", "message": "..."}`,
 * which the SDK turns into exceptions of that name (e.g. TaskDoesNotExist).
 *
 * Written by hand (no library): the surface is five operations with JSON in and out.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An error answered in the AWS JSON error shape. */
export class AwsApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = type;
  }
}

type Json = Record<string, unknown>;

export interface StepFunctionsApi {
  StartExecution(req: { stateMachineArn?: string; name?: string; input?: string }): Promise<Json> | Json;
  DescribeExecution(req: { executionArn?: string }): Promise<Json> | Json;
  SendTaskSuccess(req: { taskToken?: string; output?: string }): Promise<Json> | Json;
  SendTaskFailure(req: { taskToken?: string; error?: string; cause?: string }): Promise<Json> | Json;
  SendTaskHeartbeat(req: { taskToken?: string }): Promise<Json> | Json;
  StopExecution?(req: { executionArn?: string; error?: string; cause?: string }): Promise<Json> | Json;
}

export interface EventsApi {
  PutEvents(req: { Entries?: Json[] }): Promise<Json> | Json;
}

export interface AwsEndpoint {
  url: string;
  /** The HTTP server (local/in-process-http.ts hands this process's calls to its listener). */
  server: Server;
  close(): Promise<void>;
}

const MAX_BODY = 2 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new AwsApiError('ValidationException', 'request body too large', 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': crypto.randomUUID(),
  });
  res.end(text);
}

export async function startAwsEndpoint(apis: { sfn: StepFunctionsApi; events: EventsApi }): Promise<AwsEndpoint> {
  const server = createServer(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')
      ? 'application/x-amz-json-1.1'
      : 'application/x-amz-json-1.0';
    try {
      if (req.method !== 'POST') throw new AwsApiError('UnknownOperationException', `${req.method} is not supported`);
      const [service, op] = target.split('.', 2);
      let api: Record<string, ((body: Json) => Promise<Json> | Json) | undefined>;
      if (service === 'AWSStepFunctions') api = apis.sfn as unknown as typeof api;
      else if (service === 'AWSEvents') api = apis.events as unknown as typeof api;
      else throw new AwsApiError('UnknownOperationException', `unknown target "${target}"`);
      const fn = op ? api[op] : undefined;
      if (typeof fn !== 'function')
        throw new AwsApiError('UnknownOperationException', `operation ${target} is not supported locally`);
      const raw = await readBody(req);
      let body: Json;
      try {
        body = raw.trim() === '' ? {} : (JSON.parse(raw) as Json);
      } catch {
        throw new AwsApiError('SerializationException', 'body is not JSON');
      }
      const out = await fn.call(api, body);
      send(res, 200, contentType, out ?? {});
    } catch (err) {
      if (err instanceof AwsApiError) {
        send(res, err.statusCode, contentType, { __type: err.type, message: err.message });
      } else {
        console.error(`local aws endpoint: ${target} failed:`, err);
        send(res, 500, contentType, { __type: 'InternalServerError', message: (err as Error).message });
      }
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
