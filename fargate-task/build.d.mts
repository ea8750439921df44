import type { BuildOptions, BuildResult } from 'esbuild';
export function workerBuildOptions(outfile: string): BuildOptions;
export function bundleWorker(outfile: string): Promise<BuildResult>;
