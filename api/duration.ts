// Durations as custom resources write them ("15m", "1h30m", "7d"): the CRD patterns accept
// exactly these units, and the operator, the workers and the workflows read them the same way.
export const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1h30m" → 5400000. */
export function durationMs(value: string): number {
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(n) * UNITS[unit!]!;
  return total;
}
