/**
 * The compiled local mode `npm start` runs (scripts/build-local.mjs): built once, reused while
 * its sources are unchanged, built again when one changed, and loadable without a TypeScript
 * loader. And the state machine check local mode now does once, when it renders the definition.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDefinition } from '../../local/step-functions.ts';
import { renderDefinition } from '../../local/definition.ts';
import { LOCAL_RESOURCE_DEFAULTS } from '../../local/render.ts';
import { LOCAL_NAMES } from '../../local/services.ts';
// @ts-expect-error plain JavaScript without types
import { ensureLocalBuild } from '../../scripts/build-local.mjs';

const run = promisify(execFile);
let cacheDir: string;

beforeAll(async () => {
  // Inside the repository, as the real one: the build's external packages resolve from there.
  const parent = path.join(import.meta.dirname, '..', '..', 'node_modules', '.cache');
  await mkdir(parent, { recursive: true });
  cacheDir = await mkdtemp(path.join(parent, 'ffaas-build-test-'));
});
afterAll(async () => {
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

describe('the compiled local mode (scripts/build-local.mjs)', () => {
  it('builds once, reuses the build while its inputs are unchanged, and builds again when one changed', async () => {
    const first = await ensureLocalBuild(cacheDir);
    expect(first.built).toBe(true);
    const again = await ensureLocalBuild(cacheDir);
    expect(again).toEqual({ main: first.main, built: false });

    // As if local/main.ts had changed since: the recorded hash no longer matches the inputs.
    const currentFile = path.join(cacheDir, 'local-current.json');
    const current = JSON.parse(await readFile(currentFile, 'utf8'));
    expect(current.inputs).toContain('local/main.ts');
    expect(current.inputs).toContain('lambdas/run-ffmpeg-command/index.ts'); // every handler is in it
    await writeFile(currentFile, JSON.stringify({ ...current, hash: '0000000000000000' }));
    const rebuilt = await ensureLocalBuild(cacheDir);
    expect(rebuilt.built).toBe(true);
    expect(rebuilt.main).toBe(first.main); // same sources, same content-addressed build
  }, 120_000);

  it('loads under plain Node (no TypeScript loader) and exports what `npm start` calls', async () => {
    const { main } = await ensureLocalBuild(cacheDir);
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(main)}); console.log(Object.keys(m).sort().join(','))`,
      ],
      { env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(stdout.trim().split(',')).toEqual(expect.arrayContaining(['main', 'prebuild']));
  }, 60_000);
});

describe('validateDefinition', () => {
  it('accepts the rendered state machine and refuses a broken one with the reason', async () => {
    const asl = await renderDefinition({ ...LOCAL_NAMES, ...LOCAL_RESOURCE_DEFAULTS });
    expect(() => validateDefinition(asl)).not.toThrow();
    const broken = structuredClone(asl);
    broken.StartAt = 'NoSuchState';
    expect(() => validateDefinition(broken)).toThrow(/NoSuchState|StartAt|state/i);
  }, 120_000);
});
