// The namespace at a glance: volume per Source, freshness, lag, dead letters and refusals by cause,
// and every resource's state. Updates every 5 s.
import { useState } from 'preact/hooks';
import { must } from '../session.ts';
import { usePoll } from '../parts/poll.ts';
import { Bars, TimeChart } from '../parts/chart.tsx';
import { format } from '../parts/series.ts';
import { Card, ErrorNote, Head, Loading, ReadyBadge, useSession, When, WindowPicker } from '../parts/ui.tsx';

const seconds = (s: number | null | undefined) => (s == null ? '–' : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`);

export function Overview() {
  const { api } = useSession();
  const [minutes, setMinutes] = useState(60);
  const o = usePoll((signal) => api.GET('/v1/overview', { params: { query: { minutes } }, signal }).then(must), 5000, [minutes]);
  const d = o.data;
  const unhealthy = d?.resources.filter((r) => r.ready?.status !== 'True') ?? [];
  return (
    <>
      <div class="page-head">
        <h1>Overview</h1>
        <WindowPicker id="overview-window" minutes={minutes} onChange={setMinutes} />
        {o.at ? <span class="muted live">updated {o.at.toLocaleTimeString()}</span> : null}
      </div>
      <ErrorNote error={o.error} what="Could not load the overview" />
      {!d ? (
        <Loading what="the overview" />
      ) : (
        <div class="grid">
          <Card title="Freshness: collector → queryable" >
            <dl class="figures">
              <div>
                <dt>p50, last 5 min</dt>
                <dd data-testid="freshness-p50">{seconds(d.freshness.recent.p50Seconds)}</dd>
              </div>
              <div>
                <dt>p95, last 5 min</dt>
                <dd>{seconds(d.freshness.recent.p95Seconds)}</dd>
              </div>
              <div>
                <dt>events, last 5 min</dt>
                <dd>{format(d.freshness.recent.events)}</dd>
              </div>
            </dl>
            <TimeChart
              title="Freshness p50 and p95 (seconds)"
              unit="s"
              window={d.window}
              height={140}
              series={[
                { label: 'p50', points: d.freshness.series.map((p) => ({ t: p.t, n: p.p50Seconds })) },
                { label: 'p95', points: d.freshness.series.map((p) => ({ t: p.t, n: p.p95Seconds })) },
              ]}
              values={(n) => `${n.toFixed(1)} s`}
            />
          </Card>
          <Card title="Events received per Source" wide>
            <p class="figures-inline">
              {d.sources.map((s) => (
                <span key={s.source}>
                  <a href={`/ui/sources/${s.source}`}>{s.source}</a> {format(s.perSecond)}/s now · {format(s.total)} in the window
                </span>
              ))}
            </p>
            <TimeChart title="Events per bucket, by Source" unit="events" window={d.window} series={d.sources.map((s) => ({ label: s.source, points: s.series }))} bars={d.sources.length === 1} />
          </Card>
          <Card title="Consumer lag per Pipeline">
            <table>
              <Head cols={['Pipeline', 'Lag (events)', 'Measured', 'State']} />
              <tbody>
                {d.pipelines.map((p) => (
                  <tr key={p.name}>
                    <td>{p.name}</td>
                    <td class="num">{p.consumerLag == null ? '–' : format(p.consumerLag)}</td>
                    <td>
                      <When at={p.lagUpdatedAt} />
                    </td>
                    <td>
                      <ReadyBadge ready={p.ready} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          <Card title="Dead letters by cause" actions={<a href="/ui/dead-letters">Inspect and replay</a>}>
            {d.deadLetters.total === 0 ? <p class="muted">None in the window.</p> : <Bars title={`${format(d.deadLetters.total)} in the window`} items={d.deadLetters.byCause.map((c) => ({ label: `${c.source} · ${c.reason}`, value: c.count }))} />}
          </Card>
          <Card title="Collector refusals by status">
            {!d.refusals.reachable ? <p class="muted">{d.refusals.problem}</p> : null}
            {d.refusals.byStatus.length === 0 ? (
              <p class="muted">None{d.refusals.since ? ' since ' : ''}{d.refusals.since ? <When at={d.refusals.since} /> : null}.</p>
            ) : (
              <Bars title={d.refusals.since ? `Since ${new Date(d.refusals.since).toLocaleTimeString()}` : 'Refusals'} items={d.refusals.byStatus.map((r) => ({ label: `${r.status} ${r.route}`, value: r.count }))} />
            )}
          </Card>
          <Card title={`Resources (${d.resources.length}, ${unhealthy.length} not ready)`} wide>
            <table>
              <Head cols={['Kind', 'Name', 'State', 'Why']} />
              <tbody>
                {[...unhealthy, ...d.resources.filter((r) => r.ready?.status === 'True')].map((r) => (
                  <tr key={`${r.kind}/${r.name}`}>
                    <td>{r.kind}</td>
                    <td>{r.kind === 'Segment' ? <a href={`/ui/segments/${r.name}`}>{r.name}</a> : r.kind === 'Source' ? <a href={`/ui/sources/${r.name}`}>{r.name}</a> : r.name}</td>
                    <td>
                      <ReadyBadge ready={r.ready} />
                      {r.observedGeneration !== null && r.observedGeneration < r.generation ? <span class="muted"> (applying generation {r.generation})</span> : null}
                    </td>
                    <td class="message">{r.ready?.message ?? 'the operator has not reported on it yet'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
        </div>
      )}
    </>
  );
}
