/**
 * Phase 2, classify: argv → global options, inputs and outputs (classify.ts reads argv the way
 * FFmpeg does), plus the per-command counts: inputs and outputs within LIMITS, at least one
 * output.
 */
import { LIMITS } from '../../constants.ts';
import { classifyArgs, type ClassifiedCommand } from '../classify.ts';
import { invalid, type PhaseIssue } from './issue.ts';

export function classifyCommand(tokens: readonly string[]): { command: ClassifiedCommand; issues: PhaseIssue[] } {
  const command = classifyArgs(tokens);
  const issues: PhaseIssue[] = command.issues.map((i) => invalid(i.rule, i.message));
  if (command.inputs.length > LIMITS.maxInputs)
    issues.push(
      invalid(
        'too-many-inputs',
        `the command has ${command.inputs.length} inputs: at most ${LIMITS.maxInputs} are allowed`,
      ),
    );
  if (command.outputs.length > LIMITS.maxOutputs)
    issues.push(
      invalid(
        'too-many-outputs',
        `the command has ${command.outputs.length} outputs: at most ${LIMITS.maxOutputs} are allowed`,
      ),
    );
  if (command.outputs.length === 0 && command.issues.length === 0)
    issues.push(invalid('no-output', 'the command writes no output file'));
  return { command, issues };
}
