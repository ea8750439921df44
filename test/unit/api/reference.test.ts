import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../core/api/openapi.ts';
import { ROUTES } from '../../../core/routes.ts';
import { renderReference } from '../../../scripts/reference.ts';

describe('docs/REFERENCE.md', () => {
  it('is what scripts/reference.ts renders from the OpenAPI document (run `node scripts/reference.ts` after changing it)', () => {
    const committed = readFileSync(new URL('../../../docs/REFERENCE.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderReference(buildOpenApiDocument()));
  });
  it('has a section for every route', () => {
    const page = renderReference(buildOpenApiDocument());
    for (const r of ROUTES) expect(page).toContain(`### ${r.method} ${(r.bases ?? ['/api/v1'])[0]}${r.path}\n`);
  });
});
