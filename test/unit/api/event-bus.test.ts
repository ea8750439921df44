import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { commandEventEntry } from '../../../core/events.ts';
import { putCommandEvents } from '../../../lambdas/common/event-bus.ts';

const entry = commandEventEntry({
  account_id: 'a',
  command_id: 'c',
  status: 'FAILED',
  error_status: 'CANCELLED',
} as never);

describe('putCommandEvents', () => {
  it('sends the entries to the named bus with the detail as JSON', async () => {
    const client = new EventBridgeClient({ region: 'eu-west-1' });
    const bus = mockClient(client);
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    await putCommandEvents(client, 'ffaas-bus', [entry]);
    const sent = bus.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(sent).toMatchObject({ EventBusName: 'ffaas-bus', Source: entry.Source, DetailType: entry.DetailType });
    expect(JSON.parse(sent.Detail!)).toMatchObject({ command_id: 'c', error_status: 'CANCELLED' });
  });

  it('a 200 answer with refused entries is an error that names the cause, not a silent drop', async () => {
    const client = new EventBridgeClient({ region: 'eu-west-1' });
    mockClient(client)
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    await expect(putCommandEvents(client, 'ffaas-bus', [entry])).rejects.toThrow(
      /refused 1 event\(s\) \(InternalFailure: try again\)/,
    );
  });
});
