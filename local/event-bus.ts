/**
 * Local EventBridge bus: PutEvents from the state machine (events:putEvents) and from code (the
 * local endpoint's AWSEvents.PutEvents) land here. Each event is appended to
 * `$FFAAS_DATA_DIR/events.jsonl` in EventBridge's envelope and emitted on `'event'`. The stack
 * has no rule on the bus yet, so neither does this: a consumer listens to `'event'`.
 */
import { EventEmitter } from 'node:events';
import { appendFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './services.ts';

/** An event as EventBridge delivers it to targets. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
  /** Local only: which bus the entry named (EventBusName). */
  'event-bus-name': string;
}

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: unknown;
  EventBusName?: string;
  Resources?: string[];
  Time?: string | number;
}

export class LocalEventBus extends EventEmitter {
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly busName: string,
    private readonly file: string | null,
  ) {
    super();
  }

  /** PutEvents: records every entry; answers like EventBridge (one EventId per entry). */
  async putEvents(
    entries: PutEventsEntry[],
  ): Promise<{ FailedEntryCount: number; Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] }> {
    const results: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] = [];
    const accepted: BusEvent[] = [];
    for (const entry of entries) {
      if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
        results.push({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and Detail are required' });
        continue;
      }
      let detail: unknown = entry.Detail;
      if (typeof detail === 'string') {
        try {
          detail = JSON.parse(detail);
        } catch {
          results.push({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' });
          continue;
        }
      }
      const time =
        entry.Time === undefined
          ? new Date()
          : new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time);
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: LOCAL_ACCOUNT,
        time: (Number.isNaN(time.getTime()) ? new Date() : time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: LOCAL_REGION,
        resources: entry.Resources ?? [],
        detail,
        'event-bus-name': busNameOf(entry.EventBusName) ?? this.busName,
      };
      accepted.push(event);
      results.push({ EventId: event.id });
    }
    if (accepted.length > 0) {
      if (this.file) {
        const file = this.file;
        const lines = accepted.map((e) => JSON.stringify(e)).join('\n') + '\n';
        this.writes = this.writes
          .then(() => appendFile(file, lines))
          .catch((err) => console.error('events.jsonl:', err));
        await this.writes;
      }
      for (const event of accepted) this.emit('event', event);
    }
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  }

  /** Resolves once pending writes to events.jsonl are flushed. */
  flush(): Promise<void> {
    return this.writes;
  }
}

/** `arn:aws:events:…:event-bus/NAME` or NAME → NAME. */
function busNameOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const i = value.indexOf(':event-bus/');
  return i >= 0 ? value.slice(i + ':event-bus/'.length) : value;
}
