// The delivery ledger, activation_deliveries: every send, failure, suppression and holdout is one
// row keyed by (Activation, idempotency key), so a re-run records the same row again (it folds)
// and a key already recorded is not sent again.
import { chTime, type Warehouse } from '../../lib/clickhouse.ts';

export type Outcome = 'sent' | 'failed' | 'suppressed' | 'holdout';

/** Whom a delivery is for: the Activation, the trigger's key, the person and their variant. */
export interface Who {
  namespace: string;
  activation: string;
  key: string;
  profileId: string;
  variant: string;
}

export interface RecordInput extends Who {
  outcome: Outcome;
  reason: string;
  attempt: number;
}

/**
 * Rows that concurrent activities write within a few milliseconds go to ClickHouse as one INSERT:
 * one part instead of one per send. Each caller resolves once its rows are stored.
 */
export class RowBatcher {
  private readonly pending = new Map<string, { w: Warehouse; table: string; rows: object[]; waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>; timer: NodeJS.Timeout }>();

  constructor(
    private readonly lingerMs = 15,
    private readonly maxRows = 2_000,
  ) {}

  insert(w: Warehouse, table: string, rows: object[]): Promise<void> {
    const id = `${w.database}\n${table}`;
    let batch = this.pending.get(id);
    if (!batch) {
      batch = { w, table, rows: [], waiters: [], timer: setTimeout(() => void this.flush(id), this.lingerMs) };
      this.pending.set(id, batch);
    }
    batch.rows.push(...rows);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.rows.length >= this.maxRows) void this.flush(id);
    return done;
  }

  private async flush(id: string): Promise<void> {
    const batch = this.pending.get(id);
    if (!batch) return;
    this.pending.delete(id);
    clearTimeout(batch.timer);
    try {
      await batch.w.insert(batch.table, batch.rows);
      for (const x of batch.waiters) x.resolve();
    } catch (err) {
      for (const x of batch.waiters) x.reject(err);
    }
  }
}

export interface DeliveryLedger {
  /** Stores outcomes (batched with concurrent writers); resolves once they are stored. */
  record(w: Warehouse, rows: RecordInput[]): Promise<void>;
  /** Keys of the Activation that already have an outcome of the given kinds. */
  recorded(w: Warehouse, activation: string, keys: string[], outcomes: Outcome[]): Promise<Set<string>>;
}

/** The namespace's ledger; `onOutcome` sees every outcome recorded (metrics). */
export function deliveryLedger(namespace: string, onOutcome?: (activation: string, outcome: Outcome) => void): DeliveryLedger {
  const batcher = new RowBatcher();
  const activationKey = (activation: string) => `${namespace}/${activation}`;
  return {
    async record(w, rows) {
      if (rows.length === 0) return;
      const at = chTime(new Date().toISOString());
      await batcher.insert(
        w,
        'activation_deliveries',
        rows.map((r) => ({ activation: activationKey(r.activation), message_id: r.key, profile_id: r.profileId, variant: r.variant, outcome: r.outcome, reason: r.reason, attempt: r.attempt, at })),
      );
      for (const r of rows) onOutcome?.(activationKey(r.activation), r.outcome);
    },
    async recorded(w, activation, keys, outcomes) {
      if (keys.length === 0) return new Set();
      const rows = await w.query<{ message_id: string }>(
        'SELECT DISTINCT message_id FROM {db}.activation_deliveries FINAL WHERE activation = {a:String} AND message_id IN {keys:Array(String)} AND outcome IN {outcomes:Array(String)}',
        { a: activationKey(activation), keys, outcomes },
      );
      return new Set(rows.map((r) => r.message_id));
    },
  };
}
