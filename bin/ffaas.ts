#!/usr/bin/env node
/**
 * The CDK app: `npx cdk deploy` / `npx cdk synth`. Configuration comes from context
 * (cdk.json, or `-c key=value`):
 *   ffaas:gpu               GPU workers on/off (default false: most accounts have a G-instance
 *                           vCPU quota of 0; see docs/DEPLOY.md)
 *   ffaas:gpuInstanceTypes  GPU instance types, in order of preference
 *   ffaas:gpuMaxInstances   upper bound of the GPU Auto Scaling group
 *   ffaas:removalPolicy     "retain" (default) or "destroy" for the tables and the bucket
 *   ffaas:stackName         stack name (default "Ffaas")
 *   ffaas:workerImage       a prebuilt worker image URI (e.g. in ECR) instead of building
 *                           fargate-task/Dockerfile; then deploying needs no Docker (an ECR
 *                           URI gets its pull permission)
 *   ffaas:workerArch        "x86_64" (default) or "arm64" (Graviton Fargate workers)
 *   ffaas:fargateSpot       Fargate Spot first, on-demand fallback (default false)
 *   ffaas:alarmTopicArn     an SNS topic the alarms notify (default: none)
 */
import { App, RemovalPolicy } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { FfaasStack } from '../lib/ffaas-stack.ts';
import { DEFAULT_STACK_NAME } from '../lib/outputs.ts';

const app = new App();
const ctx = (key: string): unknown => app.node.tryGetContext(key);

/** Context values given with `-c` arrive as strings. */
function bool(value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return value === true || value === 'true';
}
function list(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(String);
  const s = String(value).trim();
  return s.startsWith('[')
    ? (JSON.parse(s) as string[])
    : s
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
}

const gpuOn = bool(ctx('ffaas:gpu'), false);
const maxInstances = ctx('ffaas:gpuMaxInstances');
const removal = String(ctx('ffaas:removalPolicy') ?? 'retain').toLowerCase();
if (removal !== 'retain' && removal !== 'destroy')
  throw new Error(`ffaas:removalPolicy must be retain or destroy, got ${removal}`);
const arch = String(ctx('ffaas:workerArch') ?? 'x86_64').toLowerCase();
if (arch !== 'x86_64' && arch !== 'arm64') throw new Error(`ffaas:workerArch must be x86_64 or arm64, got ${arch}`);
const imageUri = ctx('ffaas:workerImage') ? String(ctx('ffaas:workerImage')) : undefined;
const alarmTopicArn = ctx('ffaas:alarmTopicArn') ? String(ctx('ffaas:alarmTopicArn')) : undefined;

new FfaasStack(app, String(ctx('ffaas:stackName') ?? DEFAULT_STACK_NAME), {
  gpu: gpuOn
    ? {
        instanceTypes: list(ctx('ffaas:gpuInstanceTypes')),
        maxInstances: maxInstances === undefined ? undefined : Number(maxInstances),
      }
    : false,
  removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  // The image and the topic are constructs of the stack; the stack builds them from these.
  workerImageUri: imageUri,
  alarmTopicArn,
  workerArchitecture: arch === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
  fargateSpot: bool(ctx('ffaas:fargateSpot'), false),
  console: bool(ctx('ffaas:console'), false),
  // No `env`: the stack stays environment-agnostic and synthesizes without credentials;
  // `cdk deploy` deploys it to the CLI's account and region.
});
