import { App, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { workerImageFromUri } from './worker-image.ts';
import { Ffaas, type FfaasProps } from './ffaas.ts';
import { DEFAULT_STACK_NAME, STACK_OUTPUTS } from './outputs.ts';

/** Props of {@link FfaasStack}: the stack's own props plus those of the Ffaas construct. */
export interface FfaasStackProps extends StackProps, FfaasProps {
  /**
   * A prebuilt worker image by URI (ignored when `workerImage` is given). A private ECR URI is
   * imported with its pull permission (lib/worker-image.ts). @default - the Dockerfile asset
   */
  readonly workerImageUri?: string;
  /** ARN of an existing SNS topic for the alarms (ignored when `alarmTopic` is given). @default - none */
  readonly alarmTopicArn?: string;
}

/**
 * The deployable stack: one Ffaas construct and the outputs the CLI and users read
 * (keys in STACK_OUTPUTS). Environment-agnostic unless `env` is given, so it synthesizes
 * without AWS credentials.
 */
export class FfaasStack extends Stack {
  readonly ffaas: Ffaas;

  constructor(scope: Construct, id: string, props: FfaasStackProps = {}) {
    super(scope, id, { description: 'ffaas: FFmpeg as a Service', ...props });
    this.ffaas = new Ffaas(this, 'Ffaas', {
      ...props,
      workerImage:
        props.workerImage ?? (props.workerImageUri ? workerImageFromUri(this, props.workerImageUri) : undefined),
      alarmTopic:
        props.alarmTopic ??
        (props.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : undefined),
    });
    const { storage, api, pipeline, events, workers } = this.ffaas;
    const out = (key: string, value: string, description: string) => new CfnOutput(this, key, { value, description });
    out(STACK_OUTPUTS.apiUrl, api.restApi.url, 'Base URL of the API (append api/v1/...)');
    out(STACK_OUTPUTS.commandsTableName, storage.commandsTable.tableName, 'Commands table');
    out(STACK_OUTPUTS.apiKeysTableName, storage.apiKeysTable.tableName, 'API keys table (the CLI writes keys here)');
    out(STACK_OUTPUTS.accountsTableName, storage.accountsTable.tableName, 'Accounts table');
    out(STACK_OUTPUTS.bucketName, storage.bucket.bucketName, 'Bucket of outputs and stored files');
    out(STACK_OUTPUTS.stateMachineArn, pipeline.stateMachine.stateMachineArn, 'Command state machine');
    out(STACK_OUTPUTS.eventBusName, events.bus.eventBusName, 'Event bus of command completions');
    out(STACK_OUTPUTS.clusterName, workers.cluster.clusterName, 'ECS cluster of the workers');
    if (this.ffaas.consoleSite)
      out(STACK_OUTPUTS.consoleUrl, `${this.ffaas.consoleSite.url}/`, 'The web console (opens connected to this API)');
    if (api.usagePlan)
      out(
        STACK_OUTPUTS.usagePlanId,
        api.usagePlan.usagePlanId,
        "Per-account usage plan (the CLI adds each account's key)",
      );
  }
}

/** Context that makes synthesis skip asset bundling (no esbuild runs). */
export const SKIP_BUNDLING_CONTEXT = { 'aws:cdk:bundling-stacks': [] as string[] } as const;

/** Image used instead of the Dockerfile asset when nothing will be deployed. */
export const PLACEHOLDER_WORKER_IMAGE = 'ffaas-worker:local';

/**
 * Synthesizes FfaasStack in-process for local mode and tests: no bundling, no Docker build
 * context staging (the worker image is a registry placeholder), no credentials. Returns the
 * stack and its CloudFormation template (the state machine's DefinitionString is in it).
 */
export function synthesizeForLocal(
  props: FfaasStackProps = {},
  stackName: string = DEFAULT_STACK_NAME,
): {
  app: App;
  stack: FfaasStack;
  template: Record<string, any>;
} {
  const app = new App({ context: { ...SKIP_BUNDLING_CONTEXT } });
  const stack = new FfaasStack(app, stackName, {
    workerImage: ecs.ContainerImage.fromRegistry(PLACEHOLDER_WORKER_IMAGE),
    ...props,
  });
  const template = app.synth().getStackArtifact(stack.artifactId).template as Record<string, any>;
  return { app, stack, template };
}
