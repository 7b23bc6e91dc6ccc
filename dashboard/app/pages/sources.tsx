// Sources: each with its volume, tracking-plan violations, the snippet to paste (the write key in it
// only for admins) and a live tail of its newest events.
import { useEffect, useRef, useState } from 'preact/hooks';
import { must, type Body } from '../session.ts';
import { nextDelay, usePoll } from '../parts/poll.ts';
import { TimeChart } from '../parts/chart.tsx';
import { format } from '../parts/series.ts';
import { Card, ErrorNote, Head, Loading, ReadyBadge, useSession, When, WindowPicker } from '../parts/ui.tsx';

type TailItem = Body<'tailSourceEvents'>['events'][number];

export function Sources() {
  const { api } = useSession();
  const list = usePoll((signal) => api.GET('/v1/sources', { signal }).then(must), 10_000);
  return (
    <>
      <div class="page-head">
        <h1>Sources</h1>
      </div>
      <ErrorNote error={list.error} what="Could not load the Sources" />
      {!list.data ? (
        <Loading what="Sources" />
      ) : (
        <table>
          <Head cols={['Source', 'Type', 'State', 'Events, 24 h', 'Violations, 24 h', 'Dead letters, 24 h', 'Last event']} />
          <tbody>
            {list.data.sources.map((s) => (
              <tr key={s.name}>
                <td>
                  <a href={`/ui/sources/${s.name}`}>{s.name}</a>
                </td>
                <td>{s.type}</td>
                <td>
                  <ReadyBadge ready={s.ready} />
                </td>
                <td class="num">{format(s.last24h.events)}</td>
                <td class="num">{format(s.last24h.violations)}</td>
                <td class="num">{format(s.last24h.deadLetters)}</td>
                <td>
                  <When at={s.lastEventAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function SourcePage(props: { params: { name: string } }) {
  const { api } = useSession();
  const name = props.params.name;
  const [minutes, setMinutes] = useState(60);
  const s = usePoll((signal) => api.GET('/v1/sources/{name}', { params: { path: { name }, query: { minutes } }, signal }).then(must), 15_000, [name, minutes]);
  const d = s.data;
  return (
    <>
      <div class="page-head">
        <h1>
          Source <code>{name}</code>
        </h1>
        {d ? <ReadyBadge ready={d.ready} /> : null}
        <WindowPicker id="source-window" minutes={minutes} onChange={setMinutes} />
      </div>
      <ErrorNote error={s.error} what={`Could not load Source ${name}`} />
      {!d ? (
        <Loading what={`Source ${name}`} />
      ) : (
        <div class="grid">
          <Card title="Volume" wide>
            <TimeChart title={`Events received by ${name}`} unit="events" window={d.window} series={[{ label: name, points: d.series }]} bars />
          </Card>
          <LiveStream name={name} />
          <Card title="Snippet to paste">
            <pre class="snippet" data-testid="snippet">
              <code>{d.snippet}</code>
            </pre>
            {d.writeKey ? <p class="muted">The write key is in it: it is public in your pages anyway, but keep it out of repositories you do not own.</p> : <p class="muted">{d.writeKeyNote}</p>}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(d.snippet)}>
              Copy
            </button>
          </Card>
          <Card title={`Tracking-plan violations (${d.violations.reduce((a, v) => a + v.count, 0)})`}>
            {!d.trackingPlan ? <p class="muted">No tracking plan on this Source.</p> : null}
            {d.violations.length === 0 ? (
              <p class="muted">None in the window.</p>
            ) : (
              <table>
                <Head cols={['Event', 'What was wrong', 'Count', 'Last']} />
                <tbody>
                  {d.violations.map((v) => (
                    <tr key={`${v.event}|${v.error}`}>
                      <td>{v.event}</td>
                      <td class="message">{v.error}</td>
                      <td class="num">{v.count}</td>
                      <td>
                        <When at={v.lastAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <p>
              <a href={`/ui/dead-letters?source=${name}`}>This Source's dead letters</a>
            </p>
          </Card>
        </div>
      )}
    </>
  );
}

/** The newest events, polled every 2 s with the cursor of the previous answer (backing off on errors); pausable. */
function LiveStream(props: { name: string }) {
  const { api } = useSession();
  const [items, setItems] = useState<TailItem[]>([]);
  const [error, setError] = useState<Error>();
  const [paused, setPaused] = useState(false);
  const [open, setOpen] = useState<string>();
  const cursor = useRef<string | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout>;
    cursor.current = undefined;
    setItems([]);
    const run = async () => {
      try {
        const page = must(await api.GET('/v1/sources/{name}/events', { params: { path: { name: props.name }, query: { limit: 50, ...(cursor.current ? { after: cursor.current } : {}) } } }));
        if (stopped) return;
        cursor.current = page.cursor;
        failures = 0;
        setError(undefined);
        if (page.events.length) setItems((old) => [...page.events, ...old].slice(0, 200));
      } catch (err) {
        failures++;
        setError(err as Error);
      }
      if (!stopped) timer = setTimeout(() => void run(), nextDelay(2000, failures));
    };
    if (!paused) void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [props.name, paused]);
  return (
    <Card
      title="Live stream"
      wide
      actions={
        <button type="button" onClick={() => setPaused(!paused)} aria-pressed={paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      }
    >
      <ErrorNote error={error} what="The stream stopped" />
      <p class="muted" aria-live="polite">
        {paused ? 'Paused.' : 'Newest first, every 2 s.'} {items.length} shown.
      </p>
      <ol class="stream" data-testid="live-stream" tabIndex={0} aria-label="Newest events">
        {items.map((i) => {
          const e = i.event;
          const title = e.type === 'track' ? e.event : e.type === 'page' || e.type === 'screen' ? `${e.type} ${e.name || e.page.path}` : e.type;
          return (
            <li key={e.messageId}>
              <button type="button" class="row" aria-expanded={open === e.messageId} onClick={() => setOpen(open === e.messageId ? undefined : e.messageId)}>
                <span class="when">{new Date(i.storedAt).toLocaleTimeString()}</span>
                <span class="what">{title}</span>
                <span class="who">{e.userId ? `userId:${e.userId}` : `anonymousId:${e.anonymousId}`}</span>
              </button>
              {open === e.messageId ? <pre class="json">{JSON.stringify(e, null, 2)}</pre> : null}
            </li>
          );
        })}
      </ol>
    </Card>
  );
}
