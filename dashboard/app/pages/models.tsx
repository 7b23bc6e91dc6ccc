// Models: each personas version's persona sizes and quality figures, and recommendation quality
// (coverage, offline precision and recall against popularity) over versions.
import { must } from '../session.ts';
import { usePoll } from '../parts/poll.ts';
import { Bars, TimeChart } from '../parts/chart.tsx';
import { Card, ErrorNote, Head, Loading, useSession, When } from '../parts/ui.tsx';

const num = (v: unknown, digits = 3) => (typeof v === 'number' ? v.toFixed(digits) : '–');

export function Models() {
  const { api } = useSession();
  const m = usePoll((signal) => api.GET('/v1/models', { params: { query: { limit: 30 } }, signal }).then(must), 60_000);
  const d = m.data;
  if (m.error) return <ErrorNote error={m.error} what="Could not load the models" />;
  if (!d) return <Loading what="models" />;
  const q = (v: { quality: unknown }) => v.quality as Record<string, unknown>;
  const latest = d.personas[0];
  const recs = [...d.recommendations].reverse();
  const offline = (q: Record<string, unknown>, who: 'model' | 'popularity', figure: string) => {
    const o = q.offline as Record<string, Record<string, unknown> | null> | undefined;
    const v = o?.[who]?.[figure];
    return typeof v === 'number' ? v : NaN;
  };
  return (
    <>
      <div class="page-head">
        <h1>Models</h1>
      </div>
      <div class="grid">
        <Card title={latest ? `Personas, version ${latest.version}` : 'Personas'}>
          {!latest ? (
            <p class="muted">Not trained yet: a Pipeline's spec.models.personas schedules it.</p>
          ) : (
            <>
              <p class="muted">
                {String(q(latest).algorithm ?? 'kmeans')}, trained <When at={latest.trainedAt} /> on {String(q(latest).n ?? '?')} profiles · k = {String(q(latest).k ?? '?')} · silhouette {num(q(latest).silhouette)}
              </p>
              <Bars title="Profiles per persona" items={latest.personas.map((p) => ({ label: p.label, value: p.size, note: `${(p.share * 100).toFixed(1)}%` }))} />
            </>
          )}
        </Card>
        <Card title="Personas versions">
          {d.personas.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <table>
              <Head cols={['Version', 'Trained', 'Algorithm', 'k', 'Silhouette', 'Profiles']} />
              <tbody>
                {d.personas.map((v) => (
                  <tr key={v.version}>
                    <td>{v.version}</td>
                    <td>
                      <When at={v.trainedAt} />
                    </td>
                    <td>{String(q(v).algorithm ?? 'kmeans')}</td>
                    <td class="num">{String(q(v).k ?? '–')}</td>
                    <td class="num">{num(q(v).silhouette)}</td>
                    <td class="num">{String(q(v).n ?? '–')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Recommendation quality over versions" wide>
          {recs.length === 0 ? (
            <p class="muted">Not trained yet: a Pipeline's spec.models.recommendations schedules it.</p>
          ) : (
            <>
              {recs.length > 1 ? (
                <TimeChart
                  title="Offline precision@10: model against popularity, and coverage"
                  unit=""
                  series={[{ label: 'model', points: [] }, { label: 'popularity', points: [] }, { label: 'coverage', points: [] }]}
                  at={[recs.map((r) => Date.parse(r.trainedAt) / 1000), recs.map((r) => offline(q(r), 'model', 'precision') || 0), recs.map((r) => offline(q(r), 'popularity', 'precision') || 0), recs.map((r) => Number(q(r).coverage ?? 0))]}
                  values={(n) => n.toFixed(2)}
                />
              ) : null}
              <table>
                <Head cols={['Version', 'Trained', 'Items', 'Coverage', 'Precision@10 (model / popularity)', 'Recall@10 (model / popularity)']} />
                <tbody>
                  {d.recommendations.map((v) => (
                    <tr key={v.version}>
                      <td>{v.version}</td>
                      <td>
                        <When at={v.trainedAt} />
                      </td>
                      <td class="num">{String(q(v).items ?? '–')}</td>
                      <td class="num">{num(q(v).coverage, 2)}</td>
                      <td class="num">
                        {num(offline(q(v), 'model', 'precision'))} / {num(offline(q(v), 'popularity', 'precision'))}
                      </td>
                      <td class="num">
                        {num(offline(q(v), 'model', 'recall'))} / {num(offline(q(v), 'popularity', 'recall'))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </Card>
      </div>
    </>
  );
}
