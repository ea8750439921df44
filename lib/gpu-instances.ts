/**
 * What the GPU worker needs from an instance type, per EC2 family (pure, no AWS imports):
 * an NVIDIA GPU with NVENC on x86_64. NVENC session limits: NVIDIA caps concurrent encode
 * sessions only on consumer (GeForce) boards; the data-center GPUs below (T4, A10G, L4, L40S)
 * have no session cap, only encoder throughput. One task reserves one whole GPU (the task
 * definition's GPU resource requirement), so ECS places at most as many worker tasks on a
 * host as it has GPUs, and one ffmpeg never shares an encoder with another command.
 */
export interface GpuFamily {
  gpu: string;
  /** NVENC engines per GPU. */
  nvencPerGpu: number;
  /** Concurrent NVENC sessions per GPU the driver allows (null: no cap on this board). */
  sessionLimit: number | null;
}

/** Families the worker can use; the xlarge..8xlarge sizes have one GPU, bigger ones several. */
export const NVENC_GPU_FAMILIES: Readonly<Record<string, GpuFamily>> = {
  g4dn: { gpu: 'NVIDIA T4', nvencPerGpu: 1, sessionLimit: null },
  g5: { gpu: 'NVIDIA A10G', nvencPerGpu: 1, sessionLimit: null },
  g6: { gpu: 'NVIDIA L4', nvencPerGpu: 2, sessionLimit: null },
  gr6: { gpu: 'NVIDIA L4', nvencPerGpu: 2, sessionLimit: null },
  g6e: { gpu: 'NVIDIA L40S', nvencPerGpu: 3, sessionLimit: null },
};

/** Families that look like GPU instances but cannot run the worker, and why. */
export const UNSUITABLE_GPU_FAMILIES: Readonly<Record<string, string>> = {
  g4ad: 'AMD Radeon GPU: no NVENC',
  g5g: 'Graviton (arm64) host: the GPU image is linux/amd64',
  p4d: 'NVIDIA A100: no NVENC encoder',
  p4de: 'NVIDIA A100: no NVENC encoder',
  p5: 'NVIDIA H100: no NVENC encoder',
  p5e: 'NVIDIA H200: no NVENC encoder',
};

/** The reason an instance type cannot host the GPU worker, or null when it can. */
export function gpuInstanceTypeRefusal(instanceType: string): string | null {
  const family = instanceType.split('.')[0] ?? '';
  if (NVENC_GPU_FAMILIES[family]) return null;
  const why = UNSUITABLE_GPU_FAMILIES[family];
  return why
    ? `${instanceType}: ${why}`
    : `${instanceType}: not a known NVENC GPU family (${Object.keys(NVENC_GPU_FAMILIES).join(', ')})`;
}
