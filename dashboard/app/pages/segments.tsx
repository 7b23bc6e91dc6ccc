// Segments: sizes with sparklines, each one's size history, a sample of members and exports, and
// the rule editor that writes the Segment resource through the API (errors shown at their field).
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { must, ApiProblem, type Body } from '../session.ts';
import { usePoll } from '../parts/poll.ts';
import { Sparkline, TimeChart } from '../parts/chart.tsx';
import { format } from '../parts/series.ts';
import { Card, ErrorNote, Head, Loading, ReadyBadge, useCan, useSession, When } from '../parts/ui.tsx';
import { emptyRow, INTEREST_OPERATORS, KINDS, OPERATORS, PROFILE_FIELDS, mergePatchTo, placeError, rowsToRule, ruleToRows, type Kind, type Row } from '../parts/rule-builder.ts';

type Segment = Body<'listSegments'>['segments'][number];

function Size(props: { s: Pick<Segment, 'size' | 'computed' | 'mode'> }) {
  if (!props.s.computed || props.s.size === null) return <span class="muted">computing…</span>;
  return <span data-testid="segment-size">{format(props.s.size)}</span>;
}

export function Segments() {
  const { api } = useSession();
  const canWrite = useCan('segments:write');
  const list = usePoll(async (signal) => {
    const page = must(await api.GET('/v1/segments', { params: { query: { limit: 200 } }, signal }));
    // Sparklines: each Segment's last sizes (one call per Segment, at most 50).
    const histories = await Promise.all(
      page.segments.slice(0, 50).map(async (s) => {
        const d = await api.GET('/v1/segments/{name}', { params: { path: { name: s.name }, query: { history_limit: 30 } }, signal });
        return [s.name, (d.data?.history ?? []).map((h) => h.size).reverse()] as const;
      }),
    );
    return { segments: page.segments, histories: new Map(histories) };
  }, 10_000);
  return (
    <>
      <div class="page-head">
        <h1>Segments</h1>
        {canWrite ? (
          <a class="button" href="/ui/segments/new">
            New Segment
          </a>
        ) : null}
      </div>
      <ErrorNote error={list.error} what="Could not load the Segments" />
      {!list.data ? (
        <Loading what="Segments" />
      ) : (
        <table>
          <Head cols={['Segment', 'Mode', 'Size', 'Trend', 'Computed', 'State']} />
          <tbody>
            {list.data.segments.map((s) => (
              <tr key={s.name}>
                <td>
                  <a href={`/ui/segments/${s.name}`}>{s.name}</a>
                  {s.description ? <div class="muted">{s.description}</div> : null}
                </td>
                <td>{s.mode}</td>
                <td class="num">
                  <Size s={s} />
                </td>
                <td>
                  <Sparkline values={list.data!.histories.get(s.name) ?? []} label={`sizes of ${s.name} over its last computations`} />
                </td>
                <td>
                  <When at={s.lastComputedAt} />
                </td>
                <td>
                  <ReadyBadge ready={s.ready} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function SegmentPage(props: { params: { name: string } }) {
  const { api, key } = useSession();
  const canWrite = useCan('segments:write');
  const canExport = useCan('segments:export');
  const name = props.params.name;
  const [editing, setEditing] = useState(false);
  const s = usePoll((signal) => api.GET('/v1/segments/{name}', { params: { path: { name }, query: { history_limit: 200 } }, signal }).then(must), 5000, [name]);
  const members = usePoll(async (signal) => (canExport ? api.GET('/v1/segments/{name}/members', { params: { path: { name }, query: { format: 'json', limit: 20 } }, signal }).then((a) => a.data as Body<'exportSegmentMembers'> | undefined) : undefined), 30_000, [name, canExport]);
  const [exportError, setExportError] = useState<string>();
  const download = async (format: 'csv' | 'ndjson') => {
    setExportError(undefined);
    const res = await fetch(`/v1/segments/${encodeURIComponent(name)}/members?format=${format}`, { headers: { Authorization: `Bearer ${key}` } });
    if (!res.ok) {
      setExportError(`export refused: ${res.status} ${(await res.text()).slice(0, 300)}`);
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `${name}.${format}`;
    a.click();
    URL.revokeObjectURL(url);
  };
  const d = s.data;
  if (s.error) return <ErrorNote error={s.error} what={`Could not load Segment ${name}`} />;
  if (!d) return <Loading what={`Segment ${name}`} />;
  const history = [...d.history].reverse();
  return (
    <>
      <div class="page-head">
        <h1>
          Segment <code>{name}</code>
        </h1>
        <ReadyBadge ready={d.ready} />
        {canWrite && !editing ? (
          <button type="button" onClick={() => setEditing(true)}>
            Edit rule
          </button>
        ) : null}
      </div>
      {d.ready && d.ready.status !== 'True' ? <p class="error">{d.ready.message}</p> : null}
      {editing ? <SegmentForm existing={d} onDone={() => (setEditing(false), s.reload())} /> : null}
      <div class="grid">
        <Card title="Size">
          <dl class="figures">
            <div>
              <dt>members now</dt>
              <dd>
                <Size s={d} />
              </dd>
            </div>
            <div>
              <dt>mode</dt>
              <dd>{d.mode}</dd>
            </div>
            <div>
              <dt>last computed</dt>
              <dd>
                <When at={d.lastComputedAt} />
              </dd>
            </div>
          </dl>
          {d.description ? <p>{d.description}</p> : null}
        </Card>
        <Card title="Rule">
          <pre class="json">{JSON.stringify(d.rule, null, 2)}</pre>
        </Card>
        <Card title="Size history" wide>
          {history.length < 2 ? <p class="muted">{history.length === 0 ? 'Not computed yet.' : 'One computation so far.'}</p> : <TimeChart title={`Members of ${name} at each computation`} unit="members" series={[{ label: 'members', points: [] }]} at={[history.map((h) => Date.parse(h.computedAt) / 1000), history.map((h) => h.size)]} />}
        </Card>
        {canExport ? (
          <Card title="Members (sample)" actions={<span>
            <button type="button" onClick={() => void download('csv')}>Export CSV</button>{' '}
            <button type="button" onClick={() => void download('ndjson')}>Export NDJSON</button>
          </span>}>
            {exportError ? <p class="error">{exportError}</p> : null}
            {!members.data ? <p class="muted">{members.loading ? 'Loading…' : 'Members are listed once the Segment is computed.'}</p> : (
              <ul class="members">
                {members.data.members.map((m) => (
                  <li key={m.profileId}>
                    <a href={`/ui/profiles?identity=${encodeURIComponent(m.identities?.[0] ?? `profileId:${m.profileId}`)}`}>{m.identities?.[0] ?? m.profileId}</a>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        ) : null}
      </div>
    </>
  );
}

export function SegmentEditor() {
  return (
    <>
      <div class="page-head">
        <h1>New Segment</h1>
      </div>
      <SegmentForm />
    </>
  );
}

type Problems = { rows: Record<string, string>; name?: string; rule?: string; other: string[] };

/** Builder rows (or JSON for rules they cannot show); writes through POST or PUT /v1/segments. */
function SegmentForm(props: { existing?: Body<'getSegment'>; onDone?: () => void }) {
  const { api } = useSession();
  const { route } = useLocation();
  const start = props.existing ? ruleToRows(props.existing.rule) : { join: 'all' as const, rows: [emptyRow('trait')] };
  const [name, setName] = useState(props.existing?.name ?? '');
  const [description, setDescription] = useState(props.existing?.description ?? '');
  const [mode, setMode] = useState<'batch' | 'realtime'>(props.existing?.mode ?? 'batch');
  const [join, setJoin] = useState<'all' | 'any'>(start?.join ?? 'all');
  const [rows, setRows] = useState<Row[]>(start?.rows ?? []);
  const [json, setJson] = useState<string | undefined>(start ? undefined : JSON.stringify(props.existing?.rule, null, 2));
  const [problems, setProblems] = useState<Problems>({ rows: {}, other: [] });
  const [busy, setBusy] = useState(false);
  const set = (i: number, patch: Partial<Row>) => setRows(rows.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  const rowError = (i: number, field: string) => problems.rows[`${i}.${field}`];

  const submit = async (e: Event) => {
    e.preventDefault();
    let rule: unknown;
    if (json !== undefined) {
      try {
        rule = JSON.parse(json);
      } catch (err) {
        setProblems({ rows: {}, rule: `not JSON: ${(err as Error).message}`, other: [] });
        return;
      }
    } else rule = rowsToRule(join, rows);
    const spec = { ...(description ? { description } : {}), mode, rule };
    setBusy(true);
    try {
      if (props.existing) {
        // A merge patch that turns the old rule into the new one exactly (keys it drops set to null).
        const patch = { description: description || null, mode, rule: mergePatchTo(props.existing.rule, rule) };
        must(await api.PATCH('/v1/segments/{name}', { params: { path: { name: props.existing.name } }, body: { spec: patch } as never }));
        props.onDone?.();
      } else {
        must(await api.POST('/v1/segments', { body: { name, spec } as never }));
        route(`/ui/segments/${name}`);
      }
    } catch (err) {
      if (!(err instanceof ApiProblem)) {
        setProblems({ rows: {}, other: [(err as Error).message] });
        return;
      }
      const next: Problems = { rows: {}, other: [] };
      const list = err.problems.length ? err.problems : [{ field: err.field ?? '', message: err.message }];
      for (const p of list) {
        const at = placeError(p.field, json !== undefined ? 0 : rows.length);
        if ('row' in at) next.rows[`${at.row}.${at.field === 'event' || at.field === 'trait' || at.field === 'profile' || at.field === 'interest' || at.field === 'segment' ? 'subject' : at.field}`] = p.message;
        else if (at.at === 'name') next.name = p.message;
        else if (at.at === 'rule') next.rule = `${p.field.replace(/^body\.spec\./, '')}: ${p.message}`;
        else next.other.push(p.field ? `${p.field}: ${p.message}` : p.message);
      }
      setProblems(next);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card editor" onSubmit={(e) => void submit(e)} aria-label={props.existing ? `Edit Segment ${props.existing.name}` : 'New Segment'}>
      {!props.existing ? (
        <div class="field">
          <label for="seg-name">Name</label>
          <input id="seg-name" required pattern="[a-z0-9]([-a-z0-9]*[a-z0-9])?" maxLength={63} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} aria-invalid={problems.name ? 'true' : undefined} aria-describedby="seg-name-help" />
          <small id="seg-name-help" class={problems.name ? 'error' : 'muted'}>
            {problems.name ?? 'lower case letters, digits and dashes'}
          </small>
        </div>
      ) : null}
      <div class="field">
        <label for="seg-description">Description</label>
        <input id="seg-description" value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
      </div>
      <div class="field">
        <label for="seg-mode">Mode</label>
        <select id="seg-mode" value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value as 'batch' | 'realtime')}>
          <option value="batch">batch (recomputed on a schedule)</option>
          <option value="realtime">realtime (follows every event)</option>
        </select>
      </div>
      <fieldset>
        <legend>Rule</legend>
        {json === undefined ? (
          <>
            <label class="inline" for="seg-join">
              Members match{' '}
              <select id="seg-join" value={join} onChange={(e) => setJoin((e.target as HTMLSelectElement).value as 'all' | 'any')}>
                <option value="all">all of</option>
                <option value="any">any of</option>
              </select>{' '}
              these conditions
            </label>
            <ol class="rows">
              {rows.map((r, i) => (
                <li key={i} class="row-editor">
                  <label for={`r${i}-kind`} class="sr-only">
                    Condition {i + 1} kind
                  </label>
                  <select id={`r${i}-kind`} value={r.kind} onChange={(e) => set(i, { ...emptyRow((e.target as HTMLSelectElement).value as Kind) })}>
                    {KINDS.map((k) => (
                      <option key={k}>{k}</option>
                    ))}
                  </select>
                  <RowInput i={i} field="subject" label={r.kind === 'event' ? 'event name' : r.kind === 'segment' ? 'Segment name' : r.kind === 'profile' ? 'field' : r.kind === 'interest' ? 'interest' : 'trait'} error={rowError(i, 'subject')}>
                    {r.kind === 'profile' ? (
                      <select id={`r${i}-subject`} value={r.subject} onChange={(e) => set(i, { subject: (e.target as HTMLSelectElement).value })}>
                        <option value="">choose…</option>
                        {PROFILE_FIELDS.map((f) => (
                          <option key={f}>{f}</option>
                        ))}
                      </select>
                    ) : (
                      <input id={`r${i}-subject`} value={r.subject} onInput={(e) => set(i, { subject: (e.target as HTMLInputElement).value })} aria-invalid={rowError(i, 'subject') ? 'true' : undefined} />
                    )}
                  </RowInput>
                  {r.kind === 'event' ? (
                    <>
                      <RowInput i={i} field="performed" label="did" error={rowError(i, 'performed')}>
                        <select id={`r${i}-performed`} value={r.performed ? 'yes' : 'no'} onChange={(e) => set(i, { performed: (e.target as HTMLSelectElement).value === 'yes' })}>
                          <option value="yes">did</option>
                          <option value="no">did not</option>
                        </select>
                      </RowInput>
                      {r.performed ? (
                        <RowInput i={i} field="atLeast" label="at least (times)" error={rowError(i, 'atLeast')}>
                          <input id={`r${i}-atLeast`} inputMode="numeric" size={4} value={r.atLeast} onInput={(e) => set(i, { atLeast: (e.target as HTMLInputElement).value })} aria-invalid={rowError(i, 'atLeast') ? 'true' : undefined} />
                        </RowInput>
                      ) : null}
                      <RowInput i={i} field="within" label="within (e.g. 30d)" error={rowError(i, 'within')}>
                        <input id={`r${i}-within`} size={6} value={r.within} onInput={(e) => set(i, { within: (e.target as HTMLInputElement).value })} aria-invalid={rowError(i, 'within') ? 'true' : undefined} />
                      </RowInput>
                    </>
                  ) : r.kind !== 'segment' ? (
                    <>
                      <RowInput i={i} field="op" label="operator" error={rowError(i, 'op')}>
                        <select id={`r${i}-op`} value={r.op} onChange={(e) => set(i, { op: (e.target as HTMLSelectElement).value })} aria-invalid={rowError(i, 'op') ? 'true' : undefined}>
                          {(r.kind === 'interest' ? INTEREST_OPERATORS : OPERATORS).map((o) => (
                            <option key={o}>{o}</option>
                          ))}
                        </select>
                      </RowInput>
                      {r.op !== 'exists' ? (
                        <RowInput i={i} field="value" label={r.op === 'in' || r.op === 'between' ? 'values (comma separated)' : 'value'} error={rowError(i, 'value')}>
                          <input id={`r${i}-value`} value={r.value} onInput={(e) => set(i, { value: (e.target as HTMLInputElement).value })} aria-invalid={rowError(i, 'value') ? 'true' : undefined} />
                        </RowInput>
                      ) : null}
                    </>
                  ) : null}
                  {rows.length > 1 ? (
                    <button type="button" class="link" aria-label={`Remove condition ${i + 1}`} onClick={() => setRows(rows.filter((_, k) => k !== i))}>
                      Remove
                    </button>
                  ) : null}
                </li>
              ))}
            </ol>
            <button type="button" onClick={() => setRows([...rows, emptyRow('trait')])}>
              Add condition
            </button>{' '}
            <button type="button" class="link" onClick={() => setJson(JSON.stringify(rowsToRule(join, rows), null, 2))}>
              Edit as JSON
            </button>
          </>
        ) : (
          <>
            <label for="seg-json">Rule (JSON, the Segment rule language)</label>
            <textarea id="seg-json" rows={10} value={json} onInput={(e) => setJson((e.target as HTMLTextAreaElement).value)} aria-invalid={problems.rule ? 'true' : undefined} aria-describedby="seg-json-error" />
            {ruleToRowsSafe(json) ? (
              <button type="button" class="link" onClick={() => {
                const back = ruleToRowsSafe(json)!;
                setJoin(back.join);
                setRows(back.rows);
                setJson(undefined);
              }}>
                Back to the builder
              </button>
            ) : null}
          </>
        )}
        {problems.rule ? (
          <p id="seg-json-error" class="error" role="alert">
            {problems.rule}
          </p>
        ) : null}
      </fieldset>
      {problems.other.length ? (
        <ul class="error" role="alert">
          {problems.other.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : props.existing ? 'Save rule' : 'Create Segment'}
      </button>
      {props.existing ? (
        <button type="button" class="link" onClick={() => props.onDone?.()}>
          Cancel
        </button>
      ) : null}
      <p class="muted">It is computed as soon as it is saved, then {mode === 'realtime' ? 'follows every event' : 'on its schedule (hourly by default)'}.</p>
    </form>
  );
}

function ruleToRowsSafe(text: string) {
  try {
    return ruleToRows(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function RowInput(props: { i: number; field: string; label: string; error?: string; children: preact.ComponentChildren }) {
  const id = `r${props.i}-${props.field}`;
  return (
    <span class="row-field">
      <label for={id}>{props.label}</label>
      {props.children}
      {props.error ? (
        <small id={`${id}-error`} class="error" role="alert" data-testid={`error-${id}`}>
          {props.error}
        </small>
      ) : null}
    </span>
  );
}
