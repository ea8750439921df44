/**
 * Rendering: the synthesized FfaasStack → the exact ASL AWS would run, every CloudFormation
 * reference replaced by its local name. Which template resource is which local resource (the
 * commands table, the bucket, the bus, the cluster, the task definitions, the state machine) is
 * read from the stack object — the Ffaas construct's typed properties give each one's logical
 * id — so nothing is inferred from a resource's shape. Pure: the synth itself is in
 * local/definition.ts, which also caches the result.
 */
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { FfaasStack } from '../lib/ffaas-stack.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalNames } from './services.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;
export type CfnTemplate = {
  Resources?: Record<string, { Type: string; Properties?: Json }>;
  Parameters?: Record<string, Json>;
};

/** Every name a rendered definition can refer to, locally. */
export interface LocalResourceNames extends LocalNames {
  eventBusName: string;
  clusterName: string;
  stateMachineName: string;
}

export const LOCAL_RESOURCE_DEFAULTS = {
  eventBusName: 'ffaas-local-bus',
  clusterName: 'ffaas-local',
  stateMachineName: 'ffaas-commands',
} as const;

export const localArn = (service: string, resource: string): string =>
  `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;

export function stateMachineArnFor(name: string): string {
  return localArn('states', `stateMachine:${name}`);
}

/** Logical ids, in the stack's template, of the resources local mode stands in for. */
export interface StackResourceIds {
  tables: Record<keyof LocalNames['tables'], string>;
  bucket: string;
  eventBus: string;
  cluster: string;
  /** Fargate's, and the GPU one when the stack has GPU workers. */
  taskDefinitions: string[];
  stateMachine: string;
}

/** The template together with the logical ids read from its stack object. */
export interface SynthesizedStack {
  template: CfnTemplate;
  resourceIds: StackResourceIds;
}

/** Reads the logical ids from the Ffaas construct's typed properties (its L2 constructs' L1 children). */
export function stackResourceIds(stack: FfaasStack): StackResourceIds {
  const { storage, events, workers, pipeline } = stack.ffaas;
  const logicalId = (construct: IConstruct): string => {
    const cfn = construct.node.defaultChild as CfnElement | undefined;
    if (!cfn) throw new Error(`${construct.node.path} has no CloudFormation resource`);
    return stack.getLogicalId(cfn);
  };
  return {
    tables: {
      commands: logicalId(storage.commandsTable),
      apiKeys: logicalId(storage.apiKeysTable),
      accounts: logicalId(storage.accountsTable),
      files: logicalId(storage.filesTable),
      presets: logicalId(storage.presetsTable),
      webhookDeliveries: logicalId(stack.ffaas.webhooks.deliveriesTable),
      idempotency: logicalId(storage.idempotencyTable),
    },
    bucket: logicalId(storage.bucket),
    eventBus: logicalId(events.bus),
    cluster: logicalId(workers.cluster),
    taskDefinitions: [workers.fargateTaskDefinition, workers.gpuTaskDefinition]
      .filter((t) => t !== undefined)
      .map(logicalId),
    stateMachine: logicalId(pipeline.stateMachine),
  };
}

/** A resource local mode stands in for: what `Ref` and `Fn::GetAtt` give for it. */
interface LocalResource {
  type: string;
  ref: string;
  attributes: Record<string, string>;
}

/** Logical id → local resource, for every resource of StackResourceIds. */
export function localResources(ids: StackResourceIds, names: LocalResourceNames): Map<string, LocalResource> {
  const map = new Map<string, LocalResource>();
  for (const kind of Object.keys(ids.tables) as (keyof LocalNames['tables'])[]) {
    const name = names.tables[kind];
    const tableArn = localArn('dynamodb', `table/${name}`);
    map.set(ids.tables[kind], { type: 'AWS::DynamoDB::Table', ref: name, attributes: { Arn: tableArn } });
  }
  map.set(ids.bucket, {
    type: 'AWS::S3::Bucket',
    ref: names.bucket,
    attributes: { Arn: `arn:aws:s3:::${names.bucket}` },
  });
  const busArn = localArn('events', `event-bus/${names.eventBusName}`);
  map.set(ids.eventBus, {
    type: 'AWS::Events::EventBus',
    ref: names.eventBusName,
    attributes: { Arn: busArn, Name: names.eventBusName },
  });
  const clusterArn = localArn('ecs', `cluster/${names.clusterName}`);
  map.set(ids.cluster, { type: 'AWS::ECS::Cluster', ref: names.clusterName, attributes: { Arn: clusterArn } });
  for (const id of ids.taskDefinitions) {
    // Ref of a task definition is its ARN. The worker supervisor does not read it.
    const taskArn = localArn('ecs', `task-definition/${id}:1`);
    map.set(id, { type: 'AWS::ECS::TaskDefinition', ref: taskArn, attributes: { TaskDefinitionArn: taskArn } });
  }
  const machineArn = stateMachineArnFor(names.stateMachineName);
  map.set(ids.stateMachine, {
    type: 'AWS::StepFunctions::StateMachine',
    ref: machineArn,
    attributes: { Arn: machineArn, Name: names.stateMachineName },
  });
  return map;
}

/** Types local mode stands in for: a reference to one that is not in StackResourceIds is an error. */
const STOOD_IN_TYPES = new Set([
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::Events::EventBus',
  'AWS::ECS::Cluster',
  'AWS::ECS::TaskDefinition',
  'AWS::StepFunctions::StateMachine',
]);

/**
 * Resolves a CloudFormation value (string, Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split,
 * Fn::Sub) with every resource replaced by its local name, so the result is what AWS would see.
 * Resources local mode does not stand in for (subnets, security groups, roles…) get a
 * placeholder of the right shape: the definition passes them to RunTask, which ignores them.
 */
export function resolveCfnValue(synth: SynthesizedStack, value: Json, names: LocalResourceNames): Json {
  const { template } = synth;
  const resources = template.Resources ?? {};
  const known = localResources(synth.resourceIds, names);
  const resourceOf = (id: string) => {
    const res = resources[id];
    if (!res) throw new Error(`state machine definition refers to unknown resource ${id}`);
    const local = known.get(id);
    if (local && local.type !== res.Type)
      throw new Error(`resource ${id} is a ${res.Type} in the template, not a ${local.type}`);
    if (!local && STOOD_IN_TYPES.has(res.Type)) {
      throw new Error(
        `state machine definition refers to ${id} (${res.Type}), which is not one of the Ffaas construct's resources`,
      );
    }
    return { res, local };
  };
  const refOf = (id: string): string => {
    switch (id) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return LOCAL_REGION;
      case 'AWS::AccountId':
        return LOCAL_ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'ffaas-local';
      case 'AWS::StackId':
        return localArn('cloudformation', 'stack/ffaas-local/local');
    }
    const param = template.Parameters?.[id];
    if (param) return String(param.Default ?? '');
    const { res, local } = resourceOf(id);
    if (local) return local.ref;
    switch (res.Type) {
      case 'AWS::EC2::Subnet':
        return `subnet-${id.toLowerCase().slice(0, 17)}`;
      case 'AWS::EC2::SecurityGroup':
        return `sg-${id.toLowerCase().slice(0, 17)}`;
      case 'AWS::Lambda::Function':
        return `ffaas-local-${id}`;
      case 'AWS::SQS::Queue':
        return `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${id}`;
      default:
        return `local-${id}`;
    }
  };
  const getAtt = (id: string, attr: string): string => {
    const { res, local } = resourceOf(id);
    if (local) {
      const v = local.attributes[attr];
      if (v === undefined) throw new Error(`cannot render Fn::GetAtt ${id}.${attr} locally`);
      return v;
    }
    const name = refOf(id);
    if (attr === 'Arn') {
      switch (res.Type) {
        case 'AWS::Lambda::Function':
          return localArn('lambda', `function:${name}`);
        case 'AWS::SQS::Queue':
          return localArn('sqs', id);
        case 'AWS::IAM::Role':
          return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${id}`;
        default:
          return localArn('local', id);
      }
    }
    if (attr === 'Name' || attr === 'GroupId') return name;
    return `${name}-${attr}`;
  };
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = v[k];
      if (k === 'Ref') return refOf(arg);
      if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
        return getAtt(id, attr);
      }
      if (k === 'Fn::Join') return (walk(arg[1]) as Json[]).map(String).join(arg[0]);
      if (k === 'Fn::Select') return (walk(arg[1]) as Json[])[Number(walk(arg[0]))];
      if (k === 'Fn::Split') return String(walk(arg[1])).split(arg[0]);
      if (k === 'Fn::Sub') {
        const [text, vars] = Array.isArray(arg) ? [arg[0], walk(arg[1] ?? {})] : [arg, {}];
        return String(text).replace(/\$\{([^}!][^}]*)\}/g, (_m, expr: string) => {
          if (expr in vars) return String(vars[expr]);
          const [id, attr] = expr.split('.');
          return attr ? getAtt(id, attr) : refOf(id);
        });
      }
      if (k.startsWith('Fn::')) throw new Error(`cannot render ${k} in the state machine definition locally`);
    }
    return Object.fromEntries(keys.map((key) => [key, walk(v[key])]));
  };
  return walk(value);
}

/** The ASL of the Ffaas construct's state machine (pipeline.stateMachine), rendered with local names. */
export function renderStateMachine(synth: SynthesizedStack, names: LocalResourceNames): Json {
  const id = synth.resourceIds.stateMachine;
  const res = synth.template.Resources?.[id];
  if (res?.Type !== 'AWS::StepFunctions::StateMachine') throw new Error(`the template has no state machine ${id}`);
  const props = res.Properties ?? {};
  let asl: Json;
  if (props.Definition) asl = resolveCfnValue(synth, props.Definition, names);
  else if (props.DefinitionString !== undefined) {
    let text = resolveCfnValue(synth, props.DefinitionString, names);
    const subs = props.DefinitionSubstitutions ? resolveCfnValue(synth, props.DefinitionSubstitutions, names) : null;
    if (subs)
      text = String(text).replace(/\$\{([^}]+)\}/g, (m: string, k: string) => (k in subs ? String(subs[k]) : m));
    asl = JSON.parse(text);
  } else throw new Error(`state machine ${id} has neither Definition nor DefinitionString`);
  if (typeof asl?.StartAt !== 'string' || !asl.States?.[asl.StartAt])
    throw new Error(`state machine ${id} renders to ASL without its StartAt state`);
  return asl;
}
