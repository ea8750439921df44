/**
 * The FFmpeg command model and its security policy (docs/SECURITY-POLICY.md layers 1–5 and 7).
 * API handlers call parseFfmpegCommand; the other exports are its parts, for tests and docs.
 */
export type { CommandViolation, ParseCommandInput, ParseCommandResult } from './types.ts';
export { parseFfmpegCommand, forcedInputOptions, MAX_COMMAND_LENGTH, MAX_COMMAND_ARGS } from './parse.ts';
export { tokenize, tokenizeCommand, quoteArg, quoteArgv, CommandSyntaxError, type TokenizeResult } from './tokenize.ts';
export {
  findPlaceholders,
  substitutePlaceholders,
  wholePlaceholder,
  INPUT_ALIAS,
  OUTPUT_ALIAS,
  type PlaceholderRef,
} from './placeholders.ts';
export { classifyArgs, type ClassifiedCommand, type FileUse, type OptionUse } from './classify.ts';
export {
  ALLOWED_OPTIONS,
  FORBIDDEN_OPTIONS,
  DEMUXER_ALLOWLIST,
  MUXER_ALLOWLIST,
  FORBIDDEN_FORMATS,
  checkPlainValue,
  checkCodecParams,
  type OptionRule,
  type ValueKind,
} from './options-policy.ts';
export {
  parseFilterGraph,
  parseFilterOptions,
  filtersOf,
  FilterGraphError,
  type FilterGraph,
  type FilterNode,
  type FilterOption,
} from './filtergraph.ts';
export {
  checkFilterGraph,
  filterOptionDecision,
  ALLOWED_FILTERS,
  FORBIDDEN_FILTERS,
  CUDA_FILTERS,
  type FilterFileRef,
} from './filter-policy.ts';
export {
  FILTER_OPTIONS,
  GENERIC_FILTER_OPTIONS,
  type FilterOptionDecision,
  type FilterOptionTable,
} from './filter-options.ts';
export { FILTER_FILE_KINDS, type FilterFileKind, type PlannedFilterFile } from './filter-files.ts';
export {
  pathProblem,
  inputLocalName,
  urlExtension,
  hasPattern,
  MAX_FILE_NAME_LENGTH,
  sequencePattern,
  sequenceMembers,
  type SequencePattern,
} from './paths.ts';
export { isPlaylistOutput, PLAYLIST_ALIAS_PREFIX, PLAYLIST_EXTENSIONS } from './playlist.ts';
export { routeCompute, gpuReasons, isGpuCodec } from './compute.ts';
// The checker's phases (parse.ts composes them), each testable on its own.
export { splitCommand } from './phases/split.ts';
export { classifyCommand } from './phases/classify-command.ts';
export { declareFiles, type DeclaredFiles } from './phases/declared-files.ts';
export { checkOptions, type FilePosition, type GraphUse } from './phases/options.ts';
export { checkFilters } from './phases/filters.ts';
export { WorkspaceLedger } from './phases/workspace-paths.ts';
export { buildPlan } from './phases/plan.ts';
export { checkSourceBounds } from './source-bounds.ts';
