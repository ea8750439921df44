/**
 * Puts command events on the service's bus. PutEvents answers 200 even when it refused entries
 * (FailedEntryCount): that is an error here, so the caller's retry (Lambda, SQS, the sweeper's
 * next pass) runs instead of the event being dropped in silence.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { CommandEventEntry } from '../../core/events.ts';

export async function putCommandEvents(
  client: EventBridgeClient,
  busName: string,
  entries: readonly CommandEventEntry[],
): Promise<void> {
  const out = await client.send(
    new PutEventsCommand({
      Entries: entries.map((e) => ({
        Source: e.Source,
        DetailType: e.DetailType,
        Detail: JSON.stringify(e.Detail),
        EventBusName: busName,
      })),
    }),
  );
  if ((out.FailedEntryCount ?? 0) > 0) {
    const first = out.Entries?.find((x) => x.ErrorCode);
    throw new Error(
      `the event bus refused ${out.FailedEntryCount} event(s) (${first?.ErrorCode}: ${first?.ErrorMessage})`,
    );
  }
}
