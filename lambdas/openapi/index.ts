/** GET /openapi.json (no key): the OpenAPI 3.1 document of this API, built once per container. */
import { buildOpenApiDocument } from '../../core/api/openapi.ts';
import { httpHandler, json } from '../common/http.ts';

let document: Record<string, unknown> | undefined;

export const handler = httpHandler('openapi', async () => json(200, (document ??= buildOpenApiDocument())));
