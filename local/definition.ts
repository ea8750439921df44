/**
 * The command state machine's definition for local mode: FfaasStack synthesized, rendered to
 * ASL with local names (local/render.ts), and cached in the build cache (local/build-cache.ts,
 * filled at `npm ci` by `prepare`) under a hash of the sources it depends on.
 *
 * When the cache is stale, local mode synthesizes in a child process (this file run as a
 * script): loading aws-cdk-lib and building the construct tree takes ~500 MiB and seconds, and
 * the long-running local process should not keep that memory. Tests synthesize in-process.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from './build-cache.ts';
import { REPO_ROOT, TSX_LOADER_URL } from './paths.ts';
import {
  renderStateMachine,
  stackResourceIds,
  type CfnTemplate,
  type LocalResourceNames,
  type SynthesizedStack,
} from './render.ts';
import { installedVersion, sourceHash } from './source-hash.ts';
import { validateDefinition } from './step-functions.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

export const DEFINITION_CACHE_FILE = 'state-machine.asl.json';

/**
 * Synthesizes FfaasStack in this process (lib's synthesizeForLocal: no esbuild bundling, no
 * Docker asset) and returns its template with the logical ids read from the stack object. The
 * cloud assembly goes to a temp dir, removed after.
 */
export async function synthesizeStack(): Promise<SynthesizedStack> {
  const { synthesizeForLocal } = await import('../lib/ffaas-stack.ts');
  const outdir = await mkdtemp(path.join(os.tmpdir(), 'ffaas-synth-'));
  const previous = process.env.CDK_OUTDIR;
  process.env.CDK_OUTDIR = outdir;
  try {
    const { stack, template } = synthesizeForLocal();
    return { template: template as CfnTemplate, resourceIds: stackResourceIds(stack) };
  } finally {
    if (previous === undefined) delete process.env.CDK_OUTDIR;
    else process.env.CDK_OUTDIR = previous;
    await rm(outdir, { recursive: true, force: true });
  }
}

/** Synthesizes and renders in this process. */
export async function renderDefinition(names: LocalResourceNames): Promise<Json> {
  return renderStateMachine(await synthesizeStack(), names);
}

const CHILD_TIMEOUT_MS = 180_000;
// This file's source, not import.meta.url: the running code may be the compiled bundle.
const DEFINITION_SCRIPT = path.join(REPO_ROOT, 'local', 'definition.ts');

/** Synthesizes and renders in a child process (this file as a script); its memory goes with it. */
export async function renderDefinitionInChild(names: LocalResourceNames): Promise<Json> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ffaas-render-'));
  const outfile = path.join(dir, 'asl.json');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', TSX_LOADER_URL, DEFINITION_SCRIPT, outfile, JSON.stringify(names)],
        {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4096)));
      const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `synthesizing the state machine failed (${signal ?? `exit code ${code}`}): ${stderr.trim().split('\n').slice(-8).join('\n')}`,
            ),
          );
      });
    });
    return JSON.parse(await readFile(outfile, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The rendered ASL, from `$cacheDir/state-machine.asl.json` when that was rendered from the same
 * sources (hash of lib/, core/, local/, store/, the names and the aws-cdk-lib version), else rendered
 * now (in a child process unless `inProcess`), validated (validateDefinition) and cached.
 * `fromCache` says which.
 */
export async function loadDefinition(opts: {
  names: LocalResourceNames;
  cacheDir?: string;
  inProcess?: boolean;
}): Promise<{ asl: Json; fromCache: boolean }> {
  const key = await definitionSourceHash(opts.names);
  const file = opts.cacheDir ? path.join(opts.cacheDir, DEFINITION_CACHE_FILE) : null;
  if (file) {
    try {
      const cached = JSON.parse(await readFile(file, 'utf8'));
      if (cached?.key === key && cached.asl) return { asl: cached.asl, fromCache: true };
    } catch {
      // no cache yet
    }
  }
  const asl = opts.inProcess ? await renderDefinition(opts.names) : await renderDefinitionInChild(opts.names);
  // Checked once, here, so what the cache holds is valid and a start need not check it again.
  validateDefinition(asl);
  if (file) await writeFileAtomic(file, JSON.stringify({ key, asl })).catch(() => undefined);
  return { asl, fromCache: false };
}

async function definitionSourceHash(names: LocalResourceNames): Promise<string> {
  const cdkVersion = await installedVersion(REPO_ROOT, 'aws-cdk-lib');
  // local/ too: the rendering lives there; store/ too: the lifecycle and slot expressions.
  return sourceHash(REPO_ROOT, ['lib', 'core', 'local', 'store'], [JSON.stringify(names), cdkVersion]);
}

// As a script (renderDefinitionInChild): `definition.ts <outfile> <names JSON>`.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [outfile, namesJson] = process.argv.slice(2);
  renderDefinition(JSON.parse(namesJson) as LocalResourceNames).then(
    (asl) => writeFile(outfile, JSON.stringify(asl)),
    (err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    },
  );
}
