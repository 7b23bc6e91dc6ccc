// Campaign results: each Activation's sends, failures and suppressions over time, why messages were
// not sent, each variant's lift over the holdout (95% interval) and recent deliveries; and each
// placement (Personalization) with its exposures per arm and lift.
import { useState } from 'preact/hooks';
import { must } from '../session.ts';
import { usePoll } from '../parts/poll.ts';
import { LiftChart, TimeChart } from '../parts/chart.tsx';
import { format } from '../parts/series.ts';
import { Card, ErrorNote, Head, Loading, ReadyBadge, useCan, useSession, When, WindowPicker } from '../parts/ui.tsx';

export function Campaigns() {
  const { api } = useSession();
  const canPlacements = useCan('personalizations:read');
  const [minutes, setMinutes] = useState(1440);
  const activations = usePoll((signal) => api.GET('/v1/activations', { params: { query: { limit: 100 } }, signal }).then(must), 30_000);
  const placements = usePoll(async (signal) => (canPlacements ? must(await api.GET('/v1/personalizations', { params: { query: { minutes } }, signal })) : undefined), 30_000, [minutes, canPlacements]);
  const names = (activations.data?.items ?? []).map((a) => a.name);
  return (
    <>
      <div class="page-head">
        <h1>Campaigns</h1>
        <WindowPicker id="campaigns-window" minutes={minutes} onChange={setMinutes} />
      </div>
      <h2>Activations</h2>
      <ErrorNote error={activations.error} what="Could not load the Activations" />
      {!activations.data ? <Loading what="Activations" /> : names.length === 0 ? <p class="muted">No Activations yet.</p> : names.map((n) => <ActivationResults key={n} name={n} minutes={minutes} />)}
      {canPlacements ? (
        <>
          <h2>Personalization</h2>
          <ErrorNote error={placements.error} what="Could not load the placements" />
          {!placements.data ? (
            <Loading what="placements" />
          ) : placements.data.placements.length === 0 ? (
            <p class="muted">No placements (Personalization resources) yet.</p>
          ) : (
            <div class="grid">
              {placements.data.placements.map((p) => {
                const arms = [...new Set(p.exposures.map((e) => e.arm))].sort();
                return (
                  <Card key={p.name} title={`Placement ${p.name}`} wide actions={<ReadyBadge ready={p.ready} />}>
                    <p class="muted">
                      {p.strategy}, {p.variants.length} variants, holdout {p.holdoutPercent}% · conversion: {p.conversion.event} within {p.conversion.within} · lift computed <When at={p.liftComputedAt} />
                    </p>
                    <div class="two">
                      <TimeChart title="Exposures per arm" unit="exposures" window={placements.data!.window} series={arms.map((arm) => ({ label: arm, points: p.exposures.filter((e) => e.arm === arm) }))} />
                      <div>
                        <LiftChart title="Lift over the holdout (95% interval)" arms={p.lift} />
                        <ArmTable arms={p.lift} />
                      </div>
                    </div>
                  </Card>
                );
              })}
            </div>
          )}
        </>
      ) : null}
    </>
  );
}

function ArmTable(props: { arms: Array<{ arm: string; exposed: number; converted: number; rate: number; lift?: number; liftLow?: number; liftHigh?: number }> }) {
  const pct = (v?: number) => (v === undefined ? '–' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
  return (
    <table class="arms">
      <Head cols={['Arm', 'People', 'Converted', 'Rate', 'Lift', '95% interval']} />
      <tbody>
        {props.arms.map((a) => (
          <tr key={a.arm}>
            <td>{a.arm || 'default'}</td>
            <td class="num">{format(a.exposed)}</td>
            <td class="num">{format(a.converted)}</td>
            <td class="num">{(a.rate * 100).toFixed(1)}%</td>
            <td class="num">{pct(a.lift)}</td>
            <td class="num">{a.liftLow === undefined ? '–' : `${pct(a.liftLow)} … ${pct(a.liftHigh)}`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ActivationResults(props: { name: string; minutes: number }) {
  const { api } = useSession();
  const r = usePoll((signal) => api.GET('/v1/activations/{name}/results', { params: { path: { name: props.name }, query: { minutes: props.minutes, limit: 10 } }, signal }).then(must), 30_000, [props.name, props.minutes]);
  const d = r.data;
  return (
    <Card title={`Activation ${props.name}`} wide actions={d ? <ReadyBadge ready={d.ready} /> : null}>
      <ErrorNote error={r.error} />
      {!d ? (
        <Loading what="results" />
      ) : (
        <>
          <dl class="figures">
            {(['sent', 'failed', 'suppressed', 'holdout'] as const).map((o) => (
              <div key={o}>
                <dt>{o}, in the window</dt>
                <dd>{format(d.totals[o])}</dd>
              </div>
            ))}
            <div>
              <dt>sent, all time</dt>
              <dd>{format(d.status.sent)}</dd>
            </div>
            <div>
              <dt>last sent</dt>
              <dd>
                <When at={d.status.lastSentAt} />
              </dd>
            </div>
          </dl>
          <div class="two">
            <TimeChart
              title="Deliveries by outcome"
              unit="messages"
              window={d.window}
              series={(['sent', 'failed', 'suppressed', 'holdout'] as const).map((o) => ({ label: o, points: d.series.map((p) => ({ t: p.t, n: p[o] })) }))}
            />
            <div>
              <LiftChart title="Lift per variant over the holdout (95% interval)" arms={d.lift} />
              <ArmTable arms={d.lift} />
            </div>
          </div>
          {d.reasons.length ? (
            <>
              <h3>Why not sent</h3>
              <ul>
                {d.reasons.map((x) => (
                  <li key={`${x.outcome}|${x.reason}`}>
                    {x.outcome}: {x.reason || '(no reason recorded)'} — {format(x.count)}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          <h3>Recent deliveries</h3>
          <table>
            <Head cols={['When', 'Outcome', 'Variant', 'Profile', 'Attempt', 'Reason']} />
            <tbody>
              {d.recent.map((x) => (
                <tr key={`${x.at}|${x.profileId}|${x.outcome}`}>
                  <td>
                    <When at={x.at} />
                  </td>
                  <td>{x.outcome}</td>
                  <td>{x.variant || '–'}</td>
                  <td>
                    <a href={`/ui/profiles?identity=${encodeURIComponent(`profileId:${x.profileId}`)}`}>{x.profileId.slice(0, 12)}</a>
                  </td>
                  <td class="num">{x.attempt}</td>
                  <td class="message">{x.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Card>
  );
}
