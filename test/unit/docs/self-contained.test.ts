/**
 * The repository's docs stand on their own: no comment or doc points at a design document
 * outside the repository, and every relative link in a Markdown file names a file that exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SKIP = new Set(['node_modules', 'cdk.out', '.ffaas', '.git']);

function files(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files(full, out);
    else if (/\.(ts|mts|mjs|md)$/.test(entry.name)) out.push(full);
  }
  return out;
}

const sources = files(ROOT);
const rel = (f: string) => path.relative(ROOT, f);

/** Names of documents that live outside the repository (the repo's own are under docs/). */
const OUTSIDE = [
  /shared\/design/,
  /shared\/peers/,
  /(?<![\w/.-])(SECURITY|ARCHITECTURE|TESTING)\.md/,
  /(?<![\w/.-])API\.md/,
];

describe('docs are self-contained', () => {
  it('finds the sources it checks', () => {
    expect(sources.map(rel)).toContain('README.md');
    expect(sources.map(rel)).toContain('docs/API.md');
  });

  it('no comment or doc names a document outside the repository', () => {
    const hits: string[] = [];
    for (const file of sources) {
      if (file === fileURLToPath(import.meta.url)) continue;
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        // A doc's links to its sibling docs (`[API.md](API.md)`) stay inside the repository (the
        // link test checks they exist).
        const text = rel(file).startsWith('docs/') ? line.replace(/\[[^\]]*\]\([A-Z-]+\.md(#[^)]*)?\)/g, '') : line;
        if (OUTSIDE.some((re) => re.test(text))) hits.push(`${rel(file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
  });

  it('every relative Markdown link names a file in the repository', () => {
    const broken: string[] = [];
    for (const file of sources.filter((f) => f.endsWith('.md'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!.split('#')[0]!;
        if (target === '' || /^[a-z]+:/.test(target)) continue;
        const resolved = path.resolve(path.dirname(file), target);
        if (!resolved.startsWith(ROOT + path.sep) || !existsSync(resolved)) broken.push(`${rel(file)}: ${match[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
