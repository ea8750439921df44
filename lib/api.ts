import { Duration, Validations, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { stopWorkerTaskStatement } from './workers.ts';
import { ENV, TABLE, type ApiErrorCode } from '../core/constants.ts';
import { errorEnvelope } from '../core/api/errors.ts';
import {
  API_BASE_PATHS,
  BINARY_MEDIA_TYPES,
  ROUTES,
  ROUTE_HANDLERS,
  routePaths,
  type RouteHandlerName,
} from '../core/routes.ts';
import { acknowledgePreflights, corsPreflight } from './console-site.ts';
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
  /** Idempotency-Key records the submit handlers read and write. */
  readonly idempotencyTable: dynamodb.ITable;
  readonly bucket: s3.IBucket;
  readonly stateMachine: sfn.IStateMachine;
  /** The accounts table (the webhook config lives on the account item). */
  readonly accountsTable: dynamodb.ITable;
  /** Webhook deliveries and their retry queue (FfaasWebhooks). */
  readonly webhookDeliveriesTable: dynamodb.ITable;
  readonly webhookQueue: sqs.IQueue;
  /** Encrypts webhook secrets (webhook-config may only encrypt with it). */
  readonly webhookSecretKey: kms.IKey;
  /** The bus a cancel publishes the command's FAILED event on. */
  readonly eventBus: events.IEventBus;
  /** The workers' cluster: cancel stops a worker's task there (ecs:StopTask, scoped to it). @default - no StopTask grant */
  readonly workerCluster?: ecs.ICluster;
  /**
   * Environment every function gets (ENV names → values: tables, bucket, state machine, bus,
   * GPU switch). Names are not secrets; access is what the IAM grants below allow.
   */
  readonly environment: Record<string, string>;
  /** @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: FfaasApiThrottle;
  /**
   * Per-account throttle (issue 12): a usage plan whose per-key throttle applies to each account's
   * API Gateway key, which the authorizer names by `usageIdentifierKey` (key source AUTHORIZER).
   * `ffaas keys create --stack` creates an account's key and adds it to the plan (`UsagePlanId`
   * output). `false` turns it off (then only the stage throttle applies).
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly accountThrottle?: FfaasApiThrottle | false;
  /**
   * How long API Gateway caches the authorizer's answer. A cache needs identity sources that
   * are all present on every request, but a key may come in X-API-KEY or in Authorization
   * (Bearer), so a non-zero TTL is refused; the authorizer runs per request (one GetItem).
   * @default Duration.seconds(0)
   */
  readonly authorizerCacheTtl?: Duration;
  /**
   * A browser origin allowed to call the API (the console's site, `https://…`): CORS preflights
   * on every resource and the Access-Control-Allow-Origin header on every answer.
   * @default - none: no CORS
   */
  readonly corsOrigin?: string;
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
  'rendobar-submit-job': 512,
  'rendobar-validate': 512,
  // Holds the multipart body (up to LIMITS.maxUploadBodyBytes, base64) and the parsed file.
  'upload-file': 512,
  'rendobar-assets': 512,
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
  {
    type: apigw.ResponseType.UNAUTHORIZED,
    statusCode: '401',
    code: 'UNAUTHORIZED',
    message: 'Missing or invalid API key',
  },
  // The authorizer denies unknown or revoked keys: docs/API.md answers those with 401 as well.
  {
    type: apigw.ResponseType.ACCESS_DENIED,
    statusCode: '401',
    code: 'UNAUTHORIZED',
    message: 'Missing or invalid API key',
  },
  // API Gateway answers an unknown path with 403 "Missing Authentication Token"; docs/API.md says 404.
  {
    type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    code: 'NOT_FOUND',
    message: 'No such route',
  },
  { type: apigw.ResponseType.RESOURCE_NOT_FOUND, statusCode: '404', code: 'NOT_FOUND', message: 'No such route' },
  {
    type: apigw.ResponseType.REQUEST_TOO_LARGE,
    statusCode: '413',
    code: 'PAYLOAD_TOO_LARGE',
    message: 'Request body too large',
  },
  {
    type: apigw.ResponseType.THROTTLED,
    statusCode: '429',
    code: 'RATE_LIMITED',
    message: 'Too many requests',
    retryAfterSeconds: 1,
  },
  {
    type: apigw.ResponseType.QUOTA_EXCEEDED,
    statusCode: '429',
    code: 'RATE_LIMITED',
    message: 'Quota exceeded',
    retryAfterSeconds: 60,
  },
  { type: apigw.ResponseType.DEFAULT_4XX, code: 'INVALID_REQUEST' },
  // Never API Gateway's own text for 5xx: it may describe internals.
  { type: apigw.ResponseType.DEFAULT_5XX, code: 'INTERNAL_ERROR', message: 'Internal error' },
];

/**
 * The public REST API: every route of ROUTES under each of its base paths (routePaths), one
 * Lambda per handler (shared by both base paths), the X-API-KEY REQUEST authorizer on the routes
 * with `auth`, API Gateway's own errors shaped as the docs/API.md envelope, stage throttling and
 * JSON access logs.
 *
 * The authorizer reads the key from X-API-KEY or `Authorization: Bearer`, so it has no identity
 * sources and is not cached (API Gateway would answer 401 when one of the headers is missing).
 * Its policy still allows the whole API (`…/api-id/stage/*`), so turning a cache on later is safe.
 */
export class FfaasApi extends Construct {
  readonly restApi: apigw.RestApi;
  readonly authorizer: apigw.RequestAuthorizer;
  /** The per-account usage plan (undefined when accountThrottle is false). */
  readonly usagePlan?: apigw.UsagePlan;
  readonly functions: Readonly<Record<RouteHandlerName, FfaasFunction>>;
  readonly authorizerFunction: FfaasFunction;
  readonly accessLogs: logs.LogGroup;
  /** HMAC secret of the /v/ download URLs (generated; read once per container by the handlers that mint or check them). */
  readonly downloadUrlSecret: secretsmanager.Secret;
  /** Methods without the authorizer (routes with `auth: false`), on every base path. */
  readonly openMethods: apigw.Method[] = [];

  constructor(scope: Construct, id: string, props: FfaasApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    const fns = {} as Record<RouteHandlerName, FfaasFunction>;
    for (const handler of ROUTE_HANDLERS) {
      fns[handler] = new FfaasFunction(this, `Fn-${handler}`, {
        handler,
        environment: props.corsOrigin
          ? { ...props.environment, [ENV.CORS_ORIGIN]: props.corsOrigin }
          : props.environment,
        memorySize: MEMORY[handler] ?? 256,
        timeout: Duration.seconds(20),
        logRetention,
        tracing: props.tracing,
      });
    }
    this.functions = fns;
    this.downloadUrlSecret = new secretsmanager.Secret(this, 'DownloadUrlSecret', {
      description: 'ffaas: HMAC key of the /v/{id}/{token}/{name} download URLs',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    // Rotating the HMAC key would only void every download URL handed out (they are minted
    // afresh on each poll anyway); an operator who wants rotation can add it without code change.
    Validations.of(this.downloadUrlSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The download-URL HMAC key is not rotated automatically: rotation voids outstanding URLs, which polls re-mint anyway.',
    });
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

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      description: 'ffaas: FFmpeg as a Service',
      // control (issue 12): the usage-plan key comes from the authorizer, never from a header.
      ...(props.accountThrottle !== false ? { apiKeySourceType: apigw.ApiKeySourceType.AUTHORIZER } : {}),
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // POST /files/upload: multipart bodies reach the Lambda base64-encoded, byte for byte.
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      ...(props.corsOrigin ? { defaultCorsPreflightOptions: corsPreflight(props.corsOrigin) } : {}),
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
      // Either header may carry the key: no identity source is required by API Gateway.
      identitySources: [],
      resultsCacheTtl: this.checkedCacheTtl(props.authorizerCacheTtl),
    });

    const integrations = new Map<RouteHandlerName, apigw.LambdaIntegration>();
    for (const route of ROUTES) {
      let integration = integrations.get(route.handler);
      if (!integration) {
        integration = new apigw.LambdaIntegration(fns[route.handler], { allowTestInvoke: false });
        integrations.set(route.handler, integration);
      }
      for (const routePath of routePaths(route)) {
        const resource = this.restApi.root.resourceForPath(routePath);
        const method = resource.addMethod(
          route.method,
          integration,
          route.auth
            ? {
                authorizer: this.authorizer,
                authorizationType: apigw.AuthorizationType.CUSTOM,
                apiKeyRequired: props.accountThrottle !== false,
              }
            : { authorizationType: apigw.AuthorizationType.NONE },
        );
        if (!route.auth) this.openMethods.push(method);
      }
    }

    if (props.corsOrigin) acknowledgePreflights(this.restApi);

    // control (issue 12): one usage plan; each account's key in it gets this throttle of its own.
    if (props.accountThrottle !== false) {
      this.usagePlan = this.restApi.addUsagePlan('AccountUsagePlan', {
        description: 'ffaas: per-account throttle (one API key per account, named by the authorizer)',
        throttle: {
          rateLimit: props.accountThrottle?.rateLimit ?? 10,
          burstLimit: props.accountThrottle?.burstLimit ?? 20,
        },
        apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
      });
    }

    for (const r of GATEWAY_RESPONSES) {
      this.restApi.addGatewayResponse(`Response${r.type.responseType}`, {
        type: r.type,
        statusCode: r.statusCode,
        responseHeaders: {
          'Content-Type': "'application/json'",
          ...(r.retryAfterSeconds !== undefined ? { 'Retry-After': `'${r.retryAfterSeconds}'` } : {}),
          ...(props.corsOrigin ? { 'Access-Control-Allow-Origin': `'${props.corsOrigin}'` } : {}),
        },
        templates: { 'application/json': gatewayErrorTemplate(r.code, r.message) },
      });
    }
  }

  private checkedCacheTtl(ttl: Duration | undefined): Duration {
    if (ttl && ttl.toSeconds() > 0) {
      throw new Error(
        'authorizerCacheTtl must be 0: the key may come in X-API-KEY or Authorization, and a cache needs identity sources present on every request',
      );
    }
    return Duration.seconds(0);
  }

  /**
   * Least privilege per handler. The Record type makes adding a handler to ROUTE_HANDLERS a
   * compile error here until its access is decided.
   */
  private grantRouteAccess(props: FfaasApiProps): void {
    const submit = (fn: FfaasFunction) => {
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [props.commandsTable.tableArn] }),
      );
      props.stateMachine.grantStartExecution(fn);
      // Admission (lambdas/common/admission.ts): queued count on the pending index, today's usage
      // from the KEYS_ONLY by_created index and the items by BatchGetItem.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [
            `${props.commandsTable.tableArn}/index/${TABLE.commands.pendingIndex}`,
            `${props.commandsTable.tableArn}/index/${TABLE.commands.byCreatedIndex}`,
          ],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:BatchGetItem'], resources: [props.commandsTable.tableArn] }),
      );
      // Powertools idempotency: conditional put, get, update with the answer, delete on failure.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          resources: [props.idempotencyTable.tableArn],
        }),
      );
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
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [props.bucket.arnForObjects(`${BUCKET_PREFIX.outputs}*`)],
        }),
      );
    };
    const deliveries = props.webhookDeliveriesTable;
    const allow = (fn: FfaasFunction, actions: string[], resources: string[]) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    // control (issue 12): cancel writes the lifecycle's `cancel` step, stops the execution,
    // deletes partial outputs and publishes the FAILED event; usage reads the by_created index.
    const cancel = (fn: FfaasFunction) => {
      read(fn);
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [props.commandsTable.tableArn] }),
      );
      // On the state machine's executions (arn:…:execution:<name>:*).
      props.stateMachine.grantExecution(fn, 'states:StopExecution');
      // The worker's task, in the workers' cluster only (its ARN is recorded on the item).
      if (props.workerCluster) fn.addToRolePolicy(stopWorkerTaskStatement(this, props.workerCluster));
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:DeleteObject'],
          // files/: the inputs the service stored for the command (S3_KEYS.commandInput).
          resources: [
            props.bucket.arnForObjects(`${BUCKET_PREFIX.outputs}*`),
            props.bucket.arnForObjects(`${BUCKET_PREFIX.files}*`),
          ],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [props.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${BUCKET_PREFIX.outputs}*`, `${BUCKET_PREFIX.files}*`] } },
        }),
      );
      props.eventBus.grantPutEventsTo(fn);
    };
    const none = () => undefined;
    /** Handlers that mint or check download URLs read the secret (by ARN, from the environment). */
    const downloads = (fn: FfaasFunction) => {
      this.downloadUrlSecret.grantRead(fn);
      fn.addEnvironment(ENV.URL_SECRET_ARN, this.downloadUrlSecret.secretArn);
    };
    const filesPrefix = props.bucket.arnForObjects(`${BUCKET_PREFIX.files}*`);
    const filesTable = (actions: string[], withIndex = false) =>
      new iam.PolicyStatement({
        actions,
        resources: [
          props.filesTable.tableArn,
          ...(withIndex ? [`${props.filesTable.tableArn}/index/${TABLE.files.byCreatedIndex}`] : []),
        ],
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
      // Writes the item, then the object (deletes the item again when the object fails).
      'upload-file': (fn) => {
        fn.addToRolePolicy(filesTable(['dynamodb:PutItem', 'dynamodb:DeleteItem']));
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [filesPrefix] }));
      },
      // Every JSON files route: items, presigned PUT/part URLs, multipart, signed GETs, deletes, store-file's start.
      files: (fn) => {
        fn.addToRolePolicy(
          filesTable(
            ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
            true,
          ),
        );
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: [
              's3:PutObject',
              's3:GetObject',
              's3:DeleteObject',
              's3:AbortMultipartUpload',
              's3:ListMultipartUploadParts',
            ],
            resources: [filesPrefix],
          }),
        );
        props.fileIngest.grantStartExecution(fn);
      },
      'delete-command-files': (fn) => {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
            resources: [props.commandsTable.tableArn],
          }),
        );
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['s3:DeleteObject'],
            resources: [props.bucket.arnForObjects(`${BUCKET_PREFIX.outputs}*`), filesPrefix],
          }),
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
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.presetsTable.tableArn] }),
        );
      },
      'get-command': (fn) => {
        read(fn);
        downloads(fn);
        // The poll shows the command's webhook deliveries.
        allow(fn, ['dynamodb:GetItem'], [deliveries.tableArn]);
      },
      'list-commands': (fn) => (read(fn), downloads(fn)),
      'webhook-config': (fn) => {
        allow(fn, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [props.accountsTable.tableArn]);
        allow(fn, ['kms:Encrypt'], [props.webhookSecretKey.keyArn]);
      },
      'command-webhooks': (fn) => allow(fn, ['dynamodb:GetItem'], [props.commandsTable.tableArn, deliveries.tableArn]),
      'redeliver-webhook': (fn) => {
        allow(fn, ['dynamodb:GetItem'], [props.commandsTable.tableArn, props.accountsTable.tableArn]);
        allow(fn, ['dynamodb:GetItem', 'dynamodb:PutItem'], [deliveries.tableArn]);
        props.webhookQueue.grantSendMessages(fn);
      },
      'webhook-deliveries': (fn) =>
        allow(fn, ['dynamodb:Query'], [`${deliveries.tableArn}/index/${TABLE.webhookDeliveries.byUpdatedIndex}`]),
      'cancel-command': cancel,
      'get-usage': read,
      // HeadObject/GetObject of outputs and stored files, presigned redirects signed with its role.
      download: (fn) => {
        downloads(fn);
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['s3:GetObject'],
            resources: [
              props.bucket.arnForObjects(`${BUCKET_PREFIX.outputs}*`),
              props.bucket.arnForObjects(`${BUCKET_PREFIX.files}*`),
            ],
          }),
        );
      },
      // Inline {content} inputs are stored under files/ before the command is recorded.
      'rendobar-submit-job': (fn) => {
        submitWithFiles(fn);
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [filesPrefix] }));
      },
      'rendobar-get-job': (fn) => {
        read(fn);
        downloads(fn);
        // The sizes of a playlist's or sequence's files: a listing of the command's outputs.
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['s3:ListBucket'],
            resources: [props.bucket.bucketArn],
            conditions: { StringLike: { 's3:prefix': [`${BUCKET_PREFIX.outputs}*`] } },
          }),
        );
      },
      'rendobar-validate': none,
      'rendobar-cancel-job': cancel,
      // Uploads as upload-file does; GET reads the item, content signs a GET of the object.
      'rendobar-assets': (fn) => {
        fn.addToRolePolicy(filesTable(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem']));
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [filesPrefix] }),
        );
      },
      openapi: none,
    };
    for (const handler of ROUTE_HANDLERS) grants[handler](this.functions[handler]);
  }
}
