/**
 * Powertools Tracer for the functions deployed with tracing on. Loaded only then (see
 * observability.ts): aws-xray-sdk-core adds ~120 KB to a bundle, which every cold start parses.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';

export const tracer = new Tracer({ serviceName: 'ffaas-api', captureHTTPsRequests: false });

/** A segment per invocation with the cold start and service annotations; responses are not recorded. */
export const tracerMiddleware = () => captureLambdaHandler(tracer, { captureResponse: false });
