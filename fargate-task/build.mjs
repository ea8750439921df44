// Bundles the worker into one ESM file, exactly as the image build does
// (`node fargate-task/build.mjs /out/worker.mjs` in fargate-task/Dockerfile). The test
// test/integration/worker/bundle.test.ts calls bundleWorker() too, so a broken import fails
// the suite without Docker.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild options of the worker bundle (entry resolved from the repository root). */
export function workerBuildOptions(outfile) {
  return {
    absWorkingDir: root,
    entryPoints: ['fargate-task/src/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // CommonJS dependencies (the AWS SDK, undici) call require() for Node built-ins; an ESM
    // bundle has no `require`, so give it one.
    banner: {
      js: "import { createRequire as __ffaasCreateRequire } from 'node:module'; const require = __ffaasCreateRequire(import.meta.url);",
    },
    minifySyntax: true,
    // No comments or indentation: V8 keeps a script's whole source in memory (for lazy
    // compilation), and the dependencies' comments made it two-byte (UTF-16) text: 6.2 MiB of
    // every worker's heap, ~4 MiB less RSS without. Identifiers stay (readable stack traces;
    // minified names measured no smaller in RSS).
    minifyWhitespace: true,
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'warning',
  };
}

/** Build the bundle; resolves esbuild's result (errors reject). */
export function bundleWorker(outfile) {
  return build(workerBuildOptions(outfile));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outfile = path.resolve(process.argv[2] ?? path.join(root, 'cdk.out', 'worker', 'worker.mjs'));
  await bundleWorker(outfile);
  console.log(`worker bundled: ${outfile}`);
}
