/** Starts the state machine execution of a command, named by its command_id (idempotent). */
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { isAwsError } from '../../store/errors.ts';
import type { ExecutionInput } from '../../core/types.ts';

export interface StartResult {
  /** false when an execution of that name already existed (counted as success). */
  started: boolean;
  executionArn?: string;
}

export class ExecutionStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  /**
   * Start the execution (the client retries transient failures itself). An execution of the
   * same name already existing means an earlier attempt got through: success.
   */
  async start(input: ExecutionInput): Promise<StartResult> {
    try {
      const out = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: input.command_id,
          input: JSON.stringify(input),
        }),
      );
      return { started: true, executionArn: out.executionArn };
    } catch (err) {
      if (isAwsError(err, 'ExecutionAlreadyExists')) return { started: false };
      throw err;
    }
  }
}
