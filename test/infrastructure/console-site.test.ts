import { AwsSolutionsChecks } from 'cdk-nag';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../core/constants.ts';
import { STACK_OUTPUTS } from '../../lib/outputs.ts';
import { resourcesOfType, synth } from './synth.ts';

/** The web console as a static site with the stack (prop `console`, lib/console-site.ts). */
describe('the console site (console: true)', () => {
  const on = () => synth({ console: true });

  it('is a private bucket behind CloudFront with origin access control, HTTPS only', () => {
    const { template, assert } = on();
    assert.resourceCountIs('AWS::CloudFront::Distribution', 1);
    assert.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    assert.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: Match.anyValue() })],
      }),
    });
    const [distributionId] = resourcesOfType(template, 'AWS::CloudFront::Distribution')[0]!;
    const buckets = resourcesOfType(template, 'AWS::S3::Bucket').filter(([id]) => id.includes('Console'));
    expect(buckets).toHaveLength(1);
    const [bucketId, bucket] = buckets[0]!;
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    // Only this distribution may read the bucket (the OAC bucket policy's SourceArn condition).
    const policy = resourcesOfType(template, 'AWS::S3::BucketPolicy').find(
      ([, p]) => p.Properties.Bucket.Ref === bucketId,
    )![1];
    const read = policy.Properties.PolicyDocument.Statement.find(
      (s: any) => s.Principal?.Service === 'cloudfront.amazonaws.com',
    );
    expect(read.Action).toBe('s3:GetObject');
    expect(JSON.stringify(read.Condition)).toContain(distributionId);
  });

  it('deploys console/ with hls.js and a config.json naming the API, and outputs its URL', () => {
    const { template } = on();
    const [, deployment] = resourcesOfType(template, 'Custom::CDKBucketDeployment')[0]!;
    expect(deployment.Properties.SourceObjectKeys).toHaveLength(3);
    // config.json's apiUrl is the RestApi's URL, filled in at deploy time (a marker of the source).
    expect(JSON.stringify(deployment.Properties.SourceMarkers)).toContain('RestApi');
    expect(deployment.Properties.DistributionPaths).toEqual(['/*']);
    expect(JSON.stringify(template.Outputs[STACK_OUTPUTS.consoleUrl].Value)).toContain('DomainName');
  });

  it("lets the API accept the console's origin: preflights, the header on answers and gateway errors, bucket CORS", () => {
    const { template } = on();
    const options = resourcesOfType(template, 'AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties.HttpMethod === 'OPTIONS',
    );
    const others = resourcesOfType(template, 'AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties.HttpMethod !== 'OPTIONS',
    );
    // Every resource with a method answers the preflight, without the authorizer.
    const withMethods = new Set(others.map(([, m]) => JSON.stringify(m.Properties.ResourceId)));
    const withPreflight = new Set(options.map(([, m]) => JSON.stringify(m.Properties.ResourceId)));
    for (const r of withMethods) expect(withPreflight.has(r), r).toBe(true);
    for (const [, m] of options) {
      expect(m.Properties.AuthorizationType).toBe('NONE');
      const headers = m.Properties.Integration.IntegrationResponses[0].ResponseParameters;
      expect(JSON.stringify(headers['method.response.header.Access-Control-Allow-Origin'])).toContain('DomainName');
      expect(headers['method.response.header.Access-Control-Allow-Headers']).toContain('X-API-KEY');
    }
    const fns = resourcesOfType(template, 'AWS::Lambda::Function').filter(
      ([id]) => id.includes('ApiFn') && !id.includes('authorizer'),
    );
    expect(fns.length).toBeGreaterThan(10);
    for (const [id, fn] of fns)
      expect(JSON.stringify(fn.Properties.Environment.Variables[ENV.CORS_ORIGIN]), id).toContain('DomainName');
    for (const [, r] of resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse'))
      expect(
        JSON.stringify(r.Properties.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin']),
      ).toContain('DomainName');
    const [, storage] = resourcesOfType(template, 'AWS::S3::Bucket').find(([id]) => id.includes('StorageBucket'))!;
    expect(storage.Properties.CorsConfiguration.CorsRules[0]).toMatchObject({
      AllowedMethods: expect.arrayContaining(['GET', 'PUT']),
    });
  });

  it('passes cdk-nag with every finding of the site acknowledged with a reason', () => {
    const { stack } = on();
    const report = new AwsSolutionsChecks().validateScope(stack);
    const summary = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(summary).toEqual([]);
  });

  it('is off by default: no distribution, no CORS anywhere', () => {
    const { template } = synth();
    expect(resourcesOfType(template, 'AWS::CloudFront::Distribution')).toEqual([]);
    expect(
      resourcesOfType(template, 'AWS::ApiGateway::Method').filter(([, m]) => m.Properties.HttpMethod === 'OPTIONS'),
    ).toEqual([]);
    expect(JSON.stringify(template)).not.toContain(ENV.CORS_ORIGIN);
    expect(template.Outputs[STACK_OUTPUTS.consoleUrl]).toBeUndefined();
  });
});
