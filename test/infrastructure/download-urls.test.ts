/**
 * Download URLs minted without a request (webhook bodies): the delivery function gets
 * FFAAS_PUBLIC_URL (the API's own execute-api URL, or the publicUrl prop) and may read the
 * token secret; with publicUrl every function carries it.
 */
import { describe, expect, it } from 'vitest';
import { ENV } from '../../core/constants.ts';
import { asArray, resourcesOfType, statementsOfRole, synth } from './synth.ts';

function functions(template: Record<string, any>) {
  return resourcesOfType(template, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('Ffaas'));
}
const deliveryOf = (template: Record<string, any>) =>
  functions(template).find(([id]) => id.startsWith('FfaasWebhooksFnwebhookdelivery'))!;

describe('download URLs outside a request', () => {
  it("webhook deliveries: FFAAS_PUBLIC_URL is the API's execute-api URL with its stage, and the secret is readable", () => {
    const { template } = synth({ gpu: false });
    const [, fn] = deliveryOf(template);
    const env = fn.Properties.Environment.Variables;
    const url = JSON.stringify(env[ENV.PUBLIC_URL]);
    const restApi = resourcesOfType(template, 'AWS::ApiGateway::RestApi')[0]![0];
    const stage = resourcesOfType(template, 'AWS::ApiGateway::Stage')[0]![0];
    expect(url).toContain('https://');
    expect(url).toContain(`{"Ref":"${restApi}"}`);
    expect(url).toContain('.execute-api.');
    expect(url).toContain(`{"Ref":"${stage}"}`);
    const secret = resourcesOfType(template, 'AWS::SecretsManager::Secret').find(([id]) =>
      id.includes('DownloadUrlSecret'),
    )![0];
    expect(env[ENV.URL_SECRET_ARN]).toEqual({ Ref: secret });
    const statements = statementsOfRole(template, fn.Properties.Role['Fn::GetAtt'][0]);
    const read = statements.filter((s) => asArray<string>(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(read.flatMap((s) => asArray(s.Resource))).toEqual([{ Ref: secret }]);
    // API functions take the origin from the request: no fixed origin without the prop.
    const api = functions(template).filter(([id]) => id.startsWith('FfaasApiFn'));
    expect(api.length).toBeGreaterThan(10);
    for (const [, f] of api) expect(f.Properties.Environment.Variables[ENV.PUBLIC_URL]).toBeUndefined();
  });

  it('publicUrl (a custom domain) reaches every function, the webhook deliveries too', () => {
    const { template } = synth({ gpu: false, publicUrl: 'https://media.example.com' });
    expect(deliveryOf(template)[1].Properties.Environment.Variables[ENV.PUBLIC_URL]).toBe('https://media.example.com');
    for (const [id, f] of functions(template).filter(([id]) => id.startsWith('FfaasApiFn'))) {
      expect(f.Properties.Environment.Variables[ENV.PUBLIC_URL], id).toBe('https://media.example.com');
    }
  });
});
