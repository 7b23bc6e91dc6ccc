// The audit log in ClickHouse (table api_audit). Requests never wait for it: entries are buffered
// and inserted in batches; a failed insert is retried with backoff while new entries queue behind
// it. Memory is bounded: past maxBuffered entries, new ones are dropped, counted in
// uspa_api_audit_dropped_total and logged, rather than slowing or failing the API.
import { Counter, Gauge, type Registry } from 'prom-client';
import { chTime, type Warehouse } from '../../lib/clickhouse.ts';
import type { Logger } from '../../lib/log.ts';
import type { AuditEntry, AuditSink } from './entry.ts';

export const AUDIT_TABLE = 'api_audit';

export interface AuditLogOptions {
  /** Longest time an entry waits before its batch is inserted. */
  flushMs?: number;
  /** A batch this large is inserted at once. */
  batchSize?: number;
  /** Entries held at most (waiting or being retried); more are dropped and counted. */
  maxBuffered?: number;
  /** First and longest wait between retries of a failed insert. */
  retryMs?: number;
  maxRetryMs?: number;
  /** How long close() keeps retrying before it gives the rest up (counted as dropped). */
  closeTimeoutMs?: number;
}

const DEFAULTS: Required<AuditLogOptions> = { flushMs: 500, batchSize: 1000, maxBuffered: 100_000, retryMs: 500, maxRetryMs: 30_000, closeTimeoutMs: 10_000 };

/** The api_audit row of an entry (column names of api/tables/audit.ts). */
export function auditRow(e: AuditEntry): Record<string, unknown> {
  return {
    at: chTime(e.at),
    request_id: e.requestId,
    api_key: e.key,
    key_id: e.keyId,
    role: e.role,
    operation: e.operation,
    kind: e.kind,
    method: e.method,
    route: e.route,
    target: e.target,
    status: e.status,
    ip: e.ip,
    user_agent: e.userAgent,
  };
}

export class ClickHouseAuditLog implements AuditSink {
  private readonly options: Required<AuditLogOptions>;
  private buffer: Record<string, unknown>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private droppedSinceLog = 0;
  private closed = false;
  private readonly written: Counter;
  private readonly failed: Counter;
  private readonly dropped: Counter;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly log: Logger,
    registry: Registry,
    options: AuditLogOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.written = new Counter({ name: 'uspa_api_audit_written_total', help: 'Audit entries inserted into ClickHouse', registers: [registry] });
    this.failed = new Counter({ name: 'uspa_api_audit_failed_total', help: 'Failed audit inserts (each is retried with backoff)', registers: [registry] });
    this.dropped = new Counter({ name: 'uspa_api_audit_dropped_total', help: 'Audit entries dropped because the buffer was full (ClickHouse down too long) or close() gave up', registers: [registry] });
    const buffered = () => this.buffer.length;
    new Gauge({ name: 'uspa_api_audit_buffered', help: 'Audit entries waiting to be inserted', registers: [registry], collect() { this.set(buffered()); } });
  }

  record(entry: AuditEntry): void {
    if (this.buffer.length >= this.options.maxBuffered) {
      this.dropped.inc();
      // One log line per burst of drops, not one per request.
      if (this.droppedSinceLog++ === 0) this.log.error({ maxBuffered: this.options.maxBuffered }, 'audit buffer full: dropping audit entries until ClickHouse accepts inserts again (uspa_api_audit_dropped_total)');
      return;
    }
    this.buffer.push(auditRow(entry));
    // While inserts fail, the retry already scheduled with backoff takes these along.
    if (this.failures) return;
    this.schedule(this.buffer.length >= this.options.batchSize ? 0 : this.options.flushMs);
  }

  /** Inserts everything buffered now (one attempt per batch); resolves when done or failed. */
  flush(): Promise<void> {
    this.flushing ??= this.insertAll().finally(() => {
      this.flushing = undefined;
      if (this.buffer.length && !this.closed) this.schedule(this.failures ? this.backoff() : this.options.flushMs);
    });
    return this.flushing;
  }

  /** Stops the timer and flushes, retrying until closeTimeoutMs; what is left then counts as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + this.options.closeTimeoutMs;
    for (;;) {
      await this.flush();
      if (!this.buffer.length || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, Math.min(this.backoff(), Math.max(0, deadline - Date.now()))));
    }
    if (this.buffer.length) {
      this.dropped.inc(this.buffer.length);
      this.log.error({ entries: this.buffer.length }, 'audit log closed with entries ClickHouse did not accept: they are lost');
      this.buffer = [];
    }
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  private backoff(): number {
    const base = Math.min(this.options.maxRetryMs, this.options.retryMs * 2 ** Math.max(0, this.failures - 1));
    return Math.round(base * (0.5 + Math.random() / 2));
  }

  private async insertAll(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.slice(0, this.options.batchSize);
      try {
        await this.warehouse.insert(AUDIT_TABLE, batch);
      } catch (err) {
        this.failures++;
        this.failed.inc();
        this.log.warn({ err, entries: batch.length, attempt: this.failures }, 'audit insert failed; retrying with backoff');
        return;
      }
      this.buffer.splice(0, batch.length);
      this.written.inc(batch.length);
      if (this.failures || this.droppedSinceLog) this.log.info({ dropped: this.droppedSinceLog, failedAttempts: this.failures }, 'audit inserts work again');
      this.failures = 0;
      this.droppedSinceLog = 0;
    }
  }
}
