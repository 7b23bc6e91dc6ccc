// A time chart (uPlot: canvas, ~50 KB, made for time series that update live). Lines or bars,
// one colour per series, sized to its container; described in words for screen readers.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { PersonalizationArm } from '../../../api/v1alpha1/personalization.ts';
import { align, describeSeries, type Point, type Window } from './series.ts';

export const COLOURS = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#4b5563'];

export interface ChartSeries {
  label: string;
  points: ReadonlyArray<Point>;
}

/**
 * Buckets of a window (`window` + `series` as the API sends them), or points at their own times
 * (`at`: Unix seconds and one column per series, e.g. a Segment's sizes at each computation).
 */
export function TimeChart(props: { title: string; window?: Window; series: ChartSeries[]; at?: [number[], ...number[][]]; unit: string; bars?: boolean; height?: number; values?: (n: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = props.at ?? align(props.window!, props.series.map((s) => s.points));
  const labels = props.series.map((s) => s.label);
  const shape = `${labels.join('|')}|${props.bars ? 'b' : 'l'}`;

  useEffect(() => {
    const el = box.current!;
    const bars = props.bars ? uPlot.paths.bars!({ size: [0.8, 40], gap: 1 }) : undefined;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: props.height ?? 180,
      legend: { show: props.series.length > 1, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{ stroke: '#475569', grid: { stroke: '#e2e8f0' } }, { stroke: '#475569', grid: { stroke: '#e2e8f0' }, size: 56, values: (_u, ticks) => ticks.map((t) => (props.values ? props.values(t) : String(t))) }],
      series: [{}, ...labels.map((label, i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 2, fill: props.bars ? `${COLOURS[i % COLOURS.length]}cc` : `${COLOURS[i % COLOURS.length]}22`, ...(bars ? { paths: bars, points: { show: false } } : { points: { show: false } }) }))],
    };
    plot.current = new uPlot(opts, data as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth || 600, height: props.height ?? 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  });

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} role="img" aria-label={`${props.title}. ${describeSeries(labels, data.slice(1) as number[][], props.unit)}`} />
    </figure>
  );
}

/** A tiny inline trend (segment sizes in a list). */
export function Sparkline(props: { values: number[]; label: string; width?: number; height?: number }) {
  const w = props.width ?? 96;
  const h = props.height ?? 24;
  const v = props.values;
  if (v.length < 2) return <span class="muted">–</span>;
  const min = Math.min(...v);
  const max = Math.max(...v);
  const y = (n: number) => h - 2 - ((n - min) / (max - min || 1)) * (h - 4);
  const d = v.map((n, i) => `${(i / (v.length - 1)) * (w - 2) + 1},${y(n).toFixed(1)}`).join(' ');
  return (
    <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
      <polyline points={d} fill="none" stroke={COLOURS[0]} stroke-width="1.5" />
    </svg>
  );
}

/** Horizontal bars with values, for shares (persona sizes, causes). */
export function Bars(props: { title: string; items: Array<{ label: string; value: number; note?: string }>; unit?: string }) {
  const max = Math.max(1, ...props.items.map((i) => i.value));
  return (
    <figure class="bars">
      <figcaption>{props.title}</figcaption>
      <ul>
        {props.items.map((i, k) => (
          <li key={i.label}>
            <span class="bar-label">{i.label}</span>
            <span class="bar-track" aria-hidden="true">
              <span class="bar" style={{ width: `${(i.value / max) * 100}%`, background: COLOURS[k % COLOURS.length] }} />
            </span>
            <span class="bar-value">
              {i.value.toLocaleString('en-US')}
              {props.unit ? ` ${props.unit}` : ''}
              {i.note ? ` (${i.note})` : ''}
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

export type Arm = PersonalizationArm;

/** Each arm's lift over the holdout with its 95% interval, around a line at 0 (no effect). */
export function LiftChart(props: { title: string; arms: Arm[] }) {
  const arms = props.arms.filter((a) => a.arm !== '(holdout)');
  const holdout = props.arms.find((a) => a.arm === '(holdout)');
  const values = arms.flatMap((a) => [a.liftLow ?? a.lift ?? 0, a.liftHigh ?? a.lift ?? 0, 0]);
  const lo = Math.min(-0.1, ...values);
  const hi = Math.max(0.1, ...values);
  const W = 420;
  const row = 28;
  const left = 120;
  const x = (v: number) => left + ((v - lo) / (hi - lo)) * (W - left - 16);
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${Math.round(v * 100)}%`;
  if (!holdout) return <p class="muted">No holdout group yet: lift needs one (holdoutPercent &gt; 0) and its first exposures.</p>;
  const text = arms.map((a) => (a.lift === undefined ? `${a.arm || 'default'}: no lift yet` : `${a.arm || 'default'}: ${pct(a.lift)}${a.liftLow !== undefined ? ` (95% ${pct(a.liftLow)} to ${pct(a.liftHigh!)})` : ''}`)).join('; ');
  return (
    <figure class="lift">
      <figcaption>{props.title}</figcaption>
      <svg width="100%" viewBox={`0 0 ${W} ${arms.length * row + 24}`} role="img" aria-label={`${props.title}: ${text}`}>
        <line x1={x(0)} x2={x(0)} y1={0} y2={arms.length * row + 4} stroke="#64748b" stroke-dasharray="3 3" />
        <text x={x(0)} y={arms.length * row + 18} font-size="11" text-anchor="middle" fill="#475569">
          0 = holdout ({(holdout.rate * 100).toFixed(1)}%)
        </text>
        {arms.map((a, i) => {
          const cy = i * row + 14;
          return (
            <g key={a.arm}>
              <text x={0} y={cy + 4} font-size="12" fill="#0f172a">
                {a.arm || 'default'}
              </text>
              {a.liftLow !== undefined && a.liftHigh !== undefined ? <line x1={x(a.liftLow)} x2={x(a.liftHigh)} y1={cy} y2={cy} stroke={COLOURS[i % COLOURS.length]} stroke-width="3" /> : null}
              {a.lift !== undefined ? <circle cx={x(a.lift)} cy={cy} r={5} fill={COLOURS[i % COLOURS.length]} /> : null}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
