import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';

/** Execution input path of the ephemeral storage size (ExecutionInput.task_ephemeral_storage_gib). */
export const EPHEMERAL_STORAGE_PATH = '$.task_ephemeral_storage_gib';

/**
 * EcsRunTask on Fargate with the per-command ephemeral storage override
 * (`Overrides.EphemeralStorage.SizeInGiB`), which RunTask accepts but the CDK task does not
 * expose. cpu and memory overrides are the task's own props.
 */
export class SizedFargateRunTask extends tasks.EcsRunTask {
  override _renderTask(topLevelQueryLanguage?: sfn.QueryLanguage): any {
    const rendered = super._renderTask(topLevelQueryLanguage);
    const parameters = rendered.Parameters;
    if (parameters) {
      parameters.Overrides = { ...parameters.Overrides, EphemeralStorage: { 'SizeInGiB.$': EPHEMERAL_STORAGE_PATH } };
    }
    return rendered;
  }
}
