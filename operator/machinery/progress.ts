// Whether a consumer makes progress, from what the operator can see of it: its committed offsets
// and its lag. Offsets that stay put while events wait, for longer than the stall window, mean it
// is stuck — whatever the worker itself says (it may be unable to say anything).
export class ProgressWatch {
  private readonly last = new Map<string, { committed: number; at: number }>();

  constructor(private readonly stallAfterMs: number) {}

  /**
   * Records one observation; returns since when (epoch ms) the committed offsets have not moved
   * while events waited, once that is longer than the stall window, else undefined.
   */
  observe(key: string, committed: number, lag: number, now: number = Date.now()): number | undefined {
    const seen = this.last.get(key);
    if (!seen || seen.committed !== committed || lag <= 0) {
      this.last.set(key, { committed, at: now });
      return undefined;
    }
    return now - seen.at >= this.stallAfterMs ? seen.at : undefined;
  }

  forget(key: string): void {
    this.last.delete(key);
  }
}
