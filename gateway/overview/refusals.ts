// Collector refusals by HTTP status, over time. They exist only as the collector's counters
// (a refused request stores nothing), so the API samples the collector's /metrics every 15 s
// while someone looks and keeps an hour of differences. Pure parts are exported for their tests.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export const REQUESTS_METRIC = 'uspa_collector_requests_total';
const SAMPLE_MS = 15_000;
const KEEP_MS = 60 * 60_000;
/** Sampling stops this long after the last reader asked. */
const IDLE_MS = 10 * 60_000;

/** `route|status` → requests counted, from the collector's metrics text (refusals only: status ≥ 400). */
export function refusalCounters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const family of parsePrometheusTextFormat(text)) {
    if (family.name !== REQUESTS_METRIC) continue;
    for (const m of family.metrics) {
      const status = Number(m.labels?.status);
      if (!(status >= 400)) continue;
      const key = `${m.labels?.route ?? ''}|${status}`;
      out.set(key, (out.get(key) ?? 0) + Number(m.value ?? 0));
    }
  }
  return out;
}

/** What was refused between two samples; a counter that went down or vanished means the collector restarted (all count from 0). */
export function refusalDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const restarted = [...before].some(([key, n]) => (after.get(key) ?? 0) < n);
  const out = new Map<string, number>();
  for (const [key, n] of after) {
    const d = restarted ? n : n - (before.get(key) ?? 0);
    if (d > 0) out.set(key, d);
  }
  return out;
}

export interface RefusalView {
  /** Whether the collector answered the last sample. */
  reachable: boolean;
  /** Why not, when it did not. */
  problem?: string;
  /** When sampling (re)started: nothing before it is known. */
  since: string | null;
  byStatus: Array<{ route: string; status: number; count: number }>;
  series: Array<{ t: string; n: number }>;
}

export class CollectorRefusals {
  private readonly samples: Array<{ at: number; delta: Map<string, number> }> = [];
  private last?: Map<string, number>;
  private since?: number;
  private problem?: string;
  private timer?: NodeJS.Timeout;
  private lastAsked = 0;

  /** `url`: where the collector's metrics are, asked at each sample (it may move). */
  constructor(private readonly url: () => Promise<string | undefined>) {}

  /** The last `minutes`, in buckets of `bucketSeconds`; starts sampling when idle. */
  async view(minutes: number, bucketSeconds: number, now = Date.now()): Promise<RefusalView> {
    this.lastAsked = now;
    if (!this.timer) {
      await this.sample();
      this.timer = setInterval(() => {
        if (Date.now() - this.lastAsked > IDLE_MS) return this.stop();
        void this.sample();
      }, SAMPLE_MS);
      this.timer.unref();
    }
    const from = now - minutes * 60_000;
    const totals = new Map<string, number>();
    const buckets = new Map<number, number>();
    const size = bucketSeconds * 1000;
    for (const s of this.samples) {
      if (s.at < from) continue;
      const b = Math.floor(s.at / size) * size;
      for (const [key, n] of s.delta) {
        totals.set(key, (totals.get(key) ?? 0) + n);
        buckets.set(b, (buckets.get(b) ?? 0) + n);
      }
    }
    return {
      reachable: this.problem === undefined,
      ...(this.problem ? { problem: this.problem } : {}),
      since: this.since ? new Date(this.since).toISOString() : null,
      byStatus: [...totals].map(([key, count]) => {
        const [route, status] = key.split('|');
        return { route: route!, status: Number(status), count };
      }).sort((a, b) => b.count - a.count),
      series: [...buckets].sort((a, b) => a[0] - b[0]).map(([t, n]) => ({ t: new Date(t).toISOString(), n })),
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
    this.since = undefined;
    this.samples.length = 0;
  }

  private async sample(): Promise<void> {
    try {
      const url = await this.url();
      if (!url) throw new Error('no collector Service in this namespace');
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
      const counters = refusalCounters(await res.text());
      const now = Date.now();
      if (this.last) this.samples.push({ at: now, delta: refusalDelta(this.last, counters) });
      else this.since = now;
      this.last = counters;
      this.problem = undefined;
      while (this.samples.length && this.samples[0]!.at < now - KEEP_MS) this.samples.shift();
    } catch (err) {
      this.problem = `could not read the collector's metrics: ${(err as Error).message}`;
    }
  }
}
