import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { describe, expect, it } from 'vitest';
import { synth } from './synth.ts';

/** cdk-nag's AwsSolutions pack over the synthesized stack; accepted findings carry reasons in lib/nag.ts. */
describe('cdk-nag AwsSolutions', () => {
  for (const [name, props] of [
    ['gpu on', { gpu: true }],
    ['gpu off', { gpu: false }],
    ['Spot, arm64, tracing', { fargateSpot: true, workerArchitecture: ecs.CpuArchitecture.ARM64, tracing: true }],
  ] as const) {
    it(`passes with ${name} (every remaining finding acknowledged with a reason)`, () => {
      const { stack } = synth(props);
      const report = new AwsSolutionsChecks().validateScope(stack);
      const summary = report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(summary).toEqual([]);
      expect(report.success).toBe(true);
    });
  }

  for (const gpu of [true, false]) {
    it(`Serverless pack passes with gpu ${gpu ? 'on' : 'off'}`, () => {
      const { stack } = synth({ gpu });
      const report = new ServerlessChecks().validateScope(stack);
      const summary = report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(summary).toEqual([]);
    });
  }

  it('acknowledgements are scoped, not blanket: IAM5 is never acknowledged without a finding', () => {
    const { stack } = synth({ gpu: true });
    const acks = stack.node
      .findAll()
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
          .map((m) => Object.keys(m.data as object)),
      )
      .flat()
      .map((id) => id.replace(/^annotation::/i, ''));
    expect(acks).not.toContain('AwsSolutions-IAM5');
    expect(acks.filter((id) => id.startsWith('AwsSolutions-IAM5[')).length).toBeGreaterThan(0);
  });

  it('the worker task role only needs acknowledgements for its prefix-scoped S3 resources', () => {
    const { stack } = synth({ gpu: false });
    const policy = stack.node.findAll().find((c) => /Workers\/TaskRole\/DefaultPolicy\/Resource$/.test(c.node.path))!;
    const ids = policy.node.metadata
      .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
      .flatMap((m) => Object.keys(m.data as object))
      .map((id) => id.replace(/^annotation::/i, ''));
    expect(ids.sort()).toEqual([
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<FfaasStorageBucket[A-F0-9]+\.Arn>\/files\/\*\]$/),
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<FfaasStorageBucket[A-F0-9]+\.Arn>\/outputs\/\*\]$/),
    ]);
  });
});
