import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { FfaasStack } from '../../lib/ffaas-stack.ts';
import { REPO_ROOT, WORKER_DOCKERFILE } from '../../lib/paths.ts';

const hasDockerfile = existsSync(path.join(REPO_ROOT, WORKER_DOCKERFILE));
const outdir = mkdtempSync(path.join(os.tmpdir(), 'ffaas-image-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/**
 * The default worker image is a Docker asset whose context is the repository root. Synthesis
 * only stages (copies) the context, it never builds, so this runs without Docker.
 */
describe.skipIf(!hasDockerfile)('worker image asset', () => {
  it('stages the repository root without node_modules, tests, docs or the CDK code', () => {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new FfaasStack(app, 'ImageTest', { gpu: false });
    const assembly = app.synth();
    const manifestFile = assembly.artifacts
      .filter((a) => a.manifest.type === 'cdk:asset-manifest')
      .map((a) => path.join(outdir, (a.manifest.properties as { file: string }).file))
      .find((f) => f.includes(stack.artifactId))!;
    const images = Object.values(JSON.parse(readFileSync(manifestFile, 'utf8')).dockerImages ?? {}) as any[];
    expect(images).toHaveLength(1);
    const source = images[0].source;
    expect(source.dockerFile).toBe(WORKER_DOCKERFILE);
    expect(source.platform).toBe('linux/amd64');
    const staged = readdirSync(path.join(outdir, source.directory));
    expect(staged).toContain('fargate-task');
    expect(staged).toContain('core');
    expect(staged).toContain('package.json');
    expect(staged).toContain('tsconfig.json');
    for (const excluded of [
      'node_modules',
      'test',
      'docs',
      'bench',
      'lib',
      'lambdas',
      'cli',
      'local',
      '.git',
      'cdk.out',
      '.ffaas',
    ]) {
      expect(staged).not.toContain(excluded);
    }
  });
});
