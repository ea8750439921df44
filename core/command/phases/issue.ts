/**
 * What every phase of the command checker reports: a problem without its place in the request
 * body. The orchestrator (../parse.ts) adds the path (which command, which declared file).
 */
import type { CommandViolation } from '../types.ts';

export interface PhaseIssue {
  code: CommandViolation['code'];
  rule: string;
  message: string;
  /**
   * Where in the command's walk the problem was found (options.ts numbers the steps: global
   * options, then each input's options and file, then each output's): the orchestrator reports
   * the problems of one command in this order, whichever phase found them.
   */
  step?: number;
}

/** A 400 INVALID_REQUEST issue (most policy refusals). */
export function invalid(rule: string, message: string): PhaseIssue {
  return { code: 'INVALID_REQUEST', rule, message };
}
