// A Pipeline that cannot make progress says so. A write that fails is retried as a whole (nothing
// is committed, the same records come back), so consecutive failures mean the partition is not
// moving: after STALL_AFTER of them the Pipeline is stalled, with the last failure as its cause,
// until a write succeeds. The state is a metric an alert fires on, and one report callback (the
// Pipeline's status, once wired) so nothing else needs to know how it is decided.
import type { Logger } from '../../lib/log.ts';
import type { PipelineMetrics } from './metrics.ts';

/** Consecutive failed writes before the Pipeline counts as stalled (each retry backs off, so this is seconds, not a blip). */
export const STALL_AFTER = 3;

export interface StallState {
  stalled: boolean;
  /** Consecutive failed writes. */
  failures: number;
  /** The last failure's message, while stalled. */
  cause?: string;
  /** When it stalled (ISO 8601). */
  since?: string;
}

export class StallWatch {
  private current: StallState = { stalled: false, failures: 0 };

  constructor(
    private readonly metrics: Pick<PipelineMetrics, 'stalled' | 'writeFailures'>,
    private readonly log: Logger,
    /** Called when the Pipeline stalls, when its cause changes, and when it moves again. */
    private readonly report: (state: StallState) => void = () => undefined,
  ) {
    // Present from the start, so an alert rule sees 0 rather than no series.
    this.metrics.stalled.set(0);
  }

  get state(): StallState {
    return this.current;
  }

  /** Runs one write and records its outcome; the write's own result (or error) passes through. */
  async track<T>(write: Promise<T>): Promise<T> {
    try {
      const result = await write;
      this.succeeded();
      return result;
    } catch (err) {
      this.failed(err);
      throw err;
    }
  }

  private failed(err: unknown): void {
    this.metrics.writeFailures.inc();
    const failures = this.current.failures + 1;
    const cause = String((err as Error)?.message ?? err).slice(0, 1000);
    if (failures < STALL_AFTER) {
      this.current = { ...this.current, failures };
      return;
    }
    const changed = !this.current.stalled || this.current.cause !== cause;
    this.current = { stalled: true, failures, cause, since: this.current.since ?? new Date().toISOString() };
    this.metrics.stalled.set(1);
    if (changed) {
      this.log.error({ failures, cause }, 'pipeline stalled: writes keep failing, offsets do not move');
      this.report(this.current);
    }
  }

  private succeeded(): void {
    if (this.current.failures === 0) return;
    const wasStalled = this.current.stalled;
    this.current = { stalled: false, failures: 0 };
    this.metrics.stalled.set(0);
    if (wasStalled) {
      this.log.info('pipeline moving again');
      this.report(this.current);
    }
  }
}
