/**
 * The EventBridge events of a finished command. The state machine's Publish states send the
 * same Source, DetailType and detail shape (lib/pipeline.ts builds them from JSONPath); code
 * that finishes a command itself (local recovery) builds its entry here.
 */
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from './constants.ts';
import type { CommandEventDetail } from './types.ts';

export function commandEventEntry(detail: CommandEventDetail): {
  Source: string;
  DetailType: string;
  Detail: CommandEventDetail;
} {
  return {
    Source: EVENT_SOURCE,
    DetailType: detail.status === 'SUCCESS' ? EVENT_DETAIL_TYPE.SUCCEEDED : EVENT_DETAIL_TYPE.FAILED,
    Detail: detail,
  };
}
