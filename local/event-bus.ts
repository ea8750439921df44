/**
 * Local EventBridge bus: PutEvents from the state machine (events:putEvents) and from code (the
 * local endpoint's AWSEvents.PutEvents) land here. Each event is appended to
 * `$FFAAS_DATA_DIR/events.jsonl` in EventBridge's envelope, emitted on `'event'`, and delivered
 * to every rule whose pattern matches (rules mirror the stack's AWS::Events::Rule resources
 * that local mode knows how to run; see local/state-machine.ts rulesFromTemplate).
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

export interface BusRule {
  name: string;
  /** EventBridge event pattern (the subset: exact values, prefix, exists, anything-but). */
  pattern: Record<string, unknown>;
  target: (event: BusEvent) => Promise<void> | void;
}

export class LocalEventBus extends EventEmitter {
  private readonly rules: BusRule[] = [];
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly busName: string,
    private readonly file: string | null,
  ) {
    super();
  }

  addRule(rule: BusRule): void {
    this.rules.push(rule);
  }

  /** PutEvents: records every entry; answers like EventBridge (one EventId per entry). */
  async putEvents(entries: PutEventsEntry[]): Promise<{ FailedEntryCount: number; Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] }> {
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
      const time = entry.Time === undefined ? new Date() : new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time);
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
        this.writes = this.writes.then(() => appendFile(file, lines)).catch((err) => console.error('events.jsonl:', err));
        await this.writes;
      }
      for (const event of accepted) {
        this.emit('event', event);
        for (const rule of this.rules) {
          if (!matchesPattern(rule.pattern, event as unknown as Record<string, unknown>)) continue;
          Promise.resolve()
            .then(() => rule.target(event))
            .catch((err) => console.error(`local bus rule ${rule.name} failed:`, err));
        }
      }
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

/** EventBridge pattern matching, for the subset of the syntax the stack's rules use. */
export function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    const actual = event?.[key];
    if (Array.isArray(expected)) {
      const values = Array.isArray(actual) ? actual : [actual];
      if (!expected.some((cond) => values.some((v) => matchesValue(cond, v, actual !== undefined)))) return false;
    } else if (expected && typeof expected === 'object') {
      if (!actual || typeof actual !== 'object') return false;
      if (!matchesPattern(expected as Record<string, unknown>, actual as Record<string, unknown>)) return false;
    } else {
      return false;
    }
  }
  return true;
}

function matchesValue(cond: unknown, value: unknown, present: boolean): boolean {
  if (cond === null || typeof cond !== 'object') return present && cond === value;
  const c = cond as Record<string, unknown>;
  if ('exists' in c) return c.exists ? present : !present;
  if (!present) return false;
  if ('prefix' in c) return typeof value === 'string' && value.startsWith(String(c.prefix));
  if ('suffix' in c) return typeof value === 'string' && value.endsWith(String(c.suffix));
  if ('anything-but' in c) {
    const but = c['anything-but'];
    return Array.isArray(but) ? !but.includes(value) : but !== value;
  }
  if ('equals-ignore-case' in c) return typeof value === 'string' && value.toLowerCase() === String(c['equals-ignore-case']).toLowerCase();
  return false;
}
