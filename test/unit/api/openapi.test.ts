import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../../scripts/openapi.ts';
import { ROUTES } from '../../../core/routes.ts';

describe('docs/openapi.json', () => {
  it('is what scripts/openapi.ts generates from the schemas (run `node scripts/openapi.ts` after changing them)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApi())));
  });
  it('documents every route', () => {
    const doc = buildOpenApi() as { paths: Record<string, Record<string, unknown>> };
    for (const r of ROUTES) expect(doc.paths[`/api/v1${r.path}`]?.[r.method.toLowerCase()]).toBeDefined();
  });
});
