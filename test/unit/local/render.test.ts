/**
 * local/render.ts: which template resource is which local resource comes from the stack object
 * (the Ffaas construct's typed properties), and the rendered ASL carries exactly those local
 * names. The real stack (with GPU workers, so both task definitions exist) and small
 * hand-written templates for the refusals.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STATE, TABLE } from '../../../core/constants.ts';
import { synthesizeForLocal } from '../../../lib/ffaas-stack.ts';
import {
  localResources,
  renderStateMachine,
  resolveCfnValue,
  stackResourceIds,
  type LocalResourceNames,
  type StackResourceIds,
  type SynthesizedStack,
} from '../../../local/render.ts';

/** Names unlike the defaults, so a hit cannot be a coincidence. */
const NAMES: LocalResourceNames = {
  tables: {
    commands: 'cmds-x',
    apiKeys: 'keys-x',
    accounts: 'accts-x',
    files: 'files-x',
    presets: 'presets-x',
    webhookDeliveries: 'deliveries-x',
    idempotency: 'idem-x',
  },
  bucket: 'bucket-x',
  eventBusName: 'bus-x',
  clusterName: 'cluster-x',
  stateMachineName: 'machine-x',
};

let synth: SynthesizedStack;
beforeAll(() => {
  const { stack, template } = synthesizeForLocal({ gpu: true });
  synth = { template, resourceIds: stackResourceIds(stack) };
}, 120_000);

const idsOfType = (type: string) =>
  Object.entries(synth.template.Resources ?? {})
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id)
    .sort();

describe('stackResourceIds (from the Ffaas construct)', () => {
  it('maps every table, the bucket, the bus, the cluster, both task definitions and the state machine of the template', () => {
    const ids = synth.resourceIds;
    expect(Object.values(ids.tables).sort()).toEqual(idsOfType('AWS::DynamoDB::Table'));
    expect(new Set(Object.values(ids.tables)).size).toBe(7);
    expect([ids.bucket]).toEqual(idsOfType('AWS::S3::Bucket'));
    expect([ids.eventBus]).toEqual(idsOfType('AWS::Events::EventBus'));
    expect([ids.cluster]).toEqual(idsOfType('AWS::ECS::Cluster'));
    // The file ingest's task definition and state machine (lib/files.ts) are not the command
    // state machine's: local mode runs the ingest itself (local/file-ingest.ts).
    const notIngest = (ids: string[]) => ids.filter((id) => !id.includes('Ingest'));
    expect([...ids.taskDefinitions].sort()).toEqual(notIngest(idsOfType('AWS::ECS::TaskDefinition')));
    expect([ids.stateMachine]).toEqual(notIngest(idsOfType('AWS::StepFunctions::StateMachine')));
  });

  it('tells the tables apart by the construct property, which the key schema agrees with', () => {
    const keysOf = (id: string) =>
      (synth.template.Resources![id].Properties.KeySchema as { AttributeName: string }[]).map((k) => k.AttributeName);
    expect(keysOf(synth.resourceIds.tables.commands)).toEqual([TABLE.commands.partitionKey, TABLE.commands.sortKey]);
    expect(keysOf(synth.resourceIds.tables.apiKeys)).toEqual([TABLE.apiKeys.partitionKey]);
    expect(keysOf(synth.resourceIds.tables.accounts)).toEqual([TABLE.accounts.partitionKey]);
  });
});

describe('renderStateMachine', () => {
  it('renders the construct state machine with the local names and no CloudFormation left', () => {
    const asl = renderStateMachine(synth, NAMES);
    const text = JSON.stringify(asl);
    expect(text).not.toMatch(/"Ref"|Fn::/);
    expect(asl.StartAt).toBe(STATE.UseAccountSlots);
    expect(asl.States[STATE.MarkProcessing].Parameters.TableName).toBe('cmds-x');
    expect(asl.States[STATE.RunOnFargate].Parameters.Cluster).toBe(
      'arn:aws:ecs:us-east-1:000000000000:cluster/cluster-x',
    );
    expect(asl.States[STATE.RunOnGpu].Parameters.Cluster).toBe('arn:aws:ecs:us-east-1:000000000000:cluster/cluster-x');
    expect(text).toContain('"EventBusName":"arn:aws:events:us-east-1:000000000000:event-bus/bus-x"');
    // The default names appear nowhere: every name came from NAMES.
    expect(text).not.toMatch(/ffaas-commands|ffaas-local-bus/);
  });
});

describe('resolveCfnValue (hand-written templates)', () => {
  const ids: StackResourceIds = {
    tables: {
      commands: 'Cmds',
      apiKeys: 'Keys',
      accounts: 'Accts',
      files: 'Files',
      presets: 'Presets',
      webhookDeliveries: 'Dlv',
      idempotency: 'Idem',
    },
    bucket: 'Bkt',
    eventBus: 'Bus',
    cluster: 'Clu',
    taskDefinitions: ['Td'],
    stateMachine: 'Sm',
  };
  const template = {
    Resources: {
      Cmds: { Type: 'AWS::DynamoDB::Table' },
      Keys: { Type: 'AWS::DynamoDB::Table' },
      Accts: { Type: 'AWS::DynamoDB::Table' },
      Stray: { Type: 'AWS::DynamoDB::Table' },
      Bkt: { Type: 'AWS::S3::Bucket' },
      Bus: { Type: 'AWS::Events::EventBus' },
      Clu: { Type: 'AWS::ECS::Cluster' },
      Td: { Type: 'AWS::ECS::TaskDefinition' },
      Sm: { Type: 'AWS::StepFunctions::StateMachine' },
      Sg: { Type: 'AWS::EC2::SecurityGroup' },
    },
  };
  const s: SynthesizedStack = { template, resourceIds: ids };

  it('gives Ref, GetAtt, Join and Sub their local values', () => {
    expect(resolveCfnValue(s, { Ref: 'Keys' }, NAMES)).toBe('keys-x');
    expect(resolveCfnValue(s, { 'Fn::GetAtt': ['Accts', 'Arn'] }, NAMES)).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/accts-x',
    );
    expect(resolveCfnValue(s, { 'Fn::GetAtt': 'Bkt.Arn' }, NAMES)).toBe('arn:aws:s3:::bucket-x');
    expect(resolveCfnValue(s, { Ref: 'Td' }, NAMES)).toBe('arn:aws:ecs:us-east-1:000000000000:task-definition/Td:1');
    expect(resolveCfnValue(s, { Ref: 'Sm' }, NAMES)).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:machine-x',
    );
    expect(resolveCfnValue(s, { 'Fn::Join': ['/', [{ Ref: 'AWS::Region' }, { Ref: 'Bus' }]] }, NAMES)).toBe(
      'us-east-1/bus-x',
    );
    expect(resolveCfnValue(s, { 'Fn::Sub': '${Clu.Arn}|${Cmds}' }, NAMES)).toBe(
      'arn:aws:ecs:us-east-1:000000000000:cluster/cluster-x|cmds-x',
    );
    expect(resolveCfnValue(s, { 'Fn::GetAtt': ['Sg', 'GroupId'] }, NAMES)).toMatch(/^sg-/);
  });

  it('refuses a table that is not one of the construct`s instead of guessing', () => {
    expect(() => resolveCfnValue(s, { Ref: 'Stray' }, NAMES)).toThrow(
      /Stray \(AWS::DynamoDB::Table\), which is not one of the Ffaas construct's resources/,
    );
  });

  it('refuses unknown resources, unknown attributes and ids whose type disagrees', () => {
    expect(() => resolveCfnValue(s, { Ref: 'Nope' }, NAMES)).toThrow(/unknown resource Nope/);
    expect(() => resolveCfnValue(s, { 'Fn::GetAtt': ['Cmds', 'StreamArn'] }, NAMES)).toThrow(/Cmds\.StreamArn/);
    const swapped: SynthesizedStack = { template, resourceIds: { ...ids, bucket: 'Bus', eventBus: 'Bkt' } };
    expect(() => resolveCfnValue(swapped, { Ref: 'Bus' }, NAMES)).toThrow(
      /is a AWS::Events::EventBus in the template, not a AWS::S3::Bucket/,
    );
    expect(() => resolveCfnValue(s, { 'Fn::ImportValue': 'x' }, NAMES)).toThrow(/Fn::ImportValue/);
  });

  it('lists one local resource per construct resource', () => {
    expect([...localResources(ids, NAMES).keys()].sort()).toEqual([
      'Accts',
      'Bkt',
      'Bus',
      'Clu',
      'Cmds',
      'Dlv',
      'Files',
      'Idem',
      'Keys',
      'Presets',
      'Sm',
      'Td',
    ]);
  });
});
