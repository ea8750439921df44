import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { API_KEY_HEADER, TABLE, type ApiErrorCode } from '../core/constants.ts';
import { errorEnvelope } from '../core/api/errors.ts';
import { API_BASE_PATHS, BINARY_MEDIA_TYPES, ROUTES, ROUTE_HANDLERS, type RouteHandlerName } from '../core/routes.ts';
import { FfaasFunction } from './function.ts';
import { BUCKET_PREFIX } from './storage.ts';

/** Stage-wide request throttling (API Gateway token bucket). */
export interface FfaasApiThrottle {
  /** Steady-state requests per second. @default 50 */
  readonly rateLimit?: number;
  /** Burst size. @default 100 */
  readonly burstLimit?: number;
}

/** Props of {@link FfaasApi}. */
export interface FfaasApiProps {
  readonly commandsTable: dynamodb.ITable;
  readonly apiKeysTable: dynamodb.ITable;
  /** Stored files and presets (issue 10). */
  readonly filesTable: dynamodb.ITable;
  readonly presetsTable: dynamodb.ITable;
  /** The file ingest state machine store-file starts (lib/files.ts). */
  readonly fileIngest: sfn.IStateMachine;
  readonly bucket: s3.IBucket;
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Environment every function gets (ENV names → values: tables, bucket, state machine, bus,
   * GPU switch). Names are not secrets; access is what the IAM grants below allow.
   */
  readonly environment: Record<string, string>;
  /** @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: FfaasApiThrottle;
  /** How long API Gateway caches the authorizer's answer per API key. @default Duration.minutes(5) */
  readonly authorizerCacheTtl?: Duration;
  /** Name of the stage (first path segment of the URL). @default 'prod' */
  readonly stageName?: string;
  /** Retention of the access and function logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** X-Ray tracing of the stage and the functions. @default false */
  readonly tracing?: boolean;
}

/** Memory per handler: the submit handlers parse commands, the rest are I/O only. */
const MEMORY: Partial<Record<RouteHandlerName, number>> = {
  'run-ffmpeg-command': 512,
  'run-chained-ffmpeg-commands': 512,
  'run-multiple-ffmpeg-commands': 512,
  validate: 512,
  // Holds the multipart body (up to LIMITS.maxUploadBodyBytes, base64) and the parsed file.
  'upload-file': 512,
  'execute-preset': 512,
  presets: 512,
};

/**
 * The error envelope (docs/API.md "Errors") for answers API Gateway gives itself (no Lambda
 * involved), built by the handlers' own errorEnvelope so the shapes cannot differ. `message` is
 * either a fixed text or API Gateway's own message (`$context.error.messageString`, which API
 * Gateway substitutes already JSON-quoted).
 */
export function gatewayErrorTemplate(code: ApiErrorCode, message?: string): string {
  const slot = '@@message@@';
  const msg = message === undefined ? '$context.error.messageString' : JSON.stringify(message);
  return JSON.stringify(errorEnvelope({ code, message: slot })).replaceAll(JSON.stringify(slot), msg);
}

/** Gateway responses: type → status and envelope (status undefined keeps API Gateway's). */
const GATEWAY_RESPONSES: ReadonlyArray<{
  type: apigw.ResponseType;
  statusCode?: string;
  code: ApiErrorCode;
  message?: string;
  retryAfterSeconds?: number;
}> = [
  { type: apigw.ResponseType.UNAUTHORIZED, statusCode: '401', code: 'UNAUTHORIZED', message: 'Missing or invalid API key' },
  // The authorizer denies unknown or revoked keys: docs/API.md answers those with 401 as well.
  { type: apigw.ResponseType.ACCESS_DENIED, statusCode: '401', code: 'UNAUTHORIZED', message: 'Missing or invalid API key' },
  // API Gateway answers an unknown path with 403 "Missing Authentication Token"; docs/API.md says 404.
  { type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '404', code: 'NOT_FOUND', message: 'No such route' },
  { type: apigw.ResponseType.RESOURCE_NOT_FOUND, statusCode: '404', code: 'NOT_FOUND', message: 'No such route' },
  { type: apigw.ResponseType.REQUEST_TOO_LARGE, statusCode: '413', code: 'PAYLOAD_TOO_LARGE', message: 'Request body too large' },
  { type: apigw.ResponseType.THROTTLED, statusCode: '429', code: 'RATE_LIMITED', message: 'Too many requests', retryAfterSeconds: 1 },
  { type: apigw.ResponseType.QUOTA_EXCEEDED, statusCode: '429', code: 'RATE_LIMITED', message: 'Quota exceeded', retryAfterSeconds: 60 },
  { type: apigw.ResponseType.DEFAULT_4XX, code: 'INVALID_REQUEST' },
  // Never API Gateway's own text for 5xx: it may describe internals.
  { type: apigw.ResponseType.DEFAULT_5XX, code: 'INTERNAL_ERROR', message: 'Internal error' },
];

/**
 * The public REST API: every route of ROUTES under every base path of API_BASE_PATHS, one
 * Lambda per handler (shared by both base paths), the X-API-KEY REQUEST authorizer on the routes
 * with `auth`, API Gateway's own errors shaped as the docs/API.md envelope, stage throttling and
 * JSON access logs.
 *
 * The authorizer's answer is cached per key for `authorizerCacheTtl`: its policy must allow the
 * whole API (e.g. `arn:…:execute-api:region:account:api-id/stage/*`), not only the method that
 * triggered it, or cached answers deny the other routes.
 */
export class FfaasApi extends Construct {
  readonly restApi: apigw.RestApi;
  readonly authorizer: apigw.RequestAuthorizer;
  readonly functions: Readonly<Record<RouteHandlerName, FfaasFunction>>;
  readonly authorizerFunction: FfaasFunction;
  readonly accessLogs: logs.LogGroup;
  /** Methods without the authorizer (routes with `auth: false`), on every base path. */
  readonly openMethods: apigw.Method[] = [];

  constructor(scope: Construct, id: string, props: FfaasApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    const fns = {} as Record<RouteHandlerName, FfaasFunction>;
    for (const handler of ROUTE_HANDLERS) {
      fns[handler] = new FfaasFunction(this, `Fn-${handler}`, {
        handler,
        environment: props.environment,
        memorySize: MEMORY[handler] ?? 256,
        timeout: Duration.seconds(20),
        logRetention,
        tracing: props.tracing,
      });
    }
    this.functions = fns;
    this.grantRouteAccess(props);

    this.authorizerFunction = new FfaasFunction(this, 'Fn-authorizer', {
      handler: 'authorizer',
      environment: props.environment,
      timeout: Duration.seconds(10),
      logRetention,
      tracing: props.tracing,
    });
    this.authorizerFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.apiKeysTable.tableArn] }),
    );

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      description: 'ffaas: FFmpeg as a Service',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // POST /files/upload: multipart bodies reach the Lambda base64-encoded, byte for byte.
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      // The account-level role API Gateway needs to write logs; kept on delete because it is a
      // per-region setting other APIs of the account may rely on.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        throttlingRateLimit: props.throttle?.rateLimit ?? 50,
        throttlingBurstLimit: props.throttle?.burstLimit ?? 100,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: props.tracing ?? false,
      },
    });

    this.authorizer = new apigw.RequestAuthorizer(this, 'ApiKeyAuthorizer', {
      handler: this.authorizerFunction,
      identitySources: [apigw.IdentitySource.header(API_KEY_HEADER)],
      resultsCacheTtl: props.authorizerCacheTtl ?? Duration.minutes(5),
    });

    const integrations = new Map<RouteHandlerName, apigw.LambdaIntegration>();
    for (const route of ROUTES) {
      let integration = integrations.get(route.handler);
      if (!integration) {
        integration = new apigw.LambdaIntegration(fns[route.handler], { allowTestInvoke: false });
        integrations.set(route.handler, integration);
      }
      for (const base of API_BASE_PATHS) {
        const resource = this.restApi.root.resourceForPath(`${base}${route.path}`);
        const method = resource.addMethod(
          route.method,
          integration,
          route.auth
            ? { authorizer: this.authorizer, authorizationType: apigw.AuthorizationType.CUSTOM }
            : { authorizationType: apigw.AuthorizationType.NONE },
        );
        if (!route.auth) this.openMethods.push(method);
      }
    }

    for (const r of GATEWAY_RESPONSES) {
      this.restApi.addGatewayResponse(`Response${r.type.responseType}`, {
        type: r.type,
        statusCode: r.statusCode,
        responseHeaders: {
          'Content-Type': "'application/json'",
          ...(r.retryAfterSeconds !== undefined ? { 'Retry-After': `'${r.retryAfterSeconds}'` } : {}),
        },
        templates: { 'application/json': gatewayErrorTemplate(r.code, r.message) },
      });
    }
  }

  /**
   * Least privilege per handler. The Record type makes adding a handler to ROUTE_HANDLERS a
   * compile error here until its access is decided.
   */
  private grantRouteAccess(props: FfaasApiProps): void {
    const submit = (fn: FfaasFunction) => {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [props.commandsTable.tableArn] }));
      props.stateMachine.grantStartExecution(fn);
    };
    const read = (fn: FfaasFunction) => {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
          resources: [
            props.commandsTable.tableArn,
            `${props.commandsTable.tableArn}/index/${TABLE.commands.byCreatedIndex}`,
            `${props.commandsTable.tableArn}/index/${TABLE.commands.byStatusIndex}`,
          ],
        }),
      );
      // Presigned GET URLs are signed with the function's credentials.
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.bucket.arnForObjects(`${BUCKET_PREFIX.outputs}*`)] }),
      );
    };
    const none = () => undefined;
    const filesPrefix = props.bucket.arnForObjects(`${BUCKET_PREFIX.files}*`);
    const filesTable = (actions: string[], withIndex = false) =>
      new iam.PolicyStatement({
        actions,
        resources: [props.filesTable.tableArn, ...(withIndex ? [`${props.filesTable.tableArn}/index/${TABLE.files.byCreatedIndex}`] : [])],
      });
    /** Submits read the files table: a stored file named as an input must be the caller's and STORED. */
    const submitWithFiles = (fn: FfaasFunction) => {
      submit(fn);
      fn.addToRolePolicy(filesTable(['dynamodb:GetItem']));
    };
    const grants: Record<RouteHandlerName, (fn: FfaasFunction) => void> = {
      health: none,
      validate: none,
      'run-ffmpeg-command': submitWithFiles,
      'run-chained-ffmpeg-commands': submitWithFiles,
      'run-multiple-ffmpeg-commands': submitWithFiles,
      'get-command': read,
      'list-commands': read,
      // Writes the item, then the object (deletes the item again when the object fails).
      'upload-file': (fn) => {
        fn.addToRolePolicy(filesTable(['dynamodb:PutItem', 'dynamodb:DeleteItem']));
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [filesPrefix] }));
      },
      // Every JSON files route: items, presigned PUT/part URLs, multipart, signed GETs, deletes, store-file's start.
      files: (fn) => {
        fn.addToRolePolicy(filesTable(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'], true));
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
            resources: [filesPrefix],
          }),
        );
        props.fileIngest.grantStartExecution(fn);
      },
      'delete-command-files': (fn) => {
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.commandsTable.tableArn] }),
        );
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [props.bucket.arnForObjects(`${BUCKET_PREFIX.outputs}*`)] }),
        );
      },
      presets: (fn) => {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
            resources: [props.presetsTable.tableArn],
          }),
        );
      },
      'execute-preset': (fn) => {
        submitWithFiles(fn);
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.presetsTable.tableArn] }));
      },
    };
    for (const handler of ROUTE_HANDLERS) grants[handler](this.functions[handler]);
  }
}
