import { describe, expect, it } from 'vitest';
import { gpuInstanceTypeRefusal, NVENC_GPU_FAMILIES } from '../../../lib/gpu-instances.ts';
import { parseEcrImageUri } from '../../../lib/worker-image.ts';
import { PENDING_SHARDS, pendingShard, statusKey } from '../../../core/constants.ts';

describe('parseEcrImageUri', () => {
  it('account, region, repository and tag or digest of a private ECR URI', () => {
    expect(parseEcrImageUri('123456789012.dkr.ecr.eu-west-1.amazonaws.com/ffaas-worker:v1')).toEqual({
      account: '123456789012',
      region: 'eu-west-1',
      repositoryName: 'ffaas-worker',
      tagOrDigest: 'v1',
    });
    expect(parseEcrImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/team/ffaas')?.tagOrDigest).toBe('latest');
    expect(parseEcrImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/team/ffaas')?.repositoryName).toBe(
      'team/ffaas',
    );
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseEcrImageUri(`123456789012.dkr.ecr.us-east-1.amazonaws.com/ffaas@${digest}`)?.tagOrDigest).toBe(digest);
  });

  it('other registries are not ECR (no grant needed)', () => {
    expect(parseEcrImageUri('public.ecr.aws/x/ffaas:1')).toBeNull();
    expect(parseEcrImageUri('ghcr.io/x/ffaas:1')).toBeNull();
    expect(parseEcrImageUri('ffaas-worker:local')).toBeNull();
  });
});

describe('GPU instance families', () => {
  it('the default types are NVENC data-center GPUs without a session cap', () => {
    for (const t of ['g4dn.xlarge', 'g5.xlarge', 'g6.xlarge']) expect(gpuInstanceTypeRefusal(t)).toBeNull();
    for (const f of Object.values(NVENC_GPU_FAMILIES)) expect(f.sessionLimit).toBeNull();
  });

  it('names why a type cannot run the worker', () => {
    expect(gpuInstanceTypeRefusal('g4ad.xlarge')).toMatch(/no NVENC/);
    expect(gpuInstanceTypeRefusal('g5g.xlarge')).toMatch(/arm64/);
    expect(gpuInstanceTypeRefusal('p5.48xlarge')).toMatch(/H100/);
    expect(gpuInstanceTypeRefusal('m5.large')).toMatch(/not a known NVENC GPU family/);
  });
});

describe('index keys', () => {
  it('pendingShard is stable and spreads ids over every shard', () => {
    const ids = Array.from({ length: 800 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    expect(pendingShard(ids[0]!)).toBe(pendingShard(ids[0]!));
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(pendingShard(id), (counts.get(pendingShard(id)) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(Array.from({ length: PENDING_SHARDS }, (_, n) => `pending#${n}`).sort());
    for (const c of counts.values()) expect(c).toBeGreaterThan(800 / PENDING_SHARDS / 2);
  });

  it('statusKey is account#status', () => {
    expect(statusKey('acc', 'FAILED')).toBe('acc#FAILED');
  });
});
