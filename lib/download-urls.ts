import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../core/constants.ts';

/** Props of {@link FfaasDownloadUrls}. */
export interface FfaasDownloadUrlsProps {
  /** The HMAC secret of download tokens (FfaasApi.downloadUrlSecret). */
  readonly secret: secretsmanager.ISecret;
  /**
   * The origin download URLs start with for functions that answer no request, e.g. the API's
   * `restApi.url` (`https://{id}.execute-api.{region}.amazonaws.com/{stage}/`) or a custom
   * domain. A trailing `/` is ignored.
   */
  readonly origin: string;
  /** Functions that mint download URLs without a request (webhook deliveries). */
  readonly functions: readonly lambda.Function[];
}

/**
 * Download URLs (`/v/{id}/{token}/{name}`, docs/DOWNLOADS.md) minted outside a request: API
 * handlers take the origin from the request (or FFAAS_PUBLIC_URL), but a webhook body has no
 * request, so each such function gets FFAAS_PUBLIC_URL and read access to the token secret.
 */
export class FfaasDownloadUrls extends Construct {
  constructor(scope: Construct, id: string, props: FfaasDownloadUrlsProps) {
    super(scope, id);
    for (const fn of props.functions) {
      fn.addEnvironment(ENV.PUBLIC_URL, props.origin);
      fn.addEnvironment(ENV.URL_SECRET_ARN, props.secret.secretArn);
      props.secret.grantRead(fn);
    }
  }
}
