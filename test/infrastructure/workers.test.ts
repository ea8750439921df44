import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VCPU_COUNT, ENV, WORKER_CONTAINER_NAME, taskSize } from '../../core/constants.ts';
import { FfaasStack } from '../../lib/ffaas-stack.ts';
import { WORKER_KEPT_CAPABILITIES } from '../../lib/workers.ts';
import { asArray, resourcesOfType, statementsOfRole, synth } from './synth.ts';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';

const containerOf = (taskDef: any) =>
  taskDef.Properties.ContainerDefinitions.find((c: any) => c.Name === WORKER_CONTAINER_NAME);

describe('workers: Fargate task definition', () => {
  const { template } = synth({ gpu: true });
  const fargate = resourcesOfType(template, 'AWS::ECS::TaskDefinition').find(([, t]) =>
    asArray(t.Properties.RequiresCompatibilities).includes('FARGATE'),
  )!;

  it('is x86_64 Linux, sized by taskSize(DEFAULT_VCPU_COUNT), with room for the workspace', () => {
    expect(fargate).toBeDefined();
    const p = fargate[1].Properties;
    expect(p.RuntimePlatform).toEqual({ CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' });
    expect(p.Cpu).toBe(String(taskSize(DEFAULT_VCPU_COUNT).cpu));
    expect(p.Memory).toBe(String(taskSize(DEFAULT_VCPU_COUNT).memory));
    expect(p.NetworkMode).toBe('awsvpc');
    expect(p.EphemeralStorage.SizeInGiB).toBeGreaterThanOrEqual(21);
  });

  it('runs the container named WORKER_CONTAINER_NAME read-only with writable /work and /tmp volumes', () => {
    const c = containerOf(fargate[1]);
    expect(c).toBeDefined();
    expect(c.ReadonlyRootFilesystem).toBe(true);
    expect(c.MountPoints.map((m: any) => m.ContainerPath).sort()).toEqual(['/tmp', '/work']);
    const volumes = fargate[1].Properties.Volumes.map((v: any) => v.Name);
    for (const m of c.MountPoints) expect(volumes).toContain(m.SourceVolume);
    expect(c.LogConfiguration.LogDriver).toBe('awslogs');
  });

  it('drops every Linux capability except the ones the sandbox needs', () => {
    const c = containerOf(fargate[1]);
    const dropped: string[] = c.LinuxParameters.Capabilities.Drop;
    expect(c.LinuxParameters.Capabilities.Add ?? []).toEqual([]);
    for (const cap of [
      'CHOWN',
      'DAC_OVERRIDE',
      'FOWNER',
      'FSETID',
      'MKNOD',
      'NET_RAW',
      'SETFCAP',
      'SETPCAP',
      'SYS_CHROOT',
      'NET_BIND_SERVICE',
      'AUDIT_WRITE',
      'SYS_ADMIN',
      'SYS_PTRACE',
    ]) {
      expect(dropped).toContain(cap);
    }
    for (const kept of WORKER_KEPT_CAPABILITIES) expect(dropped).not.toContain(kept);
    expect([...WORKER_KEPT_CAPABILITIES].sort()).toEqual(['KILL', 'SETGID', 'SETUID']);
  });

  it('has resource names in its environment and nothing secret', () => {
    const c = containerOf(fargate[1]);
    const names = c.Environment.map((e: any) => e.Name);
    expect(names).toEqual(expect.arrayContaining([ENV.COMMANDS_TABLE, ENV.BUCKET, ENV.WORK_DIR]));
    expect(c.Secrets).toBeUndefined();
    for (const e of c.Environment) {
      expect(e.Name).not.toMatch(/SECRET|PASSWORD|TOKEN|AWS_ACCESS|AWS_SECRET/i);
    }
    // The per-command values arrive with RunTask, never in the task definition.
    expect(names).not.toContain(ENV.TASK_TOKEN);
    expect(names).not.toContain(ENV.COMMAND_ID);
    // The default workspace quota: the task definition's 21 GiB less one input (5 GiB) and 1 GiB
    // headroom; Fargate runs override it per command (core/sizing.ts).
    expect(c.Environment.find((e: any) => e.Name === ENV.WORKSPACE_MAX_BYTES)?.Value).toBe(String(15 * 1024 ** 3));
  });
});

describe('workers: GPU', () => {
  it('with gpu on: an EC2 task definition of the same image with one GPU and NVENC-capable driver capabilities', () => {
    const { template } = synth({ gpu: true });
    const gpu = resourcesOfType(template, 'AWS::ECS::TaskDefinition').find(([, t]) =>
      asArray(t.Properties.RequiresCompatibilities).includes('EC2'),
    )!;
    expect(gpu).toBeDefined();
    const c = containerOf(gpu[1]);
    expect(c.ResourceRequirements).toEqual([{ Type: 'GPU', Value: '1' }]);
    const caps = c.Environment.find((e: any) => e.Name === 'NVIDIA_DRIVER_CAPABILITIES').Value.split(',');
    expect(caps).toEqual(expect.arrayContaining(['compute', 'video', 'utility']));
    expect(c.ReadonlyRootFilesystem).toBe(true);
    const fargate = resourcesOfType(template, 'AWS::ECS::TaskDefinition').find(([, t]) =>
      asArray(t.Properties.RequiresCompatibilities).includes('FARGATE'),
    )!;
    expect(c.Image).toEqual(containerOf(fargate[1]).Image);
    expect(c.LinuxParameters.Capabilities.Drop).toEqual(containerOf(fargate[1]).LinuxParameters.Capabilities.Drop);
  });

  it('with gpu on: a capacity provider with managed scaling on an ASG from 0, GPU AMI, IMDS blocked', () => {
    const { assert, template } = synth({ gpu: true });
    assert.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({
        ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }),
      }),
    });
    assert.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '0',
      MixedInstancesPolicy: Match.objectLike({
        LaunchTemplate: Match.objectLike({
          Overrides: Match.arrayWith([{ InstanceType: 'g4dn.xlarge' }]),
        }),
      }),
    });
    const [, lt] = resourcesOfType(template, 'AWS::EC2::LaunchTemplate')[0];
    const data = lt.Properties.LaunchTemplateData;
    expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    const amiParam = template.Parameters[data.ImageId.Ref];
    expect(amiParam.Default).toMatch(/\/ecs\/optimized-ami\/amazon-linux-2023\/gpu\//);
    const userData = JSON.stringify(data.UserData);
    expect(userData).toContain('ECS_AWSVPC_BLOCK_IMDS=true');
    expect(userData).toContain('ECS_ENABLE_GPU_SUPPORT=true');
    expect(userData).toContain('169.254.169.254');
    expect(data.BlockDeviceMappings[0].Ebs.Encrypted).toBe(true);
    // The cluster knows the provider, so RunTask can name it.
    assert.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 1);
  });

  it('with gpu off: no GPU task definition, no capacity provider, no ASG', () => {
    const { assert } = synth({ gpu: false });
    // The command worker's and the file ingest's (lib/files.ts); no GPU one.
    assert.resourceCountIs('AWS::ECS::TaskDefinition', 2);
    assert.resourceCountIs('AWS::ECS::CapacityProvider', 0);
    assert.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
    assert.resourceCountIs('AWS::EC2::LaunchTemplate', 0);
  });
});

describe('workers: network', () => {
  it('default VPC: public subnets only, no NAT, so tasks get a public IP', () => {
    const { assert } = synth({ gpu: false });
    assert.resourceCountIs('AWS::EC2::NatGateway', 0);
    for (const s of Object.values(assert.findResources('AWS::EC2::Subnet'))) {
      expect(s.Properties.MapPublicIpOnLaunch).toBe(true);
    }
  });

  it('a VPC with private subnets: tasks run there without public IP, GPU tasks in awsvpc mode', () => {
    const app2 = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const base = new Stack(app2, 'Net');
    const vpc = new ec2.Vpc(base, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const s2 = new FfaasStack(app2, 'Private', {
      vpc,
      gpu: true,
      workerImage: ecs.ContainerImage.fromRegistry('ffaas-worker:test'),
    });
    const t = Template.fromStack(s2).toJSON();
    const sm = resourcesOfType(t, 'AWS::StepFunctions::StateMachine')[0][1];
    const text = JSON.stringify(sm.Properties.DefinitionString);
    expect(text).not.toContain('AssignPublicIp');
    expect(text).toMatch(/ExportsOutputRefVpcPrivateSubnet1/);
    expect(text).not.toMatch(/PublicSubnet/);
    const gpu = resourcesOfType(t, 'AWS::ECS::TaskDefinition').find(([, d]) =>
      asArray(d.Properties.RequiresCompatibilities).includes('EC2'),
    )!;
    expect(gpu[1].Properties.NetworkMode).toBe('awsvpc');
  });
});

describe('workers: task role is least privilege', () => {
  const { template } = synth({ gpu: true });
  const [taskRoleId] = resourcesOfType(template, 'AWS::IAM::Role').find(([id]) => /WorkersTaskRole/.test(id))!;
  const statements = statementsOfRole(template, taskRoleId);
  const [commandsTableId] = resourcesOfType(template, 'AWS::DynamoDB::Table').find(
    ([, t]) => t.Properties.KeySchema.length === 2,
  )!;
  const [bucketId] = resourcesOfType(template, 'AWS::S3::Bucket')[0];

  it('has no managed policies and no wildcard actions', () => {
    const role = template.Resources[taskRoleId];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    for (const s of statements) for (const a of asArray<string>(s.Action)) expect(a).not.toContain('*');
  });

  it('cannot touch the whole bucket; PutObject only on outputs/*, GetObject only on files/*', () => {
    const s3 = statements.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const s of s3) {
      for (const r of asArray<any>(s.Resource)) {
        // never the bucket ARN itself nor bucket/*
        expect(r).not.toEqual({ 'Fn::GetAtt': [bucketId, 'Arn'] });
        const suffix = r['Fn::Join']?.[1]?.at(-1);
        expect(['/outputs/*', '/files/*']).toContain(suffix);
      }
    }
    const put = s3.filter((s) => asArray<string>(s.Action).includes('s3:PutObject'));
    expect(put.flatMap((s) => asArray<any>(s.Resource)).map((r) => r['Fn::Join'][1].at(-1))).toEqual(['/outputs/*']);
    const get = s3.filter((s) => asArray<string>(s.Action).includes('s3:GetObject'));
    expect(get.flatMap((s) => asArray<any>(s.Resource)).map((r) => r['Fn::Join'][1].at(-1))).toEqual(['/files/*']);
    expect(s3.flatMap((s) => asArray<string>(s.Action))).not.toContain('s3:DeleteObject');
  });

  it('reads and updates only the commands table (no index, no other table)', () => {
    const ddb = statements.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(ddb.flatMap((s) => asArray<string>(s.Action)).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(ddb.flatMap((s) => asArray<any>(s.Resource))).toEqual([{ 'Fn::GetAtt': [commandsTableId, 'Arn'] }]);
  });

  it('answers task tokens of the command state machine only', () => {
    const sfn = statements.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('states:')));
    expect(sfn.flatMap((s) => asArray<string>(s.Action)).sort()).toEqual([
      'states:SendTaskFailure',
      'states:SendTaskHeartbeat',
      'states:SendTaskSuccess',
    ]);
    const [smId] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine')[0];
    expect(sfn.flatMap((s) => asArray<any>(s.Resource))).toEqual([{ Ref: smId }]);
  });
});
