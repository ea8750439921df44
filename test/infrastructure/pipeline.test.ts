import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  ENV,
  ERROR_STATUS,
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  MAX_ATTEMPTS,
  STARTUP_TIMEOUT_SECONDS,
  STATE,
  TABLE,
  WORKER_CONTAINER_NAME,
} from '../../core/constants.ts';
import { definitionOf, resourcesOfType, synth } from './synth.ts';

const { template } = synth({ gpu: true });
const { asl, tokens } = definitionOf(template);
const S = asl.States;

const catchTarget = (state: any, error: string) => state.Catch?.find((c: any) => c.ErrorEquals.includes(error))?.Next;

describe('state machine: shape', () => {
  it('is a Standard machine with exactly the STATE names, starting at UseAccountSlots (account-slots.test.ts)', () => {
    const [, sm] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine')[0];
    expect(sm.Properties.StateMachineType).toBe('STANDARD');
    expect(asl.StartAt).toBe(STATE.UseAccountSlots);
    // RunOnFargateOnDemand exists only with Fargate Spot.
    expect(Object.keys(S).sort()).toEqual(
      Object.values(STATE)
        .filter((s) => s !== STATE.RunOnFargateOnDemand)
        .sort(),
    );
  });

  it('logs errors to CloudWatch Logs', () => {
    const [, sm] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine')[0];
    expect(sm.Properties.LoggingConfiguration.Level).toBe('ERROR');
    expect(sm.Properties.LoggingConfiguration.Destinations).toHaveLength(1);
  });

  it('references only the table, cluster, capacity provider, subnets, security group and bus', () => {
    const kinds = tokens.map((t) => t.replace(/[A-F0-9]{8}(?=[.>])/g, ''));
    expect(kinds).toEqual(
      expect.arrayContaining([
        '<<Ref:AWS::Partition>>',
        '<<Ref:FfaasStorageCommandsTable>>',
        '<<GetAtt:FfaasWorkersCluster.Arn>>',
        '<<GetAtt:FfaasEventsBus.Arn>>',
        '<<Ref:FfaasWorkersGpuCapacityProvider>>',
      ]),
    );
    for (const t of tokens) expect(t).toMatch(/^<<(Ref|GetAtt):/);
  });

  it('MarkProcessing → PublishStarted (FFmpeg Command Started) → ChooseCompute; a failed publish still runs the command', () => {
    expect(S.MarkProcessing.Next).toBe(STATE.PublishStarted);
    expect(S.PublishStarted.Resource).toMatch(/:states:::events:putEvents$/);
    const [entry] = S.PublishStarted.Parameters.Entries;
    expect(entry.Source).toBe('ffaas');
    expect(entry.DetailType).toBe('FFmpeg Command Started');
    expect(entry.Detail).toMatchObject({
      'command_id.$': '$.command_id',
      'account_id.$': '$.account_id',
      status: 'PROCESSING',
      'started_at.$': '$.marked.started_at',
    });
    expect(S.PublishStarted.Next).toBe(STATE.ChooseCompute);
    expect(catchTarget(S.PublishStarted, 'States.ALL')).toBe(STATE.ChooseCompute);
    expect(S.PublishStarted.ResultPath).toBeNull();
  });

  it('ChooseCompute routes gpu to RunOnGpu and everything else to RunOnFargate', () => {
    expect(S.ChooseCompute.Type).toBe('Choice');
    expect(S.ChooseCompute.Choices).toEqual([{ Variable: '$.compute', StringEquals: 'gpu', Next: STATE.RunOnGpu }]);
    expect(S.ChooseCompute.Default).toBe(STATE.RunOnFargate);
  });

  it('without GPU there is no Choice and no RunOnGpu: PublishStarted goes to RunOnFargate', () => {
    const off = definitionOf(synth({ gpu: false }).template).asl;
    expect(off.States[STATE.RunOnGpu]).toBeUndefined();
    expect(off.States[STATE.ChooseCompute]).toBeUndefined();
    expect(off.States[STATE.MarkProcessing].Next).toBe(STATE.PublishStarted);
    expect(off.States[STATE.PublishStarted].Next).toBe(STATE.RunOnFargate);
  });
});

describe('state machine: conditional writes', () => {
  it('MarkProcessing: QUEUED → PROCESSING, started_at from the entered time, pending removed', () => {
    const p = S.MarkProcessing.Parameters;
    expect(S.MarkProcessing.Resource).toMatch(/:states:::dynamodb:updateItem$/);
    expect(p.Key).toEqual({
      [TABLE.commands.partitionKey]: { 'S.$': '$.account_id' },
      [TABLE.commands.sortKey]: { 'S.$': '$.command_id' },
    });
    expect(p.ConditionExpression).toBe('#status = :queued');
    expect(p.ExpressionAttributeNames).toEqual({
      '#status': 'status',
      '#started_at': 'started_at',
      '#status_key': 'status_key',
      '#pending': 'pending',
      '#pending_shard': 'pending_shard',
    });
    // The by_status partition moves with the status.
    expect(p.ExpressionAttributeValues[':status_key']).toEqual({
      'S.$': "States.Format('{}#PROCESSING', $.account_id)",
    });
    expect(p.ExpressionAttributeValues[':queued']).toEqual({ S: 'QUEUED' });
    expect(p.ExpressionAttributeValues[':processing']).toEqual({ S: 'PROCESSING' });
    expect(p.ExpressionAttributeValues[':started_at']).toEqual({ 'S.$': '$$.State.EnteredTime' });
    expect(p.UpdateExpression).toMatch(/SET #status = :processing, #started_at = :started_at/);
    expect(p.UpdateExpression).toMatch(/REMOVE #pending/);
    expect(S.MarkProcessing.ResultPath).toBe('$.marked');
    expect(S.MarkProcessing.ResultSelector).toEqual({ 'started_at.$': '$.Attributes.started_at.S' });
  });

  it('MarkProcessing: ConditionalCheckFailed → ResumeOrFinish, other errors → NameInternalError, throttling retried', () => {
    expect(catchTarget(S.MarkProcessing, 'DynamoDB.ConditionalCheckFailedException')).toBe(STATE.ResumeOrFinish);
    expect(catchTarget(S.MarkProcessing, 'States.ALL')).toBe(STATE.NameInternalError);
    expect(S.MarkProcessing.Retry[0].ErrorEquals).toContain('DynamoDB.ProvisionedThroughputExceededException');
    expect(S.MarkProcessing.Retry[0].ErrorEquals).not.toContain('DynamoDB.ConditionalCheckFailedException');
    expect(S.AlreadyFinished.Type).toBe('Succeed');
  });

  it('ResumeOrFinish: an execution started with `resume` resumes a PROCESSING command (ResumeProcessing); any other ends', () => {
    expect(S.ResumeOrFinish.Type).toBe('Choice');
    expect(S.ResumeOrFinish.Choices).toEqual([
      {
        And: [
          { Variable: '$.resume', IsPresent: true },
          { Variable: '$.resume', BooleanEquals: true },
        ],
        Next: STATE.ResumeProcessing,
      },
    ]);
    // AlreadyFinished after giving back the slot a late execution may hold.
    expect(S.ResumeOrFinish.Default).toBe(STATE.ReleaseSlotAndFinish);
    const p = S.ResumeProcessing.Parameters;
    expect(p.ConditionExpression).toBe('#status = :processing');
    expect(p.UpdateExpression).toBe('SET #resumed_at = :resumed_at REMOVE #pending, #pending_shard');
    expect(catchTarget(S.ResumeProcessing, 'DynamoDB.ConditionalCheckFailedException')).toBe(
      STATE.ReleaseSlotAndFinish,
    );
    expect(S.ResumeProcessing.Next).toBe(STATE.ChooseCompute);
  });

  it('RecordSuccess: PROCESSING → SUCCESS with run seconds as a number; outputs are not taken from the result', () => {
    const p = S.RecordSuccess.Parameters;
    expect(p.ConditionExpression).toBe('#status = :processing');
    expect(p.ExpressionAttributeValues[':success']).toEqual({ S: 'SUCCESS' });
    expect(p.ExpressionAttributeValues[':ffmpeg_command_run_seconds']).toEqual({
      'N.$': "States.Format('{}', $.result.ffmpeg_command_run_seconds)",
    });
    // The worker stores output_files_json beside the result (a playlist's names can exceed 256 KB).
    expect(p.ExpressionAttributeValues[':output_files_json']).toBeUndefined();
    expect(p.UpdateExpression).toMatch(/#finished_at = :finished_at/);
    expect(p.UpdateExpression).not.toMatch(/output_files_json/);
    expect(catchTarget(S.RecordSuccess, 'DynamoDB.ConditionalCheckFailedException')).toBe(STATE.ReleaseSlotAndFinish);
    expect(catchTarget(S.RecordSuccess, 'States.ALL')).toBe(STATE.NameInternalError);
    expect(S.RecordSuccess.Next).toBe(STATE.PublishSucceeded);
  });

  it('RecordFailure: QUEUED|PROCESSING → FAILED with error_status/message from $.error, pending removed', () => {
    const p = S.RecordFailure.Parameters;
    expect(p.ConditionExpression).toBe('#status IN (:queued, :processing)');
    expect(p.ExpressionAttributeValues[':failed']).toEqual({ S: 'FAILED' });
    expect(p.ExpressionAttributeValues[':error_status']).toEqual({ 'S.$': '$.error.Error' });
    expect(p.ExpressionAttributeValues[':error_message']).toEqual({ 'S.$': '$.error.Cause' });
    expect(p.UpdateExpression).toMatch(/REMOVE #pending/);
    expect(catchTarget(S.RecordFailure, 'DynamoDB.ConditionalCheckFailedException')).toBe(STATE.ReleaseSlotAndFinish);
    expect(S.RecordFailure.Next).toBe(STATE.PublishFailed);
  });
});

describe('state machine: running the worker', () => {
  for (const name of [STATE.RunOnFargate, STATE.RunOnGpu]) {
    it(`${name}: RunTask waiting for the task token, start-up (heartbeat) and run-time timeouts`, () => {
      const st = S[name];
      expect(st.Type).toBe('Task');
      expect(st.Resource).toMatch(/^arn:<<Ref:AWS::Partition>>:states:::ecs:runTask\.waitForTaskToken$/);
      // Long enough for a cold start: the worker's first heartbeat is its first line.
      expect(st.HeartbeatSeconds).toBe(
        name === STATE.RunOnGpu ? STARTUP_TIMEOUT_SECONDS.gpu : STARTUP_TIMEOUT_SECONDS.cpu,
      );
      expect(st.HeartbeatSeconds).toBeGreaterThanOrEqual(name === STATE.RunOnGpu ? 900 : 300);
      expect(st.TimeoutSecondsPath).toBe('$.task_timeout_seconds');
      expect(st.ResultPath).toBe('$.result');
      const [override] = st.Parameters.Overrides.ContainerOverrides;
      expect(override.Name).toBe(WORKER_CONTAINER_NAME);
      expect(override.Environment).toEqual([
        { Name: ENV.COMMAND_ID, 'Value.$': '$.command_id' },
        { Name: ENV.ACCOUNT_ID, 'Value.$': '$.account_id' },
        { Name: ENV.TASK_TOKEN, 'Value.$': '$$.Task.Token' },
        // Fargate: the workspace quota of the command's own disk (core/sizing.ts).
        ...(name === STATE.RunOnFargate
          ? [{ Name: ENV.WORKSPACE_MAX_BYTES, 'Value.$': '$.task_workspace_max_bytes' }]
          : []),
      ]);
      expect(st.Next).toBe(STATE.RecordSuccess);
    });

    it(`${name}: lost worker → NameWorkerLost, capacity → NameNoCapacity, worker error codes → RecordFailure, anything else → NameInternalError`, () => {
      const st = S[name];
      for (const e of [
        'AmazonECS.Unknown',
        'ECS.AmazonECSException',
        'ECS.ServerException',
        'ECS.LimitExceededException',
        'ECS.ThrottlingException',
      ]) {
        expect(catchTarget(st, e)).toBe(STATE.NameNoCapacity);
      }
      expect(catchTarget(st, 'States.HeartbeatTimeout')).toBe(STATE.NameWorkerLost);
      expect(catchTarget(st, 'States.Timeout')).toBe(STATE.NameWorkerLost);
      for (const code of ERROR_STATUS)
        if (code !== 'WORKER_LOST') expect(catchTarget(st, code)).toBe(STATE.RecordFailure);
      expect(st.Catch.at(-1)).toEqual({
        ErrorEquals: ['States.ALL'],
        ResultPath: '$.error',
        Next: STATE.NameInternalError,
      });
      for (const c of st.Catch) expect(c.ResultPath).toBe('$.error');
    });

    it(`${name}: capacity errors (AmazonECS.Unknown from a RunTask "failures" list too) are retried with backoff`, () => {
      const retry = S[name].Retry.find((r: any) => r.ErrorEquals.includes('ECS.AmazonECSException'));
      expect(retry.ErrorEquals).toEqual(
        expect.arrayContaining([
          'AmazonECS.Unknown',
          'ECS.ServerException',
          'ECS.LimitExceededException',
          'ECS.ThrottlingException',
        ]),
      );
      expect(retry.BackoffRate).toBeGreaterThan(1);
      expect(retry.MaxAttempts).toBeGreaterThanOrEqual(3);
    });

    it(`${name}: a lost worker (no heartbeat, or its own WORKER_LOST on SIGTERM) is started again, ${MAX_ATTEMPTS} starts in all`, () => {
      const retry = S[name].Retry.find((r: any) => r.ErrorEquals.includes('States.HeartbeatTimeout'));
      expect(retry.ErrorEquals).toEqual(['States.HeartbeatTimeout', 'WORKER_LOST']);
      expect(retry.MaxAttempts).toBe(MAX_ATTEMPTS - 1);
      // The run-time limit is not a lost worker: no re-run past task_timeout_seconds.
      for (const r of S[name].Retry) expect(r.ErrorEquals).not.toContain('States.Timeout');
    });
  }

  it('RunOnFargate: Fargate launch type, task size from the execution input, public IP in the default VPC', () => {
    const p = S.RunOnFargate.Parameters;
    expect(p.LaunchType).toBe('FARGATE');
    expect(p.Overrides['Cpu.$']).toBe('$.task_cpu');
    expect(p.Overrides['Memory.$']).toBe('$.task_memory');
    expect(p.Overrides.EphemeralStorage).toEqual({ 'SizeInGiB.$': '$.task_ephemeral_storage_gib' });
    expect(p.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('ENABLED');
    expect(p.TaskDefinition).toMatch(/FargateTaskDef/);
  });

  it('RunOnGpu: the GPU capacity provider, not a launch type', () => {
    const p = S.RunOnGpu.Parameters;
    expect(p.LaunchType).toBeUndefined();
    expect(p.CapacityProviderStrategy).toEqual([
      { CapacityProvider: expect.stringMatching(/^<<Ref:.*GpuCapacityProvider/), Weight: 1 },
    ]);
    expect(p.TaskDefinition).toMatch(/GpuTaskDef/);
  });

  it('NameNoCapacity names NO_CAPACITY with the ECS error and cause, then RecordFailure', () => {
    expect(S.NameNoCapacity.Type).toBe('Pass');
    expect(S.NameNoCapacity.Parameters.Error).toBe('NO_CAPACITY');
    expect(S.NameNoCapacity.Parameters['Cause.$']).toMatch(
      /^States\.Format\('The worker could not be started.*', \$\.error\.Error, \$\.error\.Cause\)$/,
    );
    expect(S.NameNoCapacity.Next).toBe(STATE.RecordFailure);
  });

  it('NameWorkerLost and NameInternalError name the error and go to RecordFailure', () => {
    expect(S.NameWorkerLost.Type).toBe('Pass');
    expect(S.NameWorkerLost.Parameters.Error).toBe('WORKER_LOST');
    expect(S.NameWorkerLost.ResultPath).toBe('$.error');
    expect(S.NameWorkerLost.Next).toBe(STATE.RecordFailure);
    expect(S.NameInternalError.Parameters.Error).toBe('INTERNAL_ERROR');
    expect(S.NameInternalError.Parameters['Cause.$']).toBe('States.JsonToString($.error)');
    expect(S.NameInternalError.Next).toBe(STATE.RecordFailure);
  });
});

describe('state machine: events', () => {
  it('PublishSucceeded puts a CommandEventDetail on the bus', () => {
    const [entry] = S.PublishSucceeded.Parameters.Entries;
    expect(S.PublishSucceeded.Resource).toMatch(/:states:::events:putEvents$/);
    expect(entry.Source).toBe(EVENT_SOURCE);
    expect(entry.DetailType).toBe(EVENT_DETAIL_TYPE.SUCCEEDED);
    expect(entry.EventBusName).toMatch(/^<<GetAtt:FfaasEventsBus.*\.Arn>>$/);
    expect(entry.Detail).toEqual({
      'command_id.$': '$.command_id',
      'account_id.$': '$.account_id',
      status: 'SUCCESS',
      'finished_at.$': '$.recorded.finished_at',
      'ffmpeg_command_run_seconds.$': '$.result.ffmpeg_command_run_seconds',
      'output_files.$': '$.result.output_files',
    });
    expect(S.PublishSucceeded.Next).toBe(STATE.ReleaseSlotAfterSuccess);
  });

  it('PublishFailed puts the failure with error_status and error_message', () => {
    const [entry] = S.PublishFailed.Parameters.Entries;
    expect(entry.DetailType).toBe(EVENT_DETAIL_TYPE.FAILED);
    expect(entry.Detail).toMatchObject({
      status: 'FAILED',
      'error_status.$': '$.error.Error',
      'error_message.$': '$.error.Cause',
      'finished_at.$': '$.recorded.finished_at',
    });
    expect(S.PublishFailed.Next).toBe(STATE.ReleaseSlotAfterFailure);
  });

  it('the bus keeps an archive of the service events', () => {
    const [, archive] = resourcesOfType(template, 'AWS::Events::Archive')[0];
    expect(archive.Properties.EventPattern).toEqual({ source: [EVENT_SOURCE] });
  });
});

describe('state machine: role', () => {
  it('may update only the commands table, run only the worker task definitions, put only on the bus', () => {
    const [smId, sm] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine')[0];
    void smId;
    const roleId = sm.Properties.RoleArn['Fn::GetAtt'][0];
    const statements = resourcesOfType(template, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions).toContain('dynamodb:UpdateItem');
    expect(actions).not.toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions.filter((a: string) => a === 'ecs:RunTask')).toHaveLength(2);
    expect(actions).toContain('events:PutEvents');
  });
});

describe('state machine: Fargate Spot (option)', () => {
  const spot = definitionOf(synth({ gpu: false, fargateSpot: true }).template).asl.States;

  it('RunOnFargate asks FARGATE_SPOT; when Spot has no capacity it falls back to RunOnFargateOnDemand on FARGATE', () => {
    expect(spot[STATE.RunOnFargate].Parameters.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
    ]);
    expect(spot[STATE.RunOnFargate].Parameters.LaunchType).toBeUndefined();
    expect(catchTarget(spot[STATE.RunOnFargate], 'ECS.AmazonECSException')).toBe(STATE.RunOnFargateOnDemand);
    // A short retry on Spot first, then the fallback.
    const retry = spot[STATE.RunOnFargate].Retry.find((r: any) => r.ErrorEquals.includes('ECS.AmazonECSException'));
    expect(retry.MaxAttempts).toBeLessThanOrEqual(2);
    const onDemand = spot[STATE.RunOnFargateOnDemand];
    expect(onDemand.Parameters.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE', Weight: 1 }]);
    expect(onDemand.Parameters.Overrides.EphemeralStorage).toEqual({ 'SizeInGiB.$': '$.task_ephemeral_storage_gib' });
    // Lost Spot workers (reclaimed) are handled like any lost worker.
    for (const st of [spot[STATE.RunOnFargate], onDemand]) {
      expect(catchTarget(st, 'States.HeartbeatTimeout')).toBe(STATE.NameWorkerLost);
      expect(st.Next).toBe(STATE.RecordSuccess);
    }
  });

  it('the cluster has the Fargate capacity providers', () => {
    const { assert } = synth({ gpu: false, fargateSpot: true });
    assert.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE', 'FARGATE_SPOT']),
    });
  });
});

describe('state machine: logs', () => {
  it('the execution log group is under /aws/vendedlogs/states/ (no account-wide resource policy entry)', () => {
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup')
      .map(([, g]) => g.Properties.LogGroupName)
      .filter(Boolean);
    expect(groups).toEqual([expect.stringMatching(/^\/aws\/vendedlogs\/states\/[A-Za-z0-9-_]+$/)]);
  });
});
