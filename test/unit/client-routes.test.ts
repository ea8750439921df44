import { describe, expect, it } from 'vitest';
import { CLIENT_ROUTES, FfaasApiError, FfaasClient } from '../../client/index.ts';
import { buildOpenApiDocument } from '../../core/api/openapi.ts';
import { ROUTES } from '../../core/routes.ts';

describe('ffaas/client covers the API', () => {
  it('has a method for every operation of the OpenAPI document', () => {
    const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/^\/api\/v1/, '')}`),
    );
    expect(operations.length).toBe(ROUTES.length);
    for (const op of operations) {
      const method = (CLIENT_ROUTES as Record<string, string>)[op];
      expect(method, `${op} has no entry in CLIENT_ROUTES`).toBeDefined();
      expect(typeof (FfaasClient.prototype as unknown as Record<string, unknown>)[method!], `${op} → ${method}`).toBe(
        'function',
      );
    }
  });

  it('turns an error envelope into FfaasApiError with its code; waitForCommand backs off 1 s, 2 s, 4 s … capped', async () => {
    const calls: number[] = [];
    let polls = 0;
    const fake: typeof fetch = async (input) => {
      calls.push(Date.now());
      const url = String(input);
      if (url.endsWith('/commands/missing')) {
        return new Response(
          JSON.stringify({
            error: { code: 'NOT_FOUND', message: 'No such command' },
            message: 'No such command',
            detail: 'No such command',
          }),
          { status: 404 },
        );
      }
      polls++;
      return new Response(JSON.stringify({ command_id: 'x', status: polls < 5 ? 'PROCESSING' : 'SUCCESS' }), {
        status: 200,
      });
    };
    const client = new FfaasClient({ baseUrl: 'http://127.0.0.1:9/', apiKey: 'k', fetch: fake });
    await expect(client.getCommand('missing')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await expect(client.getCommand('missing')).rejects.toBeInstanceOf(FfaasApiError);
    calls.length = 0;
    const done = await client.waitForCommand('x', { initialDelayMs: 20, maxDelayMs: 80 });
    expect(done.status).toBe('SUCCESS');
    const gaps = calls.slice(1).map((t, i) => t - calls[i]!);
    // 20, 40, 80, 80 (capped), with timer slack.
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(gaps[3]).toBeGreaterThanOrEqual(78);
    expect(gaps[3]).toBeLessThan(160);
  });
});
