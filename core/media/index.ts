/** Pure media helpers: ffprobe JSON → OutputFileMeta, FFmpeg `-progress` parsing. */
export { createProgressParser, parseProgressBlock, type ProgressUpdate } from './progress.ts';
export {
  likelyMimeType,
  parseFrameRate,
  toOutputFileMeta,
  type FileFacts,
  type ProbedMeta,
  type ProbeFormat,
  type ProbeJson,
  type ProbeStream,
} from './meta.ts';
export {
  checkFilterFile,
  checkFontFile,
  checkLutFile,
  checkTextFile,
  subtitleFormatAllowed,
  FILTER_FILE_MAX_BYTES,
  SUBTITLE_FORMATS,
  type FilterFileIo,
  type FilterFileVerdict,
} from './filter-input-check.ts';
