// Profile explorer: find a person by any identity; traits with when and from where each was set,
// identities with the links that joined them (unmerge for admins), timeline, segments, persona,
// interests, recommendations and consent; access export and erasure for the privacy role.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { must, type Body } from '../session.ts';
import { usePoll } from '../parts/poll.ts';
import { Bars } from '../parts/chart.tsx';
import { format } from '../parts/series.ts';
import { Card, ErrorNote, Head, Loading, useCan, useSession, When } from '../parts/ui.tsx';

type Profile = Body<'getProfile'>;

export function Profiles() {
  const { query, route } = useLocation();
  const identity = query.identity ?? '';
  const [text, setText] = useState(identity);
  const [hint, setHint] = useState<string>();
  const search = (e: Event) => {
    e.preventDefault();
    const t = text.trim();
    if (!/^[A-Za-z][A-Za-z0-9_]*:.+$/.test(t)) {
      setHint('Write an identity as type:value, e.g. userId:u-1, email:ada@example.com or anonymousId:…');
      return;
    }
    setHint(undefined);
    route(`/ui/profiles?identity=${encodeURIComponent(t)}`);
  };
  return (
    <>
      <div class="page-head">
        <h1>Profiles</h1>
      </div>
      <form class="search" role="search" onSubmit={search}>
        <label for="identity">Identity</label>
        <input id="identity" placeholder="userId:u-1 · email:ada@example.com · anonymousId:…" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} aria-invalid={hint ? 'true' : undefined} aria-describedby={hint ? 'identity-hint' : undefined} />
        <button type="submit">Find</button>
        {hint ? (
          <p id="identity-hint" class="error" role="alert">
            {hint}
          </p>
        ) : null}
      </form>
      {identity ? <ProfileView identity={identity} key={identity} /> : <p class="muted">Search by any identity the profile has: its merges bring you to the same person.</p>}
    </>
  );
}

function ProfileView(props: { identity: string }) {
  const { api } = useSession();
  const identity = props.identity;
  const p = usePoll((signal) => api.GET('/v1/profiles/{identity}', { params: { path: { identity } }, signal }).then(must), 30_000, [identity]);
  if (p.error) return <ErrorNote error={p.error} what={`No profile for ${identity}`} />;
  if (!p.data) return <Loading what="the profile" />;
  const d: Profile = p.data;
  return (
    <div class="grid">
      <Card title={`Profile ${d.profileId}`} wide>
        <dl class="figures">
          <div>
            <dt>first seen</dt>
            <dd>
              <When at={d.computed.firstSeen} />
            </dd>
          </div>
          <div>
            <dt>last seen</dt>
            <dd>
              <When at={d.computed.lastSeen} />
            </dd>
          </div>
          <div>
            <dt>events</dt>
            <dd>{format(d.computed.eventCount)}</dd>
          </div>
          <div>
            <dt>orders</dt>
            <dd>{d.computed.orderCount}</dd>
          </div>
          <div>
            <dt>lifetime revenue</dt>
            <dd>{d.computed.lifetimeRevenue.toFixed(2)}</dd>
          </div>
          <div>
            <dt>persona</dt>
            <dd>{d.persona ? `${d.persona.label} (model v${d.persona.modelVersion})` : 'none yet'}</dd>
          </div>
        </dl>
        {d.redacted.length ? <p class="muted">{d.redacted.length} direct identifiers are shown as [redacted]: this role does not see them.</p> : null}
      </Card>
      <Card title="Traits">
        <table>
          <Head cols={['Trait', 'Value', 'Set', 'From']} />
          <tbody>
            {Object.entries(d.traits).map(([name, t]) => (
              <tr key={name}>
                <td>{name}</td>
                <td class="message">{typeof t.value === 'string' ? t.value : JSON.stringify(t.value)}</td>
                <td>
                  <When at={t.setAt} />
                </td>
                <td title={t.messageId}>{t.source || 'no longer stored'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Segments, consent, interests">
        <h3>Segments</h3>
        {d.segments.length === 0 ? (
          <p class="muted">In no Segment.</p>
        ) : (
          <ul class="chips">
            {d.segments.map((s) => (
              <li key={s.segment}>
                <a href={`/ui/segments/${s.segment}`}>{s.segment}</a> <span class="muted">since {new Date(s.since).toLocaleDateString()}</span>
              </li>
            ))}
          </ul>
        )}
        <h3>Consent</h3>
        <ul class="chips">
          {Object.entries(d.consent).map(([purpose, yes]) => (
            <li key={purpose} class={yes ? 'yes' : 'no'}>
              {purpose}: {yes ? 'yes' : 'no'}
            </li>
          ))}
          {Object.keys(d.consent).length === 0 ? <li class="muted">no consent recorded</li> : null}
        </ul>
        {Object.keys(d.interests).length ? (
          <Bars
            title="Interests (share of interactions)"
            items={Object.entries(d.interests)
              .sort((a, b) => b[1] - a[1])
              .slice(0, 8)
              .map(([k, v]) => ({ label: k, value: Math.round(v * 100) }))}
            unit="%"
          />
        ) : null}
      </Card>
      <Identities identity={identity} profile={d} onChanged={p.reload} />
      <Recommendations identity={identity} />
      <Timeline identity={identity} />
      <Privacy identity={identity} />
    </div>
  );
}

function Identities(props: { identity: string; profile: Profile; onChanged: () => void }) {
  const { api } = useSession();
  const canUnmerge = useCan('identities:unmerge');
  const merges = usePoll((signal) => api.GET('/v1/profiles/{identity}/merges', { params: { path: { identity: props.identity } }, signal }).then(must), null, [props.identity]);
  const [status, setStatus] = useState<string>();
  const unmerge = async (edgeId: string) => {
    const reason = prompt('Why undo this link? (recorded with the undo)');
    if (!reason) return;
    setStatus('Asking the pipeline to undo the link…');
    try {
      const edge = must(await api.POST('/v1/profiles/{identity}/unmerge', { params: { path: { identity: props.identity } }, body: { edgeId, reason } }));
      setStatus(`Undone (${edge.id}): the two sides are separate profiles again.`);
      merges.reload();
      props.onChanged();
    } catch (err) {
      setStatus(`Not undone: ${(err as Error).message}`);
    }
  };
  const links = merges.data?.edges ?? [];
  return (
    <Card title={`Identities (${props.profile.identities.length})`}>
      <ul class="chips">
        {props.profile.identities.map((i) => (
          <li key={i}>
            <code>{i}</code>
          </li>
        ))}
      </ul>
      <h3>Links that joined them</h3>
      <ErrorNote error={merges.error} />
      {status ? <p role="status">{status}</p> : null}
      {links.length === 0 ? (
        <p class="muted">No links: one identity.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Link</th>
              <th scope="col">Why</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {links.map((e) => (
              <tr key={e.id} class={e.undone || e.action !== 'link' ? 'muted' : ''}>
                <td>
                  <When at={e.eventTime} />
                </td>
                <td>
                  <code>{e.a}</code> {e.action === 'link' ? '↔' : e.action === 'refused' ? '⊘' : '↮'} <code>{e.b}</code>
                  {e.mergeFrom ? <span class="muted"> (merged {e.mergeFrom} into {e.mergeInto})</span> : null}
                </td>
                <td>
                  {e.action}
                  {e.rule ? ` by ${e.rule}` : ''}
                  {e.reason ? `: ${e.reason}` : ''}
                  {e.undone ? ' (undone)' : ''}
                </td>
                <td>
                  {canUnmerge && e.action === 'link' && !e.undone ? (
                    <button type="button" class="link" onClick={() => void unmerge(e.id)}>
                      Unmerge
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function Recommendations(props: { identity: string }) {
  const { api } = useSession();
  const can = useCan('recommendations:read');
  const r = usePoll(async (signal) => (can ? must(await api.GET('/v1/profiles/{identity}/recommendations', { params: { path: { identity: props.identity }, query: { limit: 10 } }, signal })) : undefined), null, [props.identity, can]);
  if (!can) return null;
  return (
    <Card title="Recommendations">
      <ErrorNote error={r.error} />
      {r.data && r.data.items.length === 0 ? <p class="muted">None yet: the recommendations model has not trained on this person.</p> : null}
      <ol>
        {(r.data?.items ?? []).map((i) => (
          <li key={i.item}>
            <code>{i.item}</code> <span class="muted">score {i.score.toFixed(2)}</span>
          </li>
        ))}
      </ol>
    </Card>
  );
}

function Timeline(props: { identity: string }) {
  const { api } = useSession();
  const can = useCan('events:read');
  const [cursor, setCursor] = useState<string>();
  const t = usePoll(async (signal) => (can ? must(await api.GET('/v1/profiles/{identity}/events', { params: { path: { identity: props.identity }, query: { limit: 25, ...(cursor ? { cursor } : {}) } }, signal })) : undefined), null, [props.identity, cursor, can]);
  if (!can) return null;
  return (
    <Card title="Timeline" wide>
      <ErrorNote error={t.error} />
      <ol class="stream" tabIndex={0} aria-label="Events, newest first">
        {(t.data?.events ?? []).map((e) => (
          <li key={e.messageId}>
            <span class="when">{new Date(e.timestamp).toLocaleString()}</span> <span class="what">{e.type === 'track' ? e.event : `${e.type} ${e.name || e.page.path}`}</span> <span class="muted">{e.source}</span>
            {e.revenue ? <span> · {e.revenue.toFixed(2)}</span> : null}
          </li>
        ))}
      </ol>
      {t.data?.next_cursor ? (
        <button type="button" onClick={() => setCursor(t.data!.next_cursor!)}>
          Older
        </button>
      ) : null}
    </Card>
  );
}

/** Access export and erasure: PrivacyRequests made through the API, for roles with privacy:requests. */
function Privacy(props: { identity: string }) {
  const { api } = useSession();
  const can = useCan('privacy:requests');
  const [status, setStatus] = useState<string>();
  if (!can) return null;
  const request = async (action: 'access' | 'erase') => {
    if (action === 'erase' && !confirm(`Erase ${props.identity} everywhere? Their events, traits and identities are deleted and they are suppressed from now on. This cannot be undone.`)) return;
    const name = `${action}-${Date.now().toString(36)}`;
    try {
      must(await api.POST('/v1/privacy-requests', { body: { name, spec: { identity: props.identity, action, reference: 'dashboard' } } }));
      setStatus(`PrivacyRequest ${name} made: ${action === 'access' ? 'the export is ready to download once it completes (GET /v1/privacy-requests/' + name + '/export)' : 'the erasure runs now; its signed receipt is in the request status'}.`);
    } catch (err) {
      setStatus(`Not made: ${(err as Error).message}`);
    }
  };
  return (
    <Card title="Privacy">
      <p>Requests cover every identity linked to this person.</p>
      <button type="button" onClick={() => void request('access')}>
        Export what is held (access)
      </button>{' '}
      <button type="button" class="danger" onClick={() => void request('erase')}>
        Erase everywhere
      </button>
      {status ? <p role="status">{status}</p> : null}
    </Card>
  );
}
