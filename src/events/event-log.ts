/** Write cluster events (GET /v1/logs) with the RS timestamp format; every admin action goes through here. */
import type { EventStore, LoggedEvent } from '../store/event-store.js';
import { rsTime, type Clock } from '../util/clock.js';

export class EventLog {
  constructor(private readonly store: EventStore, private readonly clock: Clock) {}

  /** Record an event; `fields` are the type-specific fields (e.g. `user_uid`, `bdb_uid`). */
  write(type: string, fields: Record<string, unknown> = {}, severity: LoggedEvent['severity'] = 'INFO'): void {
    this.store.append({ time: rsTime(this.clock.now()), type, severity, ...fields });
  }
}
