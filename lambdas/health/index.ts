/** GET /health (no key): liveness and the deployed version. */
import pkg from '../../package.json' with { type: 'json' };
import type { HealthResponse } from '../../core/api/responses.ts';
import { httpHandler, json } from '../common/http.ts';

export const handler = httpHandler('health', async () =>
  json(200, { status: 'ok', version: pkg.version } satisfies HealthResponse),
);
