/**
 * A minimal Step Functions endpoint for the task-token calls (AWS JSON 1.0 protocol:
 * `POST /`, `X-Amz-Target: AWSStepFunctions.<Op>`). It records every call in `calls` and
 * answers `{}`; `failWith(op, name)` makes an operation fail with an AWS error name (e.g.
 * `failWith('SendTaskHeartbeat', 'TaskTimedOut')`). `client` is an SFNClient pointed at it;
 * `endpoint` is what AWS_ENDPOINT_URL_SFN should be for a child process.
 */
import http from 'node:http';
import { SFNClient } from '@aws-sdk/client-sfn';
import { TEST_CREDENTIALS, TEST_REGION } from './aws.ts';
import { closeServer, listenLocal } from './listen.ts';

export interface SfnCall {
  op: string;
  body: Record<string, unknown>;
}

export interface SfnEndpoint {
  endpoint: string;
  client: SFNClient;
  calls: SfnCall[];
  callsOf(op: string): SfnCall[];
  failWith(op: string, errorName: string | null): void;
  stop(): Promise<void>;
}

export async function startSfnEndpoint(): Promise<SfnEndpoint> {
  const calls: SfnCall[] = [];
  const failures = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.replace(/^AWSStepFunctions\./, '');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        /* recorded as {} */
      }
      calls.push({ op, body });
      const failure = failures.get(op);
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      if (failure) {
        res
          .writeHead(400)
          .end(JSON.stringify({ __type: `com.amazonaws.swf.service.v2.model#${failure}`, message: failure }));
      } else res.writeHead(200).end('{}');
    });
  });
  const port = await listenLocal(server);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SFNClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  return {
    endpoint,
    client,
    calls,
    callsOf: (op) => calls.filter((c) => c.op === op),
    failWith: (op, name) => void (name ? failures.set(op, name) : failures.delete(op)),
    async stop() {
      client.destroy();
      await closeServer(server);
    },
  };
}
