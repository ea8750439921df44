import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../core/api/openapi.ts';
import { OUTPUT_FILE_META_FIELDS } from '../../../core/api/responses.ts';
import { ROUTES, routeBases } from '../../../core/routes.ts';

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
}
const doc = () => buildOpenApiDocument() as unknown as Doc;

/** Every `$ref` anywhere in a JSON value. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('docs/openapi.json', () => {
  it('is what scripts/openapi.ts generates from the schemas (run `node scripts/openapi.ts` after changing them)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });
  it('is OpenAPI 3.1 and documents every route, each with a 200 and an error response', () => {
    const d = doc();
    expect(d.openapi).toBe('3.1.0');
    for (const r of ROUTES) {
      const op = d.paths[`${routeBases(r)[0]}${r.path}`]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      // A success answer: 200, or 201 where the peer answers a creation so (RenderIO's POST /presets),
      // or only 302 for a route whose answer is a redirect to the bytes (GET /assets/{asset_id}/content).
      const success = r.path === '/assets/{asset_id}/content' ? ['302'] : ['200', '201'];
      expect(Object.keys(op!.responses).some((s) => success.includes(s))).toBe(true);
      expect(Object.keys(op!.responses).some((s) => s >= '400')).toBe(true);
    }
  });
  it('every $ref names a component, and every component is used', () => {
    const d = doc();
    const names = Object.keys(d.components.schemas);
    const used = new Set(refs(d).map((r) => r.replace('#/components/schemas/', '')));
    for (const name of used) expect(names).toContain(name);
    for (const name of names) expect(used, name).toContain(name);
  });
  it('response shapes come from the zod schemas: OutputFileMeta lists exactly the schema fields, all required', () => {
    const meta = doc().components.schemas.OutputFileMeta!;
    expect(meta.required).toEqual(OUTPUT_FILE_META_FIELDS);
    expect(Object.keys(meta.properties ?? {})).toEqual(OUTPUT_FILE_META_FIELDS);
  });
  it('the error envelope carries error, message and detail', () => {
    const env = doc().components.schemas.ErrorEnvelope!;
    expect(env.required).toEqual(['error', 'message', 'detail']);
  });
});
