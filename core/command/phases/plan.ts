/**
 * Phase 7, plan: the checked commands → the CommandPlan the worker runs. Each argv gets the
 * service's forced input options before every `-i` and its placeholders replaced by workspace
 * names. Defence in depth: each substituted filtergraph is read again, and the files its filters
 * open must be exactly the ones the paths phase approved (a placeholder written inside quotes
 * or escapes would read differently once replaced).
 */
import { LIMITS } from '../../constants.ts';
import type { CommandPlan, PlannedInput, PlannedOutput } from '../../types.ts';
import { checkFilterGraph } from '../filter-policy.ts';
import { parseFilterGraph } from '../filtergraph.ts';
import { DEMUXER_ALLOWLIST } from '../options-policy.ts';
import { sequencePattern } from '../paths.ts';
import { isPlaylistOutput } from '../playlist.ts';
import { substitutePlaceholders } from '../placeholders.ts';
import type { DeclaredFiles } from './declared-files.ts';
import { invalid, type PhaseIssue } from './issue.ts';

/**
 * Options the service puts before every `-i`: FFmpeg may only open local files (inputs are
 * downloaded into the workspace first), only with the allowlisted demuxers (so a "video" that
 * is really an HLS playlist or a concat list is refused), and never decode frames larger than
 * LIMITS.maxPixels.
 */
export function forcedInputOptions(): string[] {
  return [
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    DEMUXER_ALLOWLIST.join(','),
    '-max_pixels',
    String(LIMITS.maxPixels),
  ];
}

/** One command that passed every earlier phase. */
export interface CheckedCommand {
  tokens: readonly string[];
  /** argv indexes of each `-i`. */
  inputOptionIndexes: ReadonlySet<number>;
  /** Each parsed filtergraph (argv index) with the workspace files its filters may open. */
  graphs: readonly { index: number; expectFiles: readonly string[] }[];
}

export type PlanResult =
  | { ok: true; plan: CommandPlan }
  /** `command` is the index of the command each issue is about. */
  | { ok: false; issues: (PhaseIssue & { command: number })[] };

export function buildPlan(declared: DeclaredFiles, commands: readonly CheckedCommand[]): PlanResult {
  const resolve = (alias: string): string => declared.inputs.get(alias)?.local ?? declared.outputs.get(alias)!;
  const issues: (PhaseIssue & { command: number })[] = [];
  const argvs = commands.map((c, ci) => {
    const argv: string[] = [];
    c.tokens.forEach((t, j) => {
      if (c.inputOptionIndexes.has(j)) argv.push(...forcedInputOptions());
      argv.push(substitutePlaceholders(t, resolve));
    });
    for (const g of c.graphs) {
      const again = parseFilterGraph(substitutePlaceholders(c.tokens[g.index]!, resolve));
      const seen = again.ok ? checkFilterGraph(again.graph) : null;
      const files = seen ? seen.fileRefs.map((r) => r.value) : null;
      if (!seen || seen.issues.length > 0 || JSON.stringify(files) !== JSON.stringify(g.expectFiles)) {
        issues.push({
          ...invalid(
            'placeholder-escaped',
            `filtergraph "${c.tokens[g.index]}" reads differently once its placeholders are replaced: write each file placeholder unquoted and unescaped`,
          ),
          command: ci,
        });
      }
    }
    return argv;
  });
  if (issues.length > 0) return { ok: false, issues };

  const inputs: PlannedInput[] = [...declared.inputs.entries()].map(([alias, x]) => ({
    alias,
    url: x.url,
    local_name: x.local,
  }));
  // Playlists are marked here, once, from what the user declared: the plan is the whole
  // contract of what the worker does (it stays free of API naming conventions), and the
  // decision is visible in the stored item.
  const outputs: PlannedOutput[] = [...declared.outputs.entries()].map(([alias, local_name]): PlannedOutput => {
    if (sequencePattern(local_name)) return { alias, local_name, sequence: true };
    return isPlaylistOutput(alias, local_name) ? { alias, local_name, playlist: true } : { alias, local_name };
  });
  return { ok: true, plan: { inputs, outputs, commands: argvs } };
}
