import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LAMBDA_BUNDLE, tracingDefine } from '../../lib/function.ts';
import { BACKGROUND_HANDLERS, ROUTE_HANDLERS, handlerEntry } from '../../core/routes.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
/**
 * Every byte of a bundle is parsed on a cold start; the API's handlers stay well under this.
 * 350 KiB since the submit handlers carry Powertools' idempotency utility (docs/CONTROL.md) and
 * every handler Powertools Metrics (EMF, ~15 KB).
 */
const BUDGET_BYTES = 350 * 1024;
/**
 * With tracing on the bundle carries Powertools Tracer and aws-xray-sdk-core (~120 KB): the
 * price of X-Ray subsegments, paid only by deployments that turn `tracing` on.
 */
const TRACING_BUDGET_BYTES = 480 * 1024;

async function bundle(name: string, tracing = false) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [handlerEntry(name as never)],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_BUNDLE.target,
    minify: LAMBDA_BUNDLE.minify,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    external: [...LAMBDA_BUNDLE.externalModules],
    define: tracingDefine(tracing),
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  return { bytes: result.outputFiles[0]!.contents.byteLength, inputs };
}

/**
 * The webhook delivery function POSTs through the SSRF-safe fetcher (undici's Agent pins the
 * connection to the checked address), so it carries undici; it is not behind the API.
 */
const FETCHER_HANDLERS = new Set(['webhook-delivery']);
/**
 * Handlers that carry more than the common budget, and why: Rendobar's submit is the one route
 * that does all of parsing the dialect, Powertools idempotency, admission and storing inline
 * `{content}` inputs, and the account-slot expressions of the state machine ride along.
 */
const EXTRA_BUDGET_BYTES: Record<string, number> = { 'rendobar-submit-job': 20 * 1024 };
const FETCHER_BUDGET_BYTES = 1024 * 1024;

describe('Lambda bundles', () => {
  it('webhook-delivery carries the fetcher, within its own budget', async () => {
    const { bytes, inputs } = await bundle('webhook-delivery');
    expect(bytes).toBeLessThan(FETCHER_BUDGET_BYTES);
    expect(inputs.some((f) => f.includes('node_modules/undici/'))).toBe(true);
    expect(inputs.some((f) => f.includes('node_modules/@aws-sdk/'))).toBe(false);
    // Metrics are always in; the tracer only when the function is deployed with tracing.
    expect(inputs.some((f) => f.includes('node_modules/@aws-lambda-powertools/metrics/'))).toBe(true);
    expect(inputs.some((f) => f.includes('node_modules/aws-xray-sdk-core/'))).toBe(false);
  });

  it.each([...ROUTE_HANDLERS, ...BACKGROUND_HANDLERS])(
    '%s with tracing on carries the Powertools Tracer, under its budget',
    async (name) => {
      const { bytes, inputs } = await bundle(name, true);
      const tracerBytes = TRACING_BUDGET_BYTES - BUDGET_BYTES;
      expect(bytes).toBeLessThan(
        FETCHER_HANDLERS.has(name) ? FETCHER_BUDGET_BYTES + tracerBytes : TRACING_BUDGET_BYTES,
      );
      expect(inputs.some((f) => f.includes('node_modules/@aws-lambda-powertools/tracer/'))).toBe(true);
    },
  );

  it.each([...ROUTE_HANDLERS, ...BACKGROUND_HANDLERS].filter((h) => !FETCHER_HANDLERS.has(h)))(
    '%s bundles under the size budget without the downloader',
    async (name) => {
      const { bytes, inputs } = await bundle(name);
      expect(bytes).toBeLessThan(BUDGET_BYTES + (EXTRA_BUDGET_BYTES[name] ?? 0));
      // The SSRF-safe fetcher (undici) belongs to the worker; handlers only check URLs.
      expect(inputs.some((f) => f.includes('node_modules/undici/'))).toBe(false);
      // The SDK comes from the runtime.
      expect(inputs.some((f) => f.includes('node_modules/@aws-sdk/'))).toBe(false);
    },
  );
});
