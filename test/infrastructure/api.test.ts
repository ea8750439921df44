import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ErrorEnvelopeSchema } from '../../core/api/responses.ts';
import { ENV, TABLE } from '../../core/constants.ts';
import { BACKGROUND_HANDLERS, ROUTES, ROUTE_HANDLERS, routePaths } from '../../core/routes.ts';
import { STACK_OUTPUTS } from '../../lib/outputs.ts';
import { asArray, resourcesOfType, statementsOfRole, synth } from './synth.ts';

const { template, assert } = synth({ gpu: false });
const R = template.Resources as Record<string, any>;

/** Full path of an AWS::ApiGateway::Resource, from its PathPart chain. */
function pathOf(resourceRef: any): string {
  if (resourceRef['Fn::GetAtt']) return ''; // the API root
  const r = R[resourceRef.Ref];
  return `${pathOf(r.Properties.ParentId)}/${r.Properties.PathPart}`;
}
const methods = resourcesOfType(template, 'AWS::ApiGateway::Method').map(([, m]) => ({
  path: pathOf(m.Properties.ResourceId),
  method: m.Properties.HttpMethod,
  auth: m.Properties.AuthorizationType,
  authorizer: m.Properties.AuthorizerId,
  functionId: JSON.stringify(m.Properties.Integration.Uri).match(/"(FfaasApiFn[A-Za-z0-9]+)"/)?.[1],
}));
const functions = resourcesOfType(template, 'AWS::Lambda::Function');
const fnIdOf = (handler: string) => {
  const compact = handler.replace(/-/g, '');
  const found = functions.find(
    ([id]) =>
      new RegExp(`^FfaasApiFn${compact}[A-F0-9]{8}$`).test(id) ||
      new RegExp(`^Ffaas(Reconciler|Webhooks|Sweeper)Fn${compact}[A-F0-9]{8}$`).test(id),
  );
  if (!found) throw new Error(`no function for ${handler}`);
  return found[0];
};
const tableIdKeyedBy = (sortKey: string) =>
  resourcesOfType(template, 'AWS::DynamoDB::Table').find(([, t]) =>
    t.Properties.KeySchema.some((k: any) => k.KeyType === 'RANGE' && k.AttributeName === sortKey),
  )![0];
const filesTableId = tableIdKeyedBy(TABLE.files.sortKey);
const commandsTableId = tableIdKeyedBy(TABLE.commands.sortKey);
const roleOf = (fnId: string) => R[fnId].Properties.Role['Fn::GetAtt'][0];
const actionsOf = (fnId: string) => statementsOfRole(template, roleOf(fnId)).flatMap((s) => asArray<string>(s.Action));

describe('API: routes', () => {
  it('serves every route under every base path, with the route table’s method', () => {
    expect(methods).toHaveLength(ROUTES.reduce((n, r) => n + routePaths(r).length, 0));
    for (const route of ROUTES) {
      for (const routePath of routePaths(route)) {
        const m = methods.find((x) => x.path === routePath && x.method === route.method);
        expect(m, `${route.method} ${routePath}`).toBeDefined();
        expect(m!.functionId).toBe(fnIdOf(route.handler));
      }
    }
  });

  it('guards exactly the auth routes with the API key authorizer (health, the validates and downloads are open)', () => {
    const [authorizerId, authorizer] = resourcesOfType(template, 'AWS::ApiGateway::Authorizer')[0];
    expect(authorizer.Properties.Type).toBe('REQUEST');
    // The key may come in X-API-KEY or Authorization: no identity source may be required, so no cache.
    expect(authorizer.Properties.IdentitySource ?? '').toBe('');
    expect(authorizer.Properties.AuthorizerResultTtlInSeconds).toBe(0);
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(fnIdOf('authorizer'));
    for (const route of ROUTES) {
      for (const routePath of routePaths(route)) {
        const m = methods.find((x) => x.path === routePath && x.method === route.method)!;
        if (route.auth) {
          expect(m.auth).toBe('CUSTOM');
          expect(m.authorizer).toEqual({ Ref: authorizerId });
        } else {
          expect(m.auth).toBe('NONE');
          expect(m.authorizer).toBeUndefined();
        }
      }
    }
    expect(
      ROUTES.filter((r) => !r.auth)
        .map((r) => r.handler)
        .sort(),
    ).toEqual(['download', 'health', 'openapi', 'rendobar-validate', 'validate']);
  });

  it('has stage throttling and JSON access logs', () => {
    assert.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          DataTraceEnabled: false,
          LoggingLevel: 'ERROR',
          ThrottlingBurstLimit: 100,
          ThrottlingRateLimit: 50,
        }),
      ]),
    });
    const [, stage] = resourcesOfType(template, 'AWS::ApiGateway::Stage')[0];
    expect(stage.Properties.AccessLogSetting.DestinationArn).toBeDefined();
    expect(stage.Properties.AccessLogSetting.Format).toContain('requestId');
  });
});

describe('API: gateway responses are the error envelope', () => {
  const responses = Object.fromEntries(
    resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => [
      r.Properties.ResponseType,
      r.Properties,
    ]),
  );
  const body = (type: string) => responses[type].ResponseTemplates['application/json'] as string;
  const asJson = (type: string) => JSON.parse(body(type).replaceAll('$context.error.messageString', '"x"'));

  it.each([
    ['UNAUTHORIZED', '401', 'UNAUTHORIZED'],
    ['ACCESS_DENIED', '401', 'UNAUTHORIZED'],
    ['MISSING_AUTHENTICATION_TOKEN', '404', 'NOT_FOUND'],
    ['REQUEST_TOO_LARGE', '413', 'PAYLOAD_TOO_LARGE'],
    ['THROTTLED', '429', 'RATE_LIMITED'],
    ['DEFAULT_5XX', undefined, 'INTERNAL_ERROR'],
    ['DEFAULT_4XX', undefined, 'INVALID_REQUEST'],
  ])('%s → %s {"error":{"code":"%s"},"message","detail"}', (type, status, code) => {
    expect(responses[type], type).toBeDefined();
    expect(responses[type].StatusCode).toBe(status);
    const parsed = asJson(type);
    expect(ErrorEnvelopeSchema.strict().parse(parsed)).toEqual(parsed);
    expect(parsed.error.code).toBe(code);
    expect(typeof parsed.error.message).toBe('string');
    expect(parsed.message).toBe(parsed.error.message);
    expect(parsed.detail).toBe(parsed.error.message);
    expect(responses[type].ResponseParameters['gatewayresponse.header.Content-Type']).toBe("'application/json'");
  });

  it('429 always carries Retry-After', () => {
    for (const type of ['THROTTLED', 'QUOTA_EXCEEDED']) {
      expect(responses[type].ResponseParameters['gatewayresponse.header.Retry-After']).toMatch(/^'\d+'$/);
    }
  });

  it('5xx never echoes API Gateway’s own message', () => {
    expect(body('DEFAULT_5XX')).not.toContain('$context');
  });
});

describe('API: functions', () => {
  it('one function per handler, Node 22 on arm64, ESM bundle, bounded timeout', () => {
    const handlers = [...ROUTE_HANDLERS, ...BACKGROUND_HANDLERS];
    expect(functions).toHaveLength(handlers.length);
    for (const h of handlers) {
      const p = R[fnIdOf(h)].Properties;
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Handler).toBe('index.handler');
      expect(p.Timeout).toBeLessThanOrEqual(h === 'sweeper' ? 120 : 60);
      expect(p.MemorySize).toBeGreaterThanOrEqual(256);
      expect(Object.keys(p.Environment.Variables)).toEqual(
        expect.arrayContaining([
          ENV.COMMANDS_TABLE,
          ENV.API_KEYS_TABLE,
          ENV.BUCKET,
          ENV.STATE_MACHINE_ARN,
          ENV.EVENT_BUS_NAME,
          ENV.GPU_ENABLED,
        ]),
      );
    }
    for (const h of ROUTE_HANDLERS) expect(R[fnIdOf(h)].Properties.Timeout).toBeLessThan(29);
    expect(R[fnIdOf('health')].Properties.Environment.Variables[ENV.GPU_ENABLED]).toBe('false');
  });

  it('submit handlers: PutItem on the commands table, GetItem on the files table (stored-file inputs), StartExecution, plus the control pieces (idempotency records, admission queries), nothing else', () => {
    for (const h of ['run-ffmpeg-command', 'run-chained-ffmpeg-commands', 'run-multiple-ffmpeg-commands']) {
      const actions = actionsOf(fnIdOf(h)).filter((a) => !a.startsWith('xray:'));
      expect([...new Set(actions)].sort(), h).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'states:StartExecution',
      ]);
      const statements = statementsOfRole(template, roleOf(fnIdOf(h)));
      const gets = statements
        .filter((s) => asArray<string>(s.Action).includes('dynamodb:GetItem'))
        .flatMap((s) => asArray<any>(s.Resource));
      expect(gets).toContainEqual({ 'Fn::GetAtt': [filesTableId, 'Arn'] });
    }
  });

  it('files handlers: the files table and files/* only; upload-file cannot read or delete', () => {
    const files = statementsOfRole(template, roleOf(fnIdOf('files')));
    const s3 = files.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('s3:')));
    for (const s of s3) for (const r of asArray<any>(s.Resource)) expect(r['Fn::Join'][1].at(-1)).toBe('/files/*');
    const ddb = files.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(JSON.stringify(ddb.flatMap((s) => s.Resource))).not.toContain(commandsTableId);
    expect(actionsOf(fnIdOf('files'))).toContain('states:StartExecution');

    const upload = actionsOf(fnIdOf('upload-file')).filter((a) => !a.startsWith('xray:'));
    expect(upload.sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem', 's3:PutObject']);

    const del = statementsOfRole(template, roleOf(fnIdOf('delete-command-files')));
    const delS3 = del.filter((s) => asArray<string>(s.Action).includes('s3:DeleteObject'));
    // files/*: the inputs the service stored for the command (Rendobar's inline content).
    expect(delS3.flatMap((s) => asArray<any>(s.Resource)).map((r) => r['Fn::Join'][1].at(-1))).toEqual([
      '/outputs/*',
      '/files/*',
    ]);

    expect(
      actionsOf(fnIdOf('presets'))
        .filter((a) => !a.startsWith('xray:'))
        .every((a) => a.startsWith('dynamodb:')),
    ).toBe(true);
  });

  it('multipart bodies reach the upload handler base64-encoded (binary media types)', () => {
    const [, api] = resourcesOfType(template, 'AWS::ApiGateway::RestApi')[0]!;
    expect(api.Properties.BinaryMediaTypes).toEqual(expect.arrayContaining(['multipart/form-data']));
  });

  it('get/list: GetItem/BatchGetItem/Query on commands (table, by_created, by_status) and GetObject on outputs/* only', () => {
    for (const h of ['get-command', 'list-commands']) {
      const statements = statementsOfRole(template, roleOf(fnIdOf(h)));
      const ddb = statements.find((s) => asArray<string>(s.Action).includes('dynamodb:Query'))!;
      expect(asArray<string>(ddb.Action).sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
      ]);
      expect(JSON.stringify(ddb.Resource)).toContain(`/index/${TABLE.commands.byCreatedIndex}`);
      expect(JSON.stringify(ddb.Resource)).toContain(`/index/${TABLE.commands.byStatusIndex}`);
      expect(JSON.stringify(ddb.Resource)).not.toContain('/index/*');
      const s3 = statements.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('s3:')));
      expect(s3.flatMap((s) => asArray<string>(s.Action))).toEqual(['s3:GetObject']);
      expect(s3[0].Resource['Fn::Join'][1].at(-1)).toBe('/outputs/*');
    }
  });

  it('authorizer: GetItem on the api keys table only; health and validate: no policy at all', () => {
    const statements = statementsOfRole(template, roleOf(fnIdOf('authorizer')));
    expect(statements.flatMap((s) => asArray<string>(s.Action))).toEqual(['dynamodb:GetItem']);
    const apiKeysTable = resourcesOfType(template, 'AWS::DynamoDB::Table').find(
      ([, t]) => t.Properties.KeySchema[0].AttributeName === TABLE.apiKeys.partitionKey,
    )![0];
    expect(statements[0].Resource).toEqual({ 'Fn::GetAtt': [apiKeysTable, 'Arn'] });
    for (const h of ['health', 'validate']) expect(statementsOfRole(template, roleOf(fnIdOf(h)))).toEqual([]);
  });

  it('reconciler: runs every minute; Query on the pending index, GetItem, UpdateItem (clearPending), StartExecution', () => {
    const id = fnIdOf('reconciler');
    assert.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    const statements = statementsOfRole(template, roleOf(id));
    expect(statements.flatMap((s) => asArray<string>(s.Action)).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'states:StartExecution',
    ]);
    const query = statements.find((s) => s.Action === 'dynamodb:Query')!;
    expect(query.Resource['Fn::Join'][1].at(-1)).toBe(`/index/${TABLE.commands.pendingIndex}`);
  });
});

describe('stack outputs', () => {
  it('has every STACK_OUTPUTS key as an output logical id', () => {
    // ConsoleUrl exists only with the console prop (test/infrastructure/console-site.test.ts).
    for (const key of Object.values(STACK_OUTPUTS))
      if (key !== STACK_OUTPUTS.consoleUrl) expect(template.Outputs[key], key).toBeDefined();
    expect(template.Outputs[STACK_OUTPUTS.commandsTableName].Value).toEqual({
      Ref: resourcesOfType(template, 'AWS::DynamoDB::Table').find(([, t]) => t.Properties.KeySchema.length === 2)![0],
    });
  });
});

describe('API: download URLs', () => {
  const [secretId, secret] = resourcesOfType(template, 'AWS::SecretsManager::Secret')[0]!;
  const envOf = (fnId: string) => (R[fnId].Properties.Environment?.Variables ?? {}) as Record<string, unknown>;

  it('a generated secret signs them; only the handlers that mint or check URLs can read it, by ARN from their environment', () => {
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    const readers = ['get-command', 'list-commands', 'download', 'rendobar-get-job'];
    for (const handler of ROUTE_HANDLERS) {
      const fnId = fnIdOf(handler);
      const reads = actionsOf(fnId).includes('secretsmanager:GetSecretValue');
      expect(reads, handler).toBe(readers.includes(handler));
      if (reads) expect(envOf(fnId)[ENV.URL_SECRET_ARN]).toEqual({ Ref: secretId });
      expect(envOf(fnId)[ENV.URL_SECRET], handler).toBeUndefined();
    }
  });

  it('the download route is open (the token is the credential) and may read outputs and stored files, nothing else', () => {
    const m = methods.find((x) => x.path === '/v/{id}/{token}/{name}' && x.method === 'GET')!;
    expect(m.auth).toBe('NONE');
    const statements = statementsOfRole(template, roleOf(fnIdOf('download')));
    const s3 = statements.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3.flatMap((s) => asArray<string>(s.Action))).toEqual(['s3:GetObject']);
    expect(JSON.stringify(s3.map((s) => s.Resource))).toMatch(/outputs\/\*.*files\/\*/);
    expect(actionsOf(fnIdOf('download')).some((a) => a.startsWith('dynamodb:'))).toBe(false);
  });

  it('Rendobar routes are at the root: /jobs and /jobs/{job_id} behind the authorizer, /ffmpeg/validate open', () => {
    expect(methods.find((x) => x.path === '/jobs' && x.method === 'POST')!.auth).toBe('CUSTOM');
    expect(methods.find((x) => x.path === '/jobs/{job_id}' && x.method === 'GET')!.auth).toBe('CUSTOM');
    expect(methods.find((x) => x.path === '/ffmpeg/validate' && x.method === 'POST')!.auth).toBe('NONE');
  });
});
