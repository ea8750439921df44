/**
 * Idempotency-Key on the submit routes (docs/API.md): the same key and the same body within 24 h
 * return the first answer; the same key with another body is 422; a duplicate arriving while
 * the first still runs waits for it briefly and returns its answer (409 CONFLICT if it is still
 * running after IN_PROGRESS_WAIT_MS).
 *
 * Powertools' idempotency utility does the work, with its DynamoDB persistence layer on the
 * idempotency table (store/tables.ts; TTL attribute `expiration`): the record's key is the route
 * + a hash of account id + header value (so two accounts' keys never meet), the payload hash is
 * of the JSON body. Only successful answers are stored; a refused request (4xx) deletes its
 * record, so fixing the body and retrying with the same key works.
 */
import type { Context } from 'aws-lambda';
import { makeIdempotent, IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { IdempotencyAlreadyInProgressError, IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiError } from '../../core/api/errors.ts';
import { transportFor } from '../../store/clients.ts';
import { IDEMPOTENCY } from '../../core/control/settings.ts';
import { required } from './config.ts';
import type { ApiEvent } from './http.ts';

let store: DynamoDBPersistenceLayer | undefined;

function persistenceStore(): DynamoDBPersistenceLayer {
  store ??= new DynamoDBPersistenceLayer({
    tableName: required('idempotencyTable'),
    awsSdkV3Client: new DynamoDBClient(transportFor('DYNAMODB')),
  });
  return store;
}

export function resetIdempotency(): void {
  store = undefined;
}

/** The header's value (case-insensitive name), validated; undefined when absent. */
export function idempotencyKeyOf(event: ApiEvent): string | undefined {
  const headers = event.headers ?? {};
  const name = Object.keys(headers).find((h) => h.toLowerCase() === IDEMPOTENCY.header);
  const value = name ? headers[name] : undefined;
  if (value === undefined || value === null) return undefined;
  if (value.length < 1 || value.length > IDEMPOTENCY.maxKeyLength || !/^[\x21-\x7e]+$/.test(value)) {
    throw new ApiError(
      'INVALID_REQUEST',
      `${IDEMPOTENCY.header}: 1 to ${IDEMPOTENCY.maxKeyLength} printable ASCII characters without spaces`,
      [{ path: ['headers', 'Idempotency-Key'], message: 'invalid idempotency key' }],
    );
  }
  return value;
}

interface IdempotentRequest {
  key: string;
  body: unknown;
}

/**
 * Run `submit` at most once per (route, account, Idempotency-Key); without the header, just
 * run it. `submit` returns the JSON body of the 200 answer.
 */
export async function idempotentSubmit<T extends Record<string, unknown>>(
  route: string,
  accountId: string,
  event: ApiEvent,
  context: Context,
  submit: () => Promise<T>,
): Promise<T> {
  const key = idempotencyKeyOf(event);
  if (key === undefined) return submit();
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: 'body',
    expiresAfterSeconds: IDEMPOTENCY.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
  });
  if (typeof context?.getRemainingTimeInMillis === 'function') config.registerLambdaContext(context);
  const once = makeIdempotent(async (_req: IdempotentRequest) => submit(), {
    persistenceStore: persistenceStore(),
    config,
    keyPrefix: `ffaas.${route}`,
  });
  const request: IdempotentRequest = { key: `${accountId}#${key}`, body: event.jsonBody ?? null };
  const deadline = Date.now() + IDEMPOTENCY.inProgressWaitMs;
  for (;;) {
    try {
      return (await once(request)) as T;
    } catch (err) {
      if (err instanceof IdempotencyValidationError) {
        throw new ApiError('VALIDATION_ERROR', 'this Idempotency-Key was used with a different request body', [
          {
            path: ['headers', 'Idempotency-Key'],
            message: 'key reused with a different body',
            type: 'idempotency_key_reused',
          },
        ]);
      }
      if (err instanceof IdempotencyAlreadyInProgressError) {
        if (Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        throw new ApiError('CONFLICT', 'a request with this Idempotency-Key is still in progress; retry later');
      }
      // Powertools wraps the function's own errors? No: it rethrows them as they are.
      throw err;
    }
  }
}
