import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { IgnoreMode } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEFAULT_VCPU_COUNT, ENV, LIMITS, WORKER_CONTAINER_NAME, taskSize } from '../core/constants.ts';
import { REPO_ROOT, WORKER_DOCKERFILE } from './paths.ts';
import { BUCKET_PREFIX } from './storage.ts';
import { gpuInstanceTypeRefusal } from './gpu-instances.ts';
import { workspaceQuotaBytes } from '../core/sizing.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';

/** Where the worker's writable scratch space is mounted (the root file system is read-only). */
export const WORKER_MOUNTS = { workspace: '/work', tmp: '/tmp' } as const;

/**
 * Paths of the repository that the worker image never needs (Docker ignore syntax, anchored at
 * the repository root). The Dockerfile copies only package*.json, tsconfig.json, core/, store/ and
 * fargate-task/; fargate-task/Dockerfile.dockerignore mirrors this list for plain docker builds. Keeping them out of the build context keeps the asset hash stable when
 * only the CDK code, tests or docs change, so a deploy does not rebuild and push the image.
 */
export const WORKER_IMAGE_EXCLUDE = [
  '**/node_modules',
  'cdk.out',
  '.ffaas',
  '.git',
  '.ci',
  '.tmp',
  'coverage',
  'test',
  'bench',
  'docs',
  'lib',
  'bin',
  'cli',
  'local',
  'lambdas',
  'scripts',
  '**/*.log',
  'cdk.json',
  'cdk.context.json',
  'vitest.config.ts',
  'README.md',
];

/**
 * Linux capabilities the worker container keeps; every other one is dropped.
 * - SETUID, SETGID: the Node worker (root in the container) spawns ffmpeg as an unprivileged
 *   user, which needs setuid()/setgid()/setgroups() in the child.
 * - KILL: ffmpeg then runs under another uid, and a process may only signal a process of
 *   another user with CAP_KILL; without it the worker could not kill ffmpeg at the time limit.
 * Dropping CHOWN, DAC_OVERRIDE, FOWNER etc. means root in the container cannot read or write
 * files it does not own beyond their mode bits, so the worker must create the workspace with
 * modes that let the ffmpeg user write there (e.g. 0777 directory) rather than chown it.
 * Fargate accepts no capability additions except SYS_PTRACE, hence an explicit drop list
 * instead of "drop ALL, add what is kept".
 */
export const WORKER_KEPT_CAPABILITIES: readonly ecs.Capability[] = [
  ecs.Capability.SETUID,
  ecs.Capability.SETGID,
  ecs.Capability.KILL,
];
export const WORKER_DROPPED_CAPABILITIES: readonly ecs.Capability[] = Object.values(ecs.Capability).filter(
  (c) => c !== ecs.Capability.ALL && !WORKER_KEPT_CAPABILITIES.includes(c),
);

/** GPU worker options. */
export interface FfaasGpuOptions {
  /**
   * EC2 instance types of the GPU capacity provider, in order of preference. They must be
   * x86_64 NVIDIA instances (the worker image is linux/amd64).
   * @default ['g4dn.xlarge', 'g5.xlarge', 'g6.xlarge']
   */
  readonly instanceTypes?: string[];
  /** Upper bound of the GPU Auto Scaling group (it scales to zero when idle). @default 2 */
  readonly maxInstances?: number;
  /** Memory reserved for the worker container on the GPU host (soft limit). @default 8192 */
  readonly memoryReservationMiB?: number;
  /** Root volume of each GPU host, where the workspaces live. @default 100 */
  readonly rootVolumeGiB?: number;
}

/** Props of {@link FfaasWorkers}. */
export interface FfaasWorkersProps {
  /** The commands table: the worker reads its command and writes progress on it. */
  readonly commandsTable: dynamodb.ITable;
  /** The bucket the worker uploads outputs to (and reads stored-file inputs from). */
  readonly bucket: s3.IBucket;
  /**
   * The VPC the workers run in. When it has private subnets with egress (NAT or endpoints),
   * the tasks run there without public IPs; otherwise in its public subnets with a public IP.
   * @default - a new VPC with public subnets only and no NAT gateway (cheap, fine for trying
   * the service; production deployments should pass a VPC with private subnets and NAT, or
   * VPC endpoints, so the workers have no public address)
   */
  readonly vpc?: ec2.IVpc;
  /** Number of AZs of the VPC created when none is passed. @default 2 */
  readonly maxAzs?: number;
  /** Override where tasks and GPU hosts are placed. @default - see `vpc` */
  readonly taskSubnets?: ec2.SubnetSelection;
  /** Override whether Fargate tasks get a public IP. @default - true only when no private subnets */
  readonly assignPublicIp?: boolean;
  /**
   * The worker image. Local mode and tests pass a registry placeholder so synthesis does not
   * stage the repository as a Docker build context.
   * @default ContainerImage.fromAsset(repo root, { file: 'fargate-task/Dockerfile' }) for linux/amd64
   */
  readonly image?: ecs.ContainerImage;
  /**
   * Fargate ephemeral storage of the task definition. Each command overrides it at RunTask with
   * the size core/sizing.ts picks from its inputs and outputs; this is the size without override.
   * @default 21 (Fargate's minimum; the first 20 GiB are free)
   */
  readonly ephemeralStorageGiB?: number;
  /**
   * CPU architecture of the Fargate workers. ARM64 (Graviton) is ~20 % cheaper per vCPU-hour;
   * Debian's ffmpeg exists for arm64, and the image built from the Dockerfile is built for it.
   * A prebuilt `image` must then be an arm64 (or multi-arch) image. GPU workers stay x86_64.
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * Run Fargate workers on Fargate Spot (up to ~70 % cheaper). RunTask asks FARGATE_SPOT first
   * and falls back to on-demand FARGATE when Spot has no capacity; a task Spot reclaims (two
   * minutes' notice, SIGTERM) is handled like any lost worker.
   * @default false
   */
  readonly fargateSpot?: boolean;
  /** GPU workers (EC2 capacity provider scaling from zero); false turns them off. @default false */
  readonly gpu?: boolean | FfaasGpuOptions;
  /** Retention of the worker logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** CloudWatch Container Insights on the cluster. @default true */
  readonly containerInsights?: boolean;
}

/**
 * Where FFmpeg runs: the VPC, the ECS cluster, the Fargate task definition of the worker and,
 * when enabled, the GPU task definition with its EC2 capacity provider. Both task definitions
 * run the same image, container WORKER_CONTAINER_NAME, with a read-only root file system,
 * scratch volumes for the workspace, all capabilities dropped but those in
 * WORKER_KEPT_CAPABILITIES, and one least-privilege task role.
 *
 * Architecture: linux/amd64 (X86_64) for both. Debian's ffmpeg exists for arm64 too, and
 * Graviton Fargate is ~20 % cheaper, but the GPU instances (g4dn, g5, g6) are x86_64 and the
 * design wants one image for CPU and GPU, so one platform keeps one build and one digest.
 */
export class FfaasWorkers extends Construct {
  readonly vpc: ec2.IVpc;
  readonly cluster: ecs.Cluster;
  /** Security group of the worker tasks: no inbound rule, all outbound (inputs are arbitrary URLs). */
  readonly securityGroup: ec2.SecurityGroup;
  /** Subnets RunTask places tasks in. */
  readonly taskSubnets: ec2.SubnetSelection;
  readonly assignPublicIp: boolean;
  /** Task role shared by both task definitions. */
  readonly taskRole: iam.Role;
  readonly fargateTaskDefinition: ecs.FargateTaskDefinition;
  readonly fargateContainer: ecs.ContainerDefinition;
  readonly gpuTaskDefinition?: ecs.Ec2TaskDefinition;
  readonly gpuContainer?: ecs.ContainerDefinition;
  readonly gpuCapacityProvider?: ecs.AsgCapacityProvider;
  readonly logGroup: logs.LogGroup;
  /** The x86_64 worker image (the GPU hosts and the file ingest's task definition run it). */
  readonly image: ecs.ContainerImage;
  /** Whether RunTask asks Fargate Spot first (see FfaasWorkersProps.fargateSpot). */
  readonly fargateSpot: boolean;

  constructor(scope: Construct, id: string, props: FfaasWorkersProps) {
    super(scope, id);

    this.vpc =
      props.vpc ??
      new ec2.Vpc(this, 'Vpc', {
        maxAzs: props.maxAzs ?? 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22 }],
        restrictDefaultSecurityGroup: false,
        flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT } },
      });
    const hasPrivateEgress = this.vpc.privateSubnets.length > 0;
    this.taskSubnets = props.taskSubnets ?? {
      subnetType: hasPrivateEgress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC,
    };
    this.assignPublicIp = props.assignPublicIp ?? !hasPrivateEgress;

    this.fargateSpot = props.fargateSpot ?? false;
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      // FARGATE and FARGATE_SPOT as capacity providers of the cluster, so RunTask can name them.
      enableFargateCapacityProviders: this.fargateSpot,
      containerInsightsV2:
        props.containerInsights === false ? ecs.ContainerInsights.DISABLED : ecs.ContainerInsights.ENABLED,
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'ffaas workers: no inbound, outbound for input downloads and AWS APIs',
      allowAllOutbound: true,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'ffaas worker: its command item, outputs/* uploads, files/* reads, task token calls',
    });
    this.grantWorkerAccess(props.commandsTable, props.bucket);

    const cpuArchitecture = props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64;
    const arm64 = cpuArchitecture === ecs.CpuArchitecture.ARM64;
    const assetImage = (platform: Platform) =>
      ecs.ContainerImage.fromAsset(REPO_ROOT, {
        file: WORKER_DOCKERFILE,
        exclude: WORKER_IMAGE_EXCLUDE,
        ignoreMode: IgnoreMode.DOCKER,
        platform,
      });
    const image = props.image ?? assetImage(arm64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64);
    // With arm64 Fargate workers and the Dockerfile asset, the x86_64 users get a second build.
    this.image = arm64 && !props.image ? assetImage(Platform.LINUX_AMD64) : image;
    const environment: Record<string, string> = {
      [ENV.COMMANDS_TABLE]: props.commandsTable.tableName,
      [ENV.BUCKET]: props.bucket.bucketName,
      [ENV.WORK_DIR]: WORKER_MOUNTS.workspace,
      [ENV.SIGNED_URL_SECONDS]: String(LIMITS.signedUrlSeconds),
      // The workspace quota FFmpeg is stopped at when a run passes none. Fargate runs pass their
      // own (ExecutionInput.task_workspace_max_bytes, core/sizing.ts: the command's disk minus
      // its inputs); this default is what the task definition's disk leaves after one input.
      [ENV.WORKSPACE_MAX_BYTES]: String(workspaceQuotaBytes(props.ephemeralStorageGiB ?? 21, 1)),
      // Explicit, not left to the runtime: older ECS agents on EC2 do not set AWS_REGION and the
      // SDK cannot ask the (blocked) instance metadata. For an environment-agnostic stack this
      // is the AWS::Region pseudo parameter, resolved at deploy time.
      AWS_REGION: Stack.of(this).region,
      AWS_DEFAULT_REGION: Stack.of(this).region,
      // The worker's EMF metrics (core/metrics.ts), written to stdout and so to CloudWatch Logs.
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_SERVICE_NAME: 'ffaas-worker',
    };

    const size = taskSize(DEFAULT_VCPU_COUNT);
    this.fargateTaskDefinition = new ecs.FargateTaskDefinition(this, 'FargateTaskDef', {
      cpu: size.cpu,
      memoryLimitMiB: size.memory,
      ephemeralStorageGiB: props.ephemeralStorageGiB ?? 21,
      runtimePlatform: {
        cpuArchitecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
    });
    this.fargateContainer = this.addWorkerContainer(this.fargateTaskDefinition, image, environment, 'fargate');

    const gpu = props.gpu === true ? {} : props.gpu || undefined;
    if (gpu) {
      const instanceTypes = gpu.instanceTypes ?? ['g4dn.xlarge', 'g5.xlarge', 'g6.xlarge'];
      const refusals = instanceTypes.map(gpuInstanceTypeRefusal).filter((r): r is string => r !== null);
      if (refusals.length) throw new Error(`GPU instance types cannot run the worker: ${refusals.join('; ')}`);
      // The GPU image is always linux/amd64; with arm64 Fargate workers and the Dockerfile
      // asset it is a second build of the same Dockerfile.
      const gpuImage = this.image;
      const hostSubnets = props.taskSubnets ?? this.taskSubnets;
      const instanceRole = new iam.Role(this, 'GpuInstanceRole', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
        description: 'ffaas GPU hosts: ECS agent registration (added by the cluster)',
      });
      const hostSecurityGroup = new ec2.SecurityGroup(this, 'GpuHostSecurityGroup', {
        vpc: this.vpc,
        description: 'ffaas GPU hosts: no inbound',
        allowAllOutbound: true,
      });
      const userData = ec2.UserData.forLinux();
      userData.addCommands(
        // Tasks in awsvpc mode cannot reach the instance metadata service.
        'echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config',
        'echo ECS_ENABLE_GPU_SUPPORT=true >> /etc/ecs/ecs.config',
        'echo ECS_ENABLE_TASK_IAM_ROLE=true >> /etc/ecs/ecs.config',
        // Tasks in bridge mode neither: drop container traffic to IMDS (IMDSv2 with hop limit 1,
        // set on the launch template, already stops the token request; this is the second lock).
        'iptables --insert FORWARD 1 --in-interface docker+ --destination 169.254.169.254/32 --jump DROP',
      );
      const launchTemplate = new ec2.LaunchTemplate(this, 'GpuLaunchTemplate', {
        machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.GPU),
        userData,
        role: instanceRole,
        securityGroup: hostSecurityGroup,
        requireImdsv2: true,
        httpPutResponseHopLimit: 1,
        associatePublicIpAddress: this.assignPublicIp ? true : undefined,
        blockDevices: [
          {
            deviceName: '/dev/xvda',
            volume: ec2.BlockDeviceVolume.ebs(gpu.rootVolumeGiB ?? 100, {
              encrypted: true,
              volumeType: ec2.EbsDeviceVolumeType.GP3,
            }),
          },
        ],
      });
      const asg = new autoscaling.AutoScalingGroup(this, 'GpuAsg', {
        vpc: this.vpc,
        vpcSubnets: hostSubnets,
        // Zero hosts when idle: the capacity provider's managed scaling (target 100 %) sets the
        // desired count from the tasks waiting for a GPU, and back to 0 when none run.
        minCapacity: 0,
        maxCapacity: gpu.maxInstances ?? 2,
        // For the dashboard (GPU hosts in service); group metrics cost nothing.
        groupMetrics: [
          new autoscaling.GroupMetrics(
            autoscaling.GroupMetric.IN_SERVICE_INSTANCES,
            autoscaling.GroupMetric.DESIRED_CAPACITY,
          ),
        ],
        mixedInstancesPolicy: {
          launchTemplate,
          launchTemplateOverrides: instanceTypes.map((t) => ({
            instanceType: new ec2.InstanceType(t),
          })),
          instancesDistribution: {
            onDemandPercentageAboveBaseCapacity: 100,
            onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
          },
        },
      });
      this.gpuCapacityProvider = new ecs.AsgCapacityProvider(this, 'GpuCapacityProvider', {
        autoScalingGroup: asg,
        enableManagedScaling: true,
        targetCapacityPercent: 100,
        enableManagedTerminationProtection: true,
      });
      this.cluster.addAsgCapacityProvider(this.gpuCapacityProvider);

      // awsvpc gives each task its own ENI and security group, but on EC2 an ENI never gets a
      // public IP: without private subnets with egress the task could reach nothing. Then the
      // task shares the host's network through the Docker bridge (IMDS blocked, see above).
      this.gpuTaskDefinition = new ecs.Ec2TaskDefinition(this, 'GpuTaskDef', {
        networkMode: hasPrivateEgress ? ecs.NetworkMode.AWS_VPC : ecs.NetworkMode.BRIDGE,
        taskRole: this.taskRole,
      });
      this.gpuContainer = this.addWorkerContainer(
        this.gpuTaskDefinition,
        gpuImage,
        {
          ...environment,
          // Without `video` the NVIDIA runtime does not mount libnvidia-encode (no NVENC).
          NVIDIA_DRIVER_CAPABILITIES: 'compute,video,utility',
        },
        'gpu',
        { gpuCount: 1, memoryReservationMiB: gpu.memoryReservationMiB ?? 8192 },
      );
    }
  }

  /**
   * Another Fargate task definition of the worker image, hardened like the command worker's
   * (read-only root, dropped capabilities, /work and /tmp mounts) but with its own role, so a
   * different job (the file ingest) gets only its own permissions.
   */
  addFargateTaskDefinition(
    id: string,
    opts: {
      taskRole: iam.IRole;
      environment: Record<string, string>;
      cpu: number;
      memoryLimitMiB: number;
      ephemeralStorageGiB?: number;
    },
  ): { taskDefinition: ecs.FargateTaskDefinition; container: ecs.ContainerDefinition } {
    const taskDefinition = new ecs.FargateTaskDefinition(this, id, {
      cpu: opts.cpu,
      memoryLimitMiB: opts.memoryLimitMiB,
      ephemeralStorageGiB: opts.ephemeralStorageGiB ?? 50,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: opts.taskRole,
    });
    const container = this.addWorkerContainer(
      taskDefinition,
      this.image,
      {
        [ENV.WORK_DIR]: WORKER_MOUNTS.workspace,
        AWS_REGION: Stack.of(this).region,
        AWS_DEFAULT_REGION: Stack.of(this).region,
        ...opts.environment,
      },
      id,
    );
    return { taskDefinition, container };
  }

  private addWorkerContainer(
    taskDefinition: ecs.TaskDefinition,
    image: ecs.ContainerImage,
    environment: Record<string, string>,
    streamPrefix: string,
    extra: Partial<ecs.ContainerDefinitionOptions> = {},
  ): ecs.ContainerDefinition {
    const linuxParameters = new ecs.LinuxParameters(this, `${streamPrefix}LinuxParameters`, {
      initProcessEnabled: true,
    });
    linuxParameters.dropCapabilities(...WORKER_DROPPED_CAPABILITIES);
    for (const name of Object.keys(WORKER_MOUNTS)) taskDefinition.addVolume({ name });
    const container = taskDefinition.addContainer(WORKER_CONTAINER_NAME, {
      containerName: WORKER_CONTAINER_NAME,
      image,
      essential: true,
      readonlyRootFilesystem: true,
      linuxParameters,
      environment,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix, logGroup: this.logGroup }),
      ...extra,
    });
    container.addMountPoints(
      ...Object.entries(WORKER_MOUNTS).map(([sourceVolume, containerPath]) => ({
        sourceVolume,
        containerPath,
        readOnly: false,
      })),
    );
    return container;
  }

  /**
   * The worker's permissions. IAM cannot scope them to "this task's command": the command id is
   * chosen at run time and RunTask cannot tag the task's role session, so the statements are
   * scoped to the narrowest static resource instead (the commands table, `outputs/*`,
   * `files/*`). Per-command isolation is enforced by the worker code (keys from S3_KEYS with the
   * command id of its environment) and by ffmpeg never holding credentials (docs/SECURITY-POLICY.md).
   */
  private grantWorkerAccess(table: dynamodb.ITable, bucket: s3.IBucket): void {
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CommandItem',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PutOutputs',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [bucket.arnForObjects(`${BUCKET_PREFIX.outputs}*`)],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadStoredFiles',
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${BUCKET_PREFIX.files}*`)],
      }),
    );
  }
}

/**
 * ecs:StopTask on the worker tasks of one cluster only (cancel and the silent-worker check stop
 * the task whose ARN the worker recorded on its command).
 */
export function stopWorkerTaskStatement(scope: Construct, cluster: ecs.ICluster): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['ecs:StopTask'],
    resources: [
      Stack.of(scope).formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` }),
    ],
    conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
  });
}
