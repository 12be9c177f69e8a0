/**
 * The cluster event log behind GET /v1/logs: append-only, time-ordered, bounded. Kept apart from
 * the KV (events are many and never edited, so they should not churn the CCS revision log).
 */
export interface LoggedEvent {
  /** RS timestamp, e.g. "2014-08-29T11:19:49Z". */
  time: string;
  /** Event type, e.g. "user_login_failed"; more fields depend on the type. */
  type: string;
  severity?: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
  [field: string]: unknown;
}

export interface EventQuery {
  /** Inclusive bounds, RS timestamps. */
  stime?: string;
  etime?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface EventStore {
  append(event: LoggedEvent): void;
  query(q: EventQuery): LoggedEvent[];
  close(): void;
}
