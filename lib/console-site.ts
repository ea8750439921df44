import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeGeneratedWildcards } from './nag.ts';
import { REPO_ROOT } from './paths.ts';

/** The file the console reads at start for the API it talks to (console/console.js). */
export const CONSOLE_CONFIG_FILE = 'config.json';

/** Props of {@link FfaasConsoleSite}. */
export interface FfaasConsoleSiteProps {
  /** Removal policy of the site's bucket (it holds only the console's static files). @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** Edge locations the site is served from. @default cloudfront.PriceClass.PRICE_CLASS_100 */
  readonly priceClass?: cloudfront.PriceClass;
}

const ack = (scope: IConstruct, ...rules: { id: string; reason: string }[]) =>
  Validations.of(scope).acknowledge(...rules);

/**
 * The web console (console/) as a static site: a private S3 bucket behind CloudFront with
 * origin access control. `url` is the console's origin: give it to the API as its CORS origin
 * (FfaasApi `corsOrigin`), then `deploy(apiUrl)` uploads the files and a config.json naming
 * the API, so the page opens connected to it (only the key is asked for).
 */
export class FfaasConsoleSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<distribution domain>`: the console's origin, without a trailing slash. */
  readonly url: string;
  private deployment?: s3deploy.BucketDeployment;

  constructor(scope: Construct, id: string, props: FfaasConsoleSiteProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'ffaas web console',
      defaultRootObject: 'index.html',
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}`;

    ack(this.bucket, {
      id: 'AwsSolutions-S1',
      reason: "The bucket holds only the console's public static files, deployed by the stack; CloudFront serves them.",
    });
    ack(
      this.distribution,
      { id: 'AwsSolutions-CFR1', reason: 'The console is static files; who may use the API is decided by API keys.' },
      {
        id: 'AwsSolutions-CFR2',
        reason: 'Static files only, no dynamic content to protect with WAF; the API has its own throttles.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason: 'Access logs of static files are left to the operator; API calls are logged by API Gateway.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          "The default *.cloudfront.net certificate allows TLSv1 by design of CloudFront; a custom domain with TLS 1.2 is the operator's choice.",
      },
    );
  }

  /** Uploads console/ (and hls.js) with a config.json that points the page at `apiUrl`. */
  deploy(apiUrl: string): s3deploy.BucketDeployment {
    if (this.deployment) throw new Error('the console is deployed once');
    const hls = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'), 'utf8');
    this.deployment = new s3deploy.BucketDeployment(this, 'Files', {
      destinationBucket: this.bucket,
      sources: [
        s3deploy.Source.asset(path.join(REPO_ROOT, 'console')),
        s3deploy.Source.data('vendor/hls.min.js', hls),
        s3deploy.Source.jsonData(CONSOLE_CONFIG_FILE, { apiUrl }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
      cacheControl: [s3deploy.CacheControl.maxAge(Duration.minutes(5))],
    });
    // The deployment's function is a stack-wide singleton made by aws-cdk-lib.
    const handler = this.deployment.handlerRole.node.scope;
    if (handler) {
      ack(
        handler,
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: "aws-cdk-lib's BucketDeployment function: the managed policy lets it write its own logs only.",
        },
        {
          id: 'AwsSolutions-L1',
          reason: "aws-cdk-lib's BucketDeployment function: its runtime is chosen by aws-cdk-lib.",
        },
      );
      acknowledgeGeneratedWildcards(
        handler,
        "aws-cdk-lib's BucketDeployment function: it reads the console's asset from the CDK assets bucket, writes and prunes the site bucket (bucket/*) and invalidates the distribution; the statements are aws-cdk-lib's.",
      );
    }
    return this.deployment;
  }

  /** Lets the console upload to and read from `bucket` (presigned PUT/GET from its origin). */
  allowBrowserAccess(bucket: s3.Bucket): void {
    bucket.addCorsRule({
      allowedOrigins: [this.url],
      allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.HEAD, s3.HttpMethods.PUT],
      allowedHeaders: ['*'],
      exposedHeaders: ['ETag'],
      maxAge: 3600,
    });
  }
}

/** CORS preflight answers (API Gateway mock OPTIONS methods) for the one browser origin of the console. */
export function corsPreflight(origin: string): apigw.CorsOptions {
  return {
    allowOrigins: [origin],
    allowMethods: apigw.Cors.ALL_METHODS,
    allowHeaders: ['Content-Type', 'X-API-KEY', 'Authorization', 'Idempotency-Key'],
    maxAge: Duration.hours(1),
  };
}

/** The OPTIONS methods CORS adds answer preflights without a key: that is what a preflight is. */
export function acknowledgePreflights(restApi: apigw.RestApi): void {
  for (const method of restApi.methods.filter((m) => m.httpMethod === 'OPTIONS'))
    ack(
      method,
      {
        id: 'AwsSolutions-APIG4',
        reason: 'A CORS preflight (mock integration, no backend) is sent by browsers without credentials.',
      },
      { id: 'AwsSolutions-COG4', reason: 'A CORS preflight is sent by browsers without credentials.' },
    );
}
