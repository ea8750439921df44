import type { FilterGraph } from './filtergraph.ts';
import type { FilterIssue } from './filter-policy.ts';
export function checkSourceBounds(_graph: FilterGraph): FilterIssue[] {
  return [];
}
