// What the alert and dashboard tests compare: the metric names USPA's code registers (read from its
// prom-client registrations, plus the default process and Node.js metrics every registry collects)
// and the metric names a PromQL query reads.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRegistry } from '../../lib/service.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DASHBOARDS = join(ROOT, 'helm/uspa/dashboards');
export const RULES = join(ROOT, 'helm/uspa/rules/uspa.rules.yaml');

/** The folders whose processes serve /metrics. */
const COMPONENT_DIRS = ['collector', 'gateway', 'workers', 'operator', 'lib'];

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface Registration {
  name: string;
  type: MetricType;
  labels: string[];
  /** Where it is registered, relative to the checkout. */
  file: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every `new Counter|Gauge|Histogram|Summary({ name: '…', … labelNames: […] })` in the components' code. */
export function registrations(): Registration[] {
  const found: Registration[] = [];
  for (const dir of COMPONENT_DIRS) {
    for (const path of sourceFiles(join(ROOT, dir))) {
      const text = readFileSync(path, 'utf8');
      for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*'([^']+)'([^\n]*)/g)) {
        const labels = /labelNames:\s*\[([^\]]*)\]/.exec(m[3]!)?.[1]?.match(/'[^']+'/g)?.map((l) => l.slice(1, -1)) ?? [];
        found.push({ name: m[2]!, type: m[1]!.toLowerCase() as MetricType, labels, file: relative(ROOT, path) });
      }
    }
  }
  return found;
}

/** The series names one metric exposes: a histogram its _bucket, _sum and _count, a summary its quantiles, _sum and _count. */
export function seriesNames(name: string, type: MetricType): string[] {
  if (type === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === 'summary') return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

/** What Prometheus itself records for every target it scrapes. */
const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'];

/** The default process and Node.js metrics, as a real registry of lib/service.ts collects them. */
export async function defaultMetrics(): Promise<{ name: string; type: MetricType }[]> {
  const metrics = await createRegistry('probe').getMetricsAsJSON();
  return metrics.map((m) => ({ name: m.name, type: String(m.type) as MetricType }));
}

/** Every series name a USPA target exposes, and Prometheus's own per-target series. */
export async function exportedSeries(): Promise<Set<string>> {
  const all = [...registrations(), ...(await defaultMetrics())];
  return new Set([...all.flatMap((m) => seriesNames(m.name, m.type)), ...SCRAPE_SERIES]);
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects. Grafana's variables ($namespace, $__rate_interval,
 * ${x}) and label_values(selector, label) are understood; strings, label matchers, ranges and
 * grouping label lists are not names. `{__name__=…}` selectors are not supported (and not used).
 */
export function metricNamesIn(query: string): string[] {
  let q = query.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  q = q.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  q = q.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  q = q.replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  // label_values(selector, label): the label is not a metric.
  q = q.replace(/\blabel_values\s*\(([^,()]*),\s*\w+\s*\)/g, ' $1 ');
  const names = new Set<string>();
  for (const m of q.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?!\w)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return [...names];
}

/** A dashboard's PromQL: every panel target's expr and every query variable's query, with where it is. */
export function dashboardQueries(dashboard: { panels?: Panel[]; templating?: { list?: { name: string; query?: unknown }[] } }): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const walk = (panels: Panel[] = []) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}" ${t.refId ?? ''}`.trim(), expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating?.list ?? []) {
    const query = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (query && /\(/.test(query)) out.push({ where: `variable $${v.name}`, expr: query });
  }
  return out;
}

interface Panel {
  title?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}

/** A query as Prometheus would run it: Grafana's variables replaced by values of their kind. */
export function asPromQL(expr: string): string {
  const q = expr.replace(/\$__rate_interval|\$__interval|\$\{__rate_interval\}/g, '5m').replace(/\$\{?(\w+)\}?/g, '.*');
  // label_values(selector, label) is Grafana's: its selector is the PromQL.
  return q.replace(/^\s*label_values\s*\(([^,()]*(?:\{[^}]*\})?[^,()]*),\s*\w+\s*\)\s*$/, '$1');
}

/** Runs a tool (promtool, helm) in the checkout; never throws on a failing exit. `text` is stdout then stderr. */
export function runTool(bin: string, args: string[]): Promise<{ code: number; out: string; err: string; text: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd: ROOT, timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout, err: stderr, text: stdout + stderr });
    });
  });
}

/** Labels Prometheus adds to every series of a target (the PodMonitor and ServiceMonitor set job and component). */
export const TARGET_LABELS = ['namespace', 'pod', 'container', 'instance', 'job', 'endpoint', 'service', 'component'];

/**
 * The labels a query uses on each USPA metric (in its {…} matchers) and in its grouping clauses
 * (by, without, on, ignoring, group_left/right), for checking them against the registrations.
 */
export function labelUses(query: string): { matchers: { metric: string; label: string }[]; grouping: string[] } {
  const q = query.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const matchers = [...q.matchAll(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g)].flatMap((m) => [...m[2]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((l) => ({ metric: m[1]!, label: l[1]! })));
  const grouping = [...q.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean));
  return { matchers, grouping };
}
