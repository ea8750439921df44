/** Template assertions for the control features' AWS pieces (issue 12; docs/CONTROL.md). */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLE } from '../../core/constants.ts';
import { CONTROL_ENV, IDEMPOTENCY_TABLE } from '../../core/control/settings.ts';
import { STACK_OUTPUTS } from '../../lib/outputs.ts';
import { asArray, resourcesOfType, statementsOfRole, synth } from './synth.ts';

const { template, assert } = synth({ gpu: false });
const R = template.Resources as Record<string, any>;
const functions = resourcesOfType(template, 'AWS::Lambda::Function');
const fnId = (handler: string) => {
  const compact = handler.replace(/-/g, '');
  const found = functions.find(([id]) => new RegExp(`^FfaasApiFn${compact}[A-F0-9]{8}$`).test(id));
  if (!found) throw new Error(`no function for ${handler}`);
  return found[0];
};
const statementsOf = (handler: string) => statementsOfRole(template, R[fnId(handler)].Properties.Role['Fn::GetAtt'][0]);
const actionsOf = (handler: string) => statementsOf(handler).flatMap((s) => asArray<string>(s.Action));

describe('control: per-account rate limit (usage plan keyed by the authorizer)', () => {
  it('takes usage-plan keys from the authorizer and requires one on every authorized method only', () => {
    assert.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
    for (const [, m] of resourcesOfType(template, 'AWS::ApiGateway::Method')) {
      expect(m.Properties.ApiKeyRequired === true).toBe(m.Properties.AuthorizationType === 'CUSTOM');
    }
  });

  it('has one usage plan with the per-key throttle on the stage, and its id as an output', () => {
    assert.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    assert.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 10, BurstLimit: 20 },
      ApiStages: [Match.objectLike({ ApiId: Match.anyValue(), Stage: Match.anyValue() })],
    });
    expect(template.Outputs[STACK_OUTPUTS.usagePlanId]).toBeDefined();
  });

  it('accountThrottle: false leaves the plan and the key requirement out', () => {
    const off = synth({ gpu: false, apiAccountThrottle: false });
    expect(resourcesOfType(off.template, 'AWS::ApiGateway::UsagePlan')).toHaveLength(0);
    for (const [, m] of resourcesOfType(off.template, 'AWS::ApiGateway::Method'))
      expect(m.Properties.ApiKeyRequired ?? false).toBe(false);
  });

  it('answers API Gateway throttling with 429 RATE_LIMITED and Retry-After', () => {
    assert.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': Match.anyValue() }),
    });
  });
});

describe('control: idempotency table', () => {
  it('is keyed by id with TTL on expiration, and its name reaches the functions', () => {
    const tables = resourcesOfType(template, 'AWS::DynamoDB::Table').filter(([, t]) =>
      (t.Properties.KeySchema as { AttributeName: string }[]).some(
        (k) => k.AttributeName === IDEMPOTENCY_TABLE.partitionKey,
      ),
    );
    expect(tables).toHaveLength(1);
    expect(tables[0]![1].Properties.TimeToLiveSpecification).toEqual({
      AttributeName: IDEMPOTENCY_TABLE.ttlAttribute,
      Enabled: true,
    });
    expect(Object.keys(R[fnId('run-ffmpeg-command')].Properties.Environment.Variables)).toContain(
      CONTROL_ENV.IDEMPOTENCY_TABLE,
    );
  });

  it('lets each submit handler use it, and read the pending index for the queue cap', () => {
    for (const h of ['run-ffmpeg-command', 'run-chained-ffmpeg-commands', 'run-multiple-ffmpeg-commands']) {
      expect(actionsOf(h)).toEqual(
        expect.arrayContaining([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
        ]),
      );
      const resources = JSON.stringify(
        statementsOf(h).filter((s) => asArray<string>(s.Action).includes('dynamodb:Query')),
      );
      expect(resources).toContain(`/index/${TABLE.commands.pendingIndex}`);
    }
  });
});

describe('control: cancel and usage', () => {
  it("cancel may stop only tasks of the workers' cluster, and knows the cluster", () => {
    const stopTask = statementsOf('cancel-command').filter((st) => asArray<string>(st.Action).includes('ecs:StopTask'));
    expect(stopTask).toHaveLength(1);
    const [st] = stopTask;
    expect(asArray<string>(st.Action)).toEqual(['ecs:StopTask']);
    const clusterArn = st.Condition.ArnEquals['ecs:cluster'];
    expect(JSON.stringify(clusterArn)).toMatch(/FfaasWorkersCluster/);
    expect(JSON.stringify(st.Resource)).toMatch(/:task\/".*FfaasWorkersCluster.*"\/\*/);
    expect(JSON.stringify(st.Resource)).not.toMatch(/"\*"/);
    const fns = resourcesOfType(template, 'AWS::Lambda::Function').filter(([id]) => /cancel/i.test(id));
    expect(fns.length).toBeGreaterThan(0);
    for (const [, fn] of fns)
      expect(JSON.stringify(fn.Properties.Environment.Variables.FFAAS_WORKER_CLUSTER_ARN)).toMatch(
        /FfaasWorkersCluster/,
      );
  });

  it('cancel may update the command, stop executions, delete outputs and publish events; usage only reads', () => {
    expect(actionsOf('cancel-command')).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'states:StopExecution',
        's3:DeleteObject',
        's3:ListBucket',
        'events:PutEvents',
      ]),
    );
    const usage = actionsOf('get-usage');
    expect(usage).toEqual(expect.arrayContaining(['dynamodb:Query']));
    expect(usage.some((a) => /Put|Update|Delete|states:/.test(a))).toBe(false);
  });
});
