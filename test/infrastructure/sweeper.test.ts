import { describe, expect, it } from 'vitest';
import { WORKER_SILENT_TIMEOUT_SECONDS } from '../../core/constants.ts';
import { definitionOf, resourcesOfType, synth } from './synth.ts';

const { template } = synth({ gpu: true });
const rules = resourcesOfType(template, 'AWS::Events::Rule');
const [[machineId]] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine');
const sweeperFn = resourcesOfType(template, 'AWS::Lambda::Function').find(([id]) => /Sweeper/.test(id))!;

describe('sweeper (AWS side)', () => {
  it('is a Lambda of its own', () => {
    expect(sweeperFn).toBeDefined();
    expect(sweeperFn[1].Properties.Timeout).toBeGreaterThanOrEqual(60);
  });

  it("a rule on the default bus takes this state machine's FAILED / TIMED_OUT / ABORTED status-change events to it", () => {
    const [, rule] = rules.find(([, r]) => r.Properties.EventPattern?.source?.[0] === 'aws.states')!;
    expect(rule.Properties.EventBusName).toBeUndefined(); // the default bus
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: machineId }] },
    });
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [sweeperFn[0], 'Arn'] });
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
  });

  it('a schedule runs the periodic check', () => {
    const scheduled = rules.filter(
      ([, r]) => r.Properties.ScheduleExpression && r.Properties.Targets[0].Arn['Fn::GetAtt']?.[0] === sweeperFn[0],
    );
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]![1].Properties.ScheduleExpression).toMatch(/^rate\(\d+ minutes?\)$/);
  });

  it('may query the pending index, update the table, list/describe the executions and put on the service bus', () => {
    const policies = resourcesOfType(template, 'AWS::IAM::Policy').filter(([, p]) =>
      p.Properties.Roles.some((r: any) => JSON.stringify(r).includes('Sweeper')),
    );
    const actions = policies.flatMap(([, p]) =>
      p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()),
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'states:ListExecutions',
        'states:DescribeExecution',
        'events:PutEvents',
      ]),
    );
    expect(actions).not.toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('states:StartExecution');
  });
});

describe('sweeper: the silent-worker limit (AWS side)', () => {
  const policies = resourcesOfType(template, 'AWS::IAM::Policy').filter(([, p]) =>
    p.Properties.Roles.some((r: any) => JSON.stringify(r).includes('Sweeper')),
  );
  const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]);
  const actions = statements.flatMap((s) => [s.Action].flat());

  it('runs every minute with the limit in its environment', () => {
    const [, rule] = rules.find(
      ([, r]) => r.Properties.ScheduleExpression && r.Properties.Targets[0].Arn['Fn::GetAtt']?.[0] === sweeperFn[0],
    )!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    const env = sweeperFn[1].Properties.Environment.Variables;
    expect(env.FFAAS_WORKER_SILENT_SECONDS).toBe(String(WORKER_SILENT_TIMEOUT_SECONDS));
    expect(JSON.stringify(env.FFAAS_WORKER_CLUSTER_ARN)).toMatch(/FfaasWorkersCluster/);
  });

  it("may read the command, fail a worker's task token and stop tasks of the workers' cluster only", () => {
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'states:SendTaskFailure']));
    const stop = statements.filter((s) => [s.Action].flat().includes('ecs:StopTask'));
    expect(stop).toHaveLength(1);
    expect(JSON.stringify(stop[0].Condition.ArnEquals['ecs:cluster'])).toMatch(/FfaasWorkersCluster/);
    expect(JSON.stringify(stop[0].Resource)).not.toMatch(/"\*"/);
  });

  it("the Run states' Retry re-runs the WORKER_LOST the sweeper sends, so a silent worker is started again", () => {
    const { asl } = definitionOf(template);
    for (const name of ['RunOnFargate', 'RunOnGpu']) {
      const rerun = asl.States[name].Retry.find((r: any) => r.ErrorEquals.includes('WORKER_LOST'));
      expect(rerun, name).toBeDefined();
      expect(rerun.ErrorEquals).toContain('States.HeartbeatTimeout');
    }
  });
});
