import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { handlerEntry, type BackgroundHandlerName, type RouteHandlerName } from '../core/routes.ts';
import { LOCK_FILE, REPO_ROOT } from './paths.ts';

/**
 * Props of {@link FfaasFunction}: everything that differs between the service's Lambdas.
 * Runtime, architecture and bundling are the same for all of them and are not props.
 */
export interface FfaasFunctionProps {
  /** Handler folder name: the function's code is `lambdas/<handler>/index.ts`, export `handler`. */
  readonly handler: RouteHandlerName | BackgroundHandlerName;
  /** Environment variables (names from ENV in core/constants.ts). */
  readonly environment?: Record<string, string>;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * API Gateway gives up on an integration after 29 s, so route handlers stay below that.
   * @default Duration.seconds(15)
   */
  readonly timeout?: Duration;
  /** Retention of the function's log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the log group when the stack is deleted. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Active X-Ray tracing. @default false */
  readonly tracing?: boolean;
}

/**
 * Shim so that CommonJS dependencies bundled into an ESM output can still `require` Node
 * built-ins and use `__dirname` (esbuild leaves `require` calls of CJS code as they are).
 */
const ESM_REQUIRE_SHIM = [
  "import { createRequire as __ffaasCreateRequire } from 'node:module';",
  "import { fileURLToPath as __ffaasFileURLToPath } from 'node:url';",
  "import { dirname as __ffaasDirname } from 'node:path';",
  'const require = __ffaasCreateRequire(import.meta.url);',
  'const __filename = __ffaasFileURLToPath(import.meta.url);',
  'const __dirname = __ffaasDirname(__filename);',
].join(' ');

/**
 * One of the service's Lambda functions, with the defaults every one of them shares in one
 * place: Node 22 (the project's runtime everywhere), ARM64 (cheaper per GB-second, and nothing
 * here is architecture specific), an ESM bundle made by the local esbuild (never Docker), the
 * AWS SDK v3 left to the runtime, source maps on, and an explicit log group with a retention.
 */
/**
 * esbuild settings of every Lambda bundle; test/infrastructure/lambda-bundles.test.ts bundles
 * each handler with them to keep the bundles small (cold starts parse every byte).
 */
export const LAMBDA_BUNDLE = {
  target: 'node22',
  minify: true,
  mainFields: ['module', 'main'],
  // The nodejs22.x runtime ships the AWS SDK v3; bundling it would only grow cold starts.
  externalModules: ['@aws-sdk/*'],
} as const;

/** esbuild `define` of a bundle: whether the Powertools Tracer is compiled in (lambdas/common/observability.ts). */
export const tracingDefine = (tracing: boolean): Record<string, string> => ({
  'process.env.FFAAS_TRACING': JSON.stringify(tracing ? 'true' : 'false'),
});

export class FfaasFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: FfaasFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: path.join(REPO_ROOT, handlerEntry(props.handler)),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: LOCK_FILE,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(15),
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        platform: 'node',
        target: LAMBDA_BUNDLE.target,
        minify: LAMBDA_BUNDLE.minify,
        mainFields: [...LAMBDA_BUNDLE.mainFields],
        externalModules: [...LAMBDA_BUNDLE.externalModules],
        define: tracingDefine(props.tracing ?? false),
        sourceMap: true,
        banner: ESM_REQUIRE_SHIM,
        forceDockerBundling: false,
      },
    });
  }
}
