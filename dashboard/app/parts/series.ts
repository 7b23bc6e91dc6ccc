// Time series as the API sends them ({t, n} per bucket that had any) → aligned columns for a chart,
// with the empty buckets as zeros. Pure, for its unit test.

export interface Point {
  t: string;
  n: number;
}

export interface Window {
  from: string;
  to: string;
  bucketSeconds: number;
}

/** Bucket starts (Unix seconds) from the window's first bucket to its last, and each series' value in each. */
export function align(window: Window, series: ReadonlyArray<ReadonlyArray<Point>>): [number[], ...number[][]] {
  const step = window.bucketSeconds;
  const first = Math.floor(Date.parse(window.from) / 1000 / step) * step;
  const last = Math.floor(Date.parse(window.to) / 1000 / step) * step;
  const times: number[] = [];
  for (let t = first; t <= last; t += step) times.push(t);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((points) => {
    const column = new Array<number>(times.length).fill(0);
    for (const p of points) {
      const i = index.get(Math.floor(Date.parse(p.t) / 1000 / step) * step);
      if (i !== undefined) column[i]! += p.n;
    }
    return column;
  });
  return [times, ...columns];
}

/** A one-line summary of a chart for screen readers. */
export function describeSeries(labels: readonly string[], columns: readonly number[][], unit: string): string {
  return labels
    .map((label, i) => {
      const c = columns[i] ?? [];
      const total = c.reduce((a, b) => a + b, 0);
      const peak = c.reduce((a, b) => Math.max(a, b), 0);
      return `${label}: ${format(total)} ${unit} in all, at most ${format(peak)} per bucket`;
    })
    .join('; ');
}

export function format(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(2);
}
