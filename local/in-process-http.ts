/**
 * An AWS SDK request handler that gives each request straight to the request listener of an HTTP
 * server running in this same process: no socket, no HTTP parsing on either side. Local mode
 * serves dynalite and its Step Functions/EventBridge endpoint (aws-endpoint.ts) in the process
 * that also runs the API handlers and the state machine; their calls to those services are what
 * a command costs most there (docs/PERFORMANCE.md), and about 40 % of each call was the loopback
 * HTTP round trip. Everything else stays as on AWS: the SDK serialises and signs the request, the
 * service reads the same headers and JSON body, and errors come back as the same exceptions.
 * Processes of their own (the worker, the CLI) still connect over HTTP.
 *
 * The listener gets a minimal request (a readable stream with `method`, `url` and lower-case
 * `headers`) and response (`statusCode`, `setHeader`/`getHeader`/`removeHeader`, `writeHead`,
 * `write`, `end`), which is what dynalite and aws-endpoint.ts use.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** What the SDK hands a request handler (@smithy/protocol-http HttpRequest), structurally. */
interface SdkRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/** What the SDK takes back (@smithy/protocol-http HttpResponse), structurally. */
interface SdkResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

class ResponseCollector extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  private readonly headers: Record<string, string> = {};
  private readonly chunks: Buffer[] = [];

  constructor(private readonly done: (response: SdkResponse) => void) {
    super();
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  hasHeader(name: string): boolean {
    return name.toLowerCase() in this.headers;
  }

  removeHeader(name: string): void {
    delete this.headers[name.toLowerCase()];
  }

  writeHead(statusCode: number, headers?: Record<string, number | string | readonly string[]>): this {
    this.statusCode = statusCode;
    for (const [name, value] of Object.entries(headers ?? {})) this.setHeader(name, value);
    this.headersSent = true;
    return this;
  }

  write(chunk: string | Uint8Array): boolean {
    this.headersSent = true;
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return true;
  }

  end(chunk?: string | Uint8Array): this {
    if (this.writableEnded) return this;
    if (chunk !== undefined && chunk !== null) this.write(chunk);
    this.writableEnded = true;
    this.done({ statusCode: this.statusCode, headers: { ...this.headers }, body: Buffer.concat(this.chunks) });
    this.emit('finish');
    this.emit('close');
    return this;
  }
}

function requestBody(body: unknown): Readable {
  if (body === undefined || body === null) return Readable.from([]);
  if (typeof body === 'string') return Readable.from([Buffer.from(body)]);
  if (body instanceof Uint8Array) return Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
  if (body instanceof Readable) return body;
  throw new TypeError('in-process request body must be a string, bytes or a readable stream');
}

function requestUrl(request: SdkRequest): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value === null) params.append(name, '');
    else for (const v of Array.isArray(value) ? value : [value]) params.append(name, v);
  }
  const query = params.toString();
  return query ? `${request.path}?${query}` : request.path;
}

/** The SDK request handler (`requestHandler` of a client's config) for `server`'s listener. */
export function inProcessRequestHandler(server: Server) {
  const listener = server.listeners('request')[0] as RequestListener | undefined;
  if (!listener) throw new Error('the server has no request listener to hand requests to');
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    handle(request: SdkRequest, options?: { abortSignal?: AbortSignal }): Promise<{ response: SdkResponse }> {
      return new Promise((resolve, reject) => {
        const signal = options?.abortSignal;
        if (signal?.aborted) {
          reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
          return;
        }
        const onAbort = () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
        signal?.addEventListener('abort', onAbort, { once: true });
        const req = Object.assign(requestBody(request.body), {
          method: request.method,
          url: requestUrl(request),
          headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
        });
        const res = new ResponseCollector((response) => {
          signal?.removeEventListener('abort', onAbort);
          resolve({ response });
        });
        try {
          listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
        } catch (err) {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        }
      });
    },
    updateHttpClientConfig(): void {},
    httpHandlerConfigs(): Record<string, never> {
      return {};
    },
    destroy(): void {},
  };
}

export type InProcessRequestHandler = ReturnType<typeof inProcessRequestHandler>;
