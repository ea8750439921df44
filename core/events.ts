/**
 * The EventBridge events of a finished command. The state machine's Publish states send the
 * same Source, DetailType and detail shape (lib/pipeline.ts builds them from JSONPath); code
 * that finishes a command itself (local recovery) builds its entry here.
 */
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from './constants.ts';
import type { CommandEventDetail } from './types.ts';

/** One command event, as PutEvents takes it (Detail still an object). */
export interface CommandEventEntry {
  Source: string;
  DetailType: string;
  Detail: CommandEventDetail;
}

export function commandEventEntry(detail: CommandEventDetail): CommandEventEntry {
  return {
    Source: EVENT_SOURCE,
    DetailType: detail.status === 'SUCCESS' ? EVENT_DETAIL_TYPE.SUCCEEDED : EVENT_DETAIL_TYPE.FAILED,
    Detail: detail,
  };
}
