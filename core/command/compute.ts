/**
 * CPU or GPU worker for a command (docs/API.md `compute`): `auto` picks gpu when the command needs
 * an NVIDIA GPU (NVENC encoders, CUVID decoders, -hwaccel cuda/nvdec, CUDA/NPP filters).
 */
import type { Compute } from '../constants.ts';
import { CUDA_FILTERS } from './filter-policy.ts';

/** Encoders and decoders that need an NVIDIA GPU. */
export function isGpuCodec(codec: string): boolean {
  return /_(nvenc|cuvid)$/.test(codec) || codec === 'nvenc';
}

export interface GpuSignals {
  codecs: string[];
  hwaccels: string[];
  filters: string[];
}

export function gpuReasons(s: GpuSignals): string[] {
  const reasons: string[] = [];
  for (const c of s.codecs) if (isGpuCodec(c)) reasons.push(`codec "${c}"`);
  for (const h of s.hwaccels) if (h === 'cuda' || h === 'nvdec') reasons.push(`-hwaccel ${h}`);
  for (const f of s.filters) if (CUDA_FILTERS.has(f)) reasons.push(`filter "${f}"`);
  return [...new Set(reasons)];
}

export type RouteResult = { ok: true; compute: Compute } | { ok: false; rule: string; token: string; message: string };

/**
 * Route a command. `requested` is the user's `compute` (default auto); `gpuAvailable` says
 * whether the deployment has GPU workers. Failures are VALIDATION_ERROR (422) in API terms.
 */
export function routeCompute(
  requested: 'auto' | Compute | undefined,
  reasons: string[],
  gpuAvailable: boolean,
): RouteResult {
  const want = requested ?? 'auto';
  if (want === 'cpu' && reasons.length > 0) {
    return {
      ok: false,
      rule: 'gpu-required',
      token: reasons[0]!,
      message: `${reasons[0]} needs an NVIDIA GPU, but compute is "cpu": use compute "gpu" or "auto", or a CPU encoder (e.g. libx264)`,
    };
  }
  const compute: Compute = want === 'gpu' || (want === 'auto' && reasons.length > 0) ? 'gpu' : 'cpu';
  if (compute === 'gpu' && !gpuAvailable) {
    const token = want === 'gpu' ? 'gpu' : reasons[0]!;
    return {
      ok: false,
      rule: 'gpu-unavailable',
      token,
      message:
        want === 'gpu'
          ? `compute "gpu" was requested, but this deployment has no GPU workers`
          : `${reasons[0]} needs an NVIDIA GPU, but this deployment has no GPU workers`,
    };
  }
  return { ok: true, compute };
}
