/**
 * Phase 5, filters: each filtergraph option parsed (filtergraph.ts) and checked against the
 * filter policy (filter-policy.ts) and the bounds of generated sources (source-bounds.ts).
 * The files filters would open are handed on to the paths phase, which resolves them.
 */
import { checkFilterGraph, type FilterFileRef } from '../filter-policy.ts';
import { parseFilterGraph } from '../filtergraph.ts';
import { checkSourceBounds, type SourceBoundsContext } from '../source-bounds.ts';
import { invalid, type PhaseIssue } from './issue.ts';
import type { GraphUse } from './options.ts';

/** A graph that parsed: its argv index and the files its filters open, in graph order. */
export interface CheckedGraph {
  index: number;
  /** Walk step of the graph option (PhaseIssue.step). */
  step: number;
  fileRefs: FilterFileRef[];
}

export interface FiltersCheck {
  issues: PhaseIssue[];
  /** Graphs that parsed (the plan phase re-reads them after substitution). */
  graphs: CheckedGraph[];
  /** Names of every filter used (compute routing). */
  filters: string[];
}

export function checkFilters(
  uses: readonly GraphUse[],
  context: SourceBoundsContext = { outputsLimited: false },
): FiltersCheck {
  const out: FiltersCheck = { issues: [], graphs: [], filters: [] };
  for (const use of uses) {
    const add = (rule: string, message: string): void => {
      out.issues.push({ ...invalid(rule, message), step: use.step });
    };
    const parsed = parseFilterGraph(use.value);
    if (!parsed.ok) {
      add('filtergraph-syntax', `filtergraph of "${use.token}" could not be parsed: ${parsed.error.message}`);
      continue;
    }
    const check = checkFilterGraph(parsed.graph);
    for (const issue of check.issues) add(issue.rule, issue.message);
    for (const issue of checkSourceBounds(parsed.graph, context)) add(issue.rule, issue.message);
    out.filters.push(...check.filters);
    out.graphs.push({ index: use.index, step: use.step, fileRefs: check.fileRefs });
  }
  return out;
}
