/**
 * Starts the file ingest state machine (lib/files.ts): a Fargate task of the worker image that
 * fetches a store-file URL or probes bytes that landed. The execution is named by file and
 * step, so a retried start is idempotent. Local mode serves the same call (local/file-ingest.ts).
 */
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { ingestExecutionName, type FileIngestInput } from '../../core/api/files.ts';

export class FileIngestStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(input: FileIngestInput): Promise<void> {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: ingestExecutionName(input),
          input: JSON.stringify(input),
        }),
      );
    } catch (err) {
      if (err instanceof ExecutionAlreadyExists || (err as Error)?.name === 'ExecutionAlreadyExists') return;
      throw err;
    }
  }
}
