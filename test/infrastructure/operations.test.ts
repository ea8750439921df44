/**
 * Issue 14's findings, each checked on the synthesized template: GPU off by default, the region
 * on the worker, NVENC-capable GPU types only, one GPU per task, scaling from and to zero, IMDS
 * blocked, the ECR pull grant of a prebuilt image, the archive's KMS property, Graviton, and the
 * monitoring construct (alarms, topic, dashboard).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { App } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { METRIC, METRICS_NAMESPACE } from '../../core/metrics.ts';
import { WORKER_CONTAINER_NAME } from '../../core/constants.ts';
import { FfaasStack, SKIP_BUNDLING_CONTEXT } from '../../lib/ffaas-stack.ts';
import { asArray, resourcesOfType, statementsOfRole, synth } from './synth.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const containerOf = (taskDef: any) =>
  taskDef.Properties.ContainerDefinitions.find((c: any) => c.Name === WORKER_CONTAINER_NAME);
const taskDefs = (template: any) =>
  resourcesOfType(template, 'AWS::ECS::TaskDefinition').filter(([id]) => id.includes('Workers'));

describe('GPU: off by default', () => {
  it('cdk.json leaves ffaas:gpu false (most accounts have a G-instance quota of 0)', () => {
    const cdkJson = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8'));
    expect(cdkJson.context['ffaas:gpu']).toBe(false);
  });

  it('the construct without props has no GPU task definition, group or GPU alarm', () => {
    const { template } = synth({});
    // The command worker and the file ingest task (issue: files), no GPU definition.
    expect(taskDefs(template).map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'FfaasWorkersFargateTaskDef',
      'FfaasWorkersIngestTaskDef',
    ]);
    expect(resourcesOfType(template, 'AWS::AutoScaling::AutoScalingGroup')).toHaveLength(0);
    expect(resourcesOfType(template, 'AWS::Events::Rule').some(([id]) => id.includes('GpuLaunchFailures'))).toBe(false);
  });
});

describe('GPU workers (opt-in)', () => {
  const { template, assert } = synth({ gpu: true });
  const gpuDef = taskDefs(template).find(([id]) => id.includes('GpuTaskDef'))![1];

  it('every worker container gets AWS_REGION and AWS_DEFAULT_REGION from the stack region (AWS::Region at deploy)', () => {
    for (const [, def] of taskDefs(template)) {
      const env = containerOf(def).Environment;
      expect(env).toContainEqual({ Name: 'AWS_REGION', Value: { Ref: 'AWS::Region' } });
      expect(env).toContainEqual({ Name: 'AWS_DEFAULT_REGION', Value: { Ref: 'AWS::Region' } });
    }
  });

  it('a GPU task reserves one whole GPU (ECS then places at most one task per GPU)', () => {
    expect(containerOf(gpuDef).ResourceRequirements).toEqual([{ Type: 'GPU', Value: '1' }]);
  });

  it('the capacity provider scales the group from and to zero (managed scaling, target 100 %)', () => {
    assert.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', MaxSize: '2' });
    assert.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({
        ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }),
        ManagedTerminationProtection: 'ENABLED',
      }),
    });
  });

  it('tasks cannot reach instance metadata: ECS_AWSVPC_BLOCK_IMDS, bridge traffic dropped, IMDSv2 hop limit 1', () => {
    const [, lt] = resourcesOfType(template, 'AWS::EC2::LaunchTemplate')[0]!;
    const userData = JSON.stringify(lt.Properties.LaunchTemplateData.UserData);
    expect(userData).toContain('ECS_AWSVPC_BLOCK_IMDS=true');
    expect(userData).toContain('169.254.169.254/32 --jump DROP');
    expect(lt.Properties.LaunchTemplateData.MetadataOptions).toMatchObject({
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 1,
    });
  });

  it('instance types without NVENC (AMD, A100/H100, Graviton) are refused at synth', () => {
    expect(() => synth({ gpu: { instanceTypes: ['g4ad.xlarge'] } })).toThrow(/g4ad\.xlarge: AMD Radeon GPU: no NVENC/);
    expect(() => synth({ gpu: { instanceTypes: ['g5.xlarge', 'p4d.24xlarge'] } })).toThrow(/A100/);
    expect(() => synth({ gpu: { instanceTypes: ['g6.2xlarge', 'g6e.xlarge'] } })).not.toThrow();
  });

  it("GPU scale-out failures: a rule on the group's launch failures, alarmed through TriggeredRules", () => {
    assert.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance Launch Unsuccessful'],
        detail: Match.anyValue(),
      },
    });
    assert.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Events', MetricName: 'TriggeredRules' });
  });
});

describe('deploy paths', () => {
  const ecrUri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ffaas-worker:v7';
  const withImage = () => {
    const app = new App({ context: { ...SKIP_BUNDLING_CONTEXT } });
    const stack = new FfaasStack(app, 'Img', { workerImageUri: ecrUri, gpu: true });
    return app.synth().getStackArtifact(stack.artifactId).template as Record<string, any>;
  };

  it('a prebuilt ECR image gets its pull permission on both execution roles (that repository only)', () => {
    const template = withImage();
    const roles = resourcesOfType(template, 'AWS::IAM::Role').filter(
      ([id]) => id.includes('Workers') && id.includes('ExecutionRole'),
    );
    // The Fargate, GPU and file-ingest task definitions all run the one worker image.
    expect(roles).toHaveLength(3);
    for (const [id] of roles) {
      const statements = statementsOfRole(template, id);
      const pull = statements.find((s) => asArray<string>(s.Action).includes('ecr:BatchGetImage'))!;
      expect(asArray<string>(pull.Action)).toEqual(
        expect.arrayContaining(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']),
      );
      expect(JSON.stringify(pull.Resource)).toContain(':ecr:eu-west-1:123456789012:repository/ffaas-worker');
      expect(statements.some((s) => asArray<string>(s.Action).includes('ecr:GetAuthorizationToken'))).toBe(true);
    }
    for (const [, def] of taskDefs(template))
      expect(JSON.stringify(containerOf(def).Image)).toContain('/ffaas-worker:v7');
  });

  it('the event archive has no KmsKeyIdentifier (an empty one is refused by some regions)', () => {
    const { template } = synth({});
    const [, archive] = resourcesOfType(template, 'AWS::Events::Archive')[0]!;
    expect(archive.Properties).not.toHaveProperty('KmsKeyIdentifier');
  });

  it('bin/ffaas.ts synthesizes offline: an environment-agnostic stack (no account or region lookups)', () => {
    const { stack } = synth({});
    expect(Stack.of(stack).account).toMatch(/^\$\{Token/);
    expect(Stack.of(stack).region).toMatch(/^\$\{Token/);
    // No context lookups were needed (they would have been recorded as missing context).
    const app = new App({ context: { ...SKIP_BUNDLING_CONTEXT } });
    new FfaasStack(app, 'Lookups', { workerImage: ecs.ContainerImage.fromRegistry('x'), gpu: true });
    expect(app.synth().manifest.missing ?? []).toEqual([]);
  });
});

describe('right-sizing options', () => {
  it('Graviton: the Fargate task definition is ARM64; GPU stays x86_64', () => {
    const { template } = synth({ gpu: true, workerArchitecture: ecs.CpuArchitecture.ARM64 });
    const fargate = taskDefs(template).find(([id]) => id.includes('FargateTaskDef'))![1];
    expect(fargate.Properties.RuntimePlatform.CpuArchitecture).toBe('ARM64');
    const gpu = taskDefs(template).find(([id]) => id.includes('GpuTaskDef'))![1];
    expect(gpu.Properties.RuntimePlatform).toBeUndefined();
  });

  it("the task definition asks Fargate's minimum disk; each command overrides it (core/sizing.ts)", () => {
    const { template } = synth({});
    const fargate = taskDefs(template).find(([id]) => id.includes('FargateTaskDef'))![1];
    expect(fargate.Properties.EphemeralStorage).toEqual({ SizeInGiB: 21 });
  });
});

describe('monitoring', () => {
  const { template } = synth({ gpu: true });
  const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

  it('alarms on failed/timed-out executions, API 5XX and p99 latency, throttles, stuck commands, service faults', () => {
    const named = (metric: string, ns?: string) =>
      alarms.find((a) => a.MetricName === metric && (!ns || a.Namespace === ns));
    expect(named('ExecutionsFailed', 'AWS/States')).toBeDefined();
    expect(named('ExecutionsTimedOut', 'AWS/States')).toBeDefined();
    expect(named('5XXError', 'AWS/ApiGateway')).toBeDefined();
    expect(named('Latency', 'AWS/ApiGateway')).toMatchObject({ ExtendedStatistic: 'p99' });
    const stuck = named(METRIC.oldestPendingAgeSeconds, METRICS_NAMESPACE)!;
    expect(stuck).toMatchObject({
      Statistic: 'Maximum',
      TreatMissingData: 'breaching',
      Dimensions: [{ Name: 'service', Value: 'ffaas-api' }],
    });
    const failed = alarms.filter((a) => a.MetricName === METRIC.commandsFailed);
    expect(failed.map((a) => a.Dimensions.find((d: any) => d.Name === 'error_status').Value).sort()).toEqual([
      'INTERNAL_ERROR',
      'WORKER_LOST',
    ]);
    // Lambda throttles and errors: one metric-math alarm each over every function.
    // Every function is in one throttles alarm (metric math takes at most 10 metrics per alarm).
    const math = alarms.filter((a) => a.Metrics && JSON.stringify(a.Metrics).includes('"Throttles"'));
    const perAlarm = math.map((a) => a.Metrics.filter((m: any) => m.MetricStat).length);
    for (const n of perAlarm) expect(n).toBeLessThanOrEqual(10);
    expect(perAlarm.reduce((x, y) => x + y, 0)).toBe(resourcesOfType(template, 'AWS::Lambda::Function').length);
  });

  it('a dashboard with the service metrics', () => {
    const [, dash] = resourcesOfType(template, 'AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const m of [
      METRIC.commandsSubmitted,
      METRIC.commandsSucceeded,
      METRIC.queueWaitSeconds,
      METRIC.bytesIn,
      METRIC.bytesOut,
      'GroupInServiceInstances',
    ]) {
      expect(body).toContain(m);
    }
  });

  it('without a topic the alarms notify nobody; with one every alarm notifies it (alarm and OK)', () => {
    expect(alarms.every((a) => !a.AlarmActions)).toBe(true);
    const app = new App({ context: { ...SKIP_BUNDLING_CONTEXT } });
    const stack = new FfaasStack(app, 'Topic', {
      workerImage: ecs.ContainerImage.fromRegistry('x'),
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
    });
    const t = app.synth().getStackArtifact(stack.artifactId).template as Record<string, any>;
    const withTopic = resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(withTopic.length).toBeGreaterThan(8);
    for (const a of withTopic) {
      expect(a.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
      expect(a.OKActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
    }
  });
});
