/** Shared synthesis for the infrastructure tests: bundling skipped, placeholder worker image. */
import { Template } from 'aws-cdk-lib/assertions';
import { synthesizeForLocal, type FfaasStackProps } from '../../lib/ffaas-stack.ts';

const cache = new Map<string, ReturnType<typeof synthesizeForLocal> & { assert: Template }>();

export function synth(props: FfaasStackProps = {}) {
  const key = JSON.stringify(props);
  let hit = cache.get(key);
  if (!hit) {
    const result = synthesizeForLocal(props);
    hit = { ...result, assert: Template.fromJSON(result.template) };
    cache.set(key, hit);
  }
  return hit;
}

export type Resources = Record<string, { Type: string; Properties?: any; Metadata?: any; DependsOn?: any }>;

export function resourcesOfType(template: Record<string, any>, type: string): Array<[string, any]> {
  return Object.entries(template.Resources as Resources).filter(([, r]) => r.Type === type);
}

/**
 * The state machine's ASL: the DefinitionString's Fn::Join parts joined, with each token
 * replaced by a placeholder `<<Ref:Id>>` / `<<GetAtt:Id.Attr>>` (what local mode maps).
 */
export function definitionOf(
  template: Record<string, any>,
  which: 'commands' | 'ingest' = 'commands',
): { asl: any; tokens: string[] } {
  // Two state machines: the commands' (its logical id names the Pipeline construct) and the file ingest's.
  const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').filter(([id]) =>
    which === 'ingest' ? id.includes('IngestStateMachine') : !id.includes('IngestStateMachine'),
  );
  if (machines.length !== 1) throw new Error(`expected one ${which} state machine, found ${machines.length}`);
  const def = machines[0][1].Properties.DefinitionString;
  const tokens: string[] = [];
  const render = (part: any): string => {
    if (typeof part === 'string') return part;
    let t: string;
    if (part.Ref) t = `<<Ref:${part.Ref}>>`;
    else if (part['Fn::GetAtt']) t = `<<GetAtt:${part['Fn::GetAtt'].join('.')}>>`;
    else throw new Error(`unexpected token ${JSON.stringify(part)}`);
    tokens.push(t);
    return t;
  };
  const text = typeof def === 'string' ? def : (def['Fn::Join'][1] as any[]).map(render).join('');
  return { asl: JSON.parse(text), tokens: [...new Set(tokens)] };
}

/** Every IAM statement of the policies attached to the role whose logical id starts with `rolePrefix`. */
export function statementsOfRole(template: Record<string, any>, roleLogicalId: string): any[] {
  return resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles ?? []).some((r: any) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
