/**
 * The ffaas CLI (`npx ffaas …`, through bin/ffaas.mjs): `ffaas --help` and docs/CLI.md.
 * The commands live in cli/main.ts.
 */
import { main, reportError } from '../cli/main.ts';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportError(err)),
);
