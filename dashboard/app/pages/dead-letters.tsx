// Dead letters of a Pipeline's Sources: filter by Source, cause and time; inspect one; replay one,
// a selection or everything the filter matches (a dry run says how many first), with the outcome.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { must, type Body } from '../session.ts';
import { usePoll } from '../parts/poll.ts';
import { Card, ErrorNote, Loading, When, useCan, useSession } from '../parts/ui.tsx';

type Letter = Body<'listDeadLetters'>['items'][number];
type Outcome = Body<'replayDeadLetters'>;

interface Filter {
  source: string;
  reason: string;
  since: string;
  until: string;
  replayed: '' | 'true' | 'false';
}

/** datetime-local text (local time) → RFC 3339, or undefined when empty. */
function instant(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function DeadLetters() {
  const { api } = useSession();
  const canReplay = useCan('pipelines:replay');
  const { query } = useLocation();
  const pipelines = usePoll((signal) => api.GET('/v1/pipelines', { signal }).then(must), null);
  const [pipeline, setPipeline] = useState<string>();
  const [draft, setDraft] = useState<Filter>({ source: query.source ?? '', reason: query.reason ?? '', since: '', until: '', replayed: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<string>();
  const [outcome, setOutcome] = useState<{ what: string; result?: Outcome; error?: Error }>();
  const [pending, setPending] = useState<Outcome>();
  const [cursor, setCursor] = useState<string>();
  const chosen = pipeline ?? pipelines.data?.items[0]?.name;
  const p = pipelines.data?.items.find((x) => x.name === chosen);
  const letters = usePoll(
    async (signal) => {
      if (!chosen) return undefined;
      return must(
        await api.GET('/v1/pipelines/{name}/dead-letters', {
          params: { path: { name: chosen }, query: { limit: 50, ...(filter.source ? { source: filter.source } : {}), ...(filter.reason ? { reason: filter.reason } : {}), ...(instant(filter.since) ? { since: instant(filter.since) } : {}), ...(instant(filter.until) ? { until: instant(filter.until) } : {}), ...(filter.replayed ? { replayed: filter.replayed === 'true' } : {}), ...(cursor ? { cursor } : {}) } },
          signal,
        }),
      );
    },
    15_000,
    [chosen, filter, cursor],
  );

  const body = (extra: { messageIds?: string[]; dryRun?: boolean }) => ({ ...(filter.source ? { source: filter.source } : {}), ...(filter.reason ? { reason: filter.reason } : {}), ...(instant(filter.since) ? { since: instant(filter.since) } : {}), ...(instant(filter.until) ? { until: instant(filter.until) } : {}), ...extra });
  const replay = async (what: string, extra: { messageIds?: string[]; dryRun?: boolean }) => {
    if (!chosen) return;
    setOutcome({ what: `${what}…` });
    try {
      const result = must(await api.POST('/v1/pipelines/{name}/dead-letters/replay', { params: { path: { name: chosen } }, body: body(extra) }));
      if (extra.dryRun) {
        setPending(result);
        setOutcome(undefined);
        return;
      }
      setPending(undefined);
      setOutcome({ what, result });
      setSelected(new Set());
      letters.reload();
    } catch (err) {
      setOutcome({ what, error: err as Error });
    }
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const items = letters.data?.items ?? [];
  return (
    <>
      <div class="page-head">
        <h1>Dead letters</h1>
        {pipelines.data && pipelines.data.items.length > 1 ? (
          <label class="inline" for="dl-pipeline">
            Pipeline{' '}
            <select id="dl-pipeline" value={chosen} onChange={(e) => setPipeline((e.target as HTMLSelectElement).value)}>
              {pipelines.data.items.map((x) => (
                <option key={x.name}>{x.name}</option>
              ))}
            </select>
          </label>
        ) : null}
        {p ? <span class="muted">{p.deadLetters.total} in all, {p.deadLetters.pending} not replayed</span> : null}
      </div>
      <ErrorNote error={pipelines.error} what="Could not load the Pipelines" />
      <form
        class="filters"
        aria-label="Filter dead letters"
        onSubmit={(e) => {
          e.preventDefault();
          setCursor(undefined);
          setSelected(new Set());
          setPending(undefined);
          setFilter(draft);
        }}
      >
        <label for="dl-source">
          Source
          <select id="dl-source" value={draft.source} onChange={(e) => setDraft({ ...draft, source: (e.target as HTMLSelectElement).value })}>
            <option value="">any</option>
            {(p?.sources ?? []).map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label for="dl-reason">
          Cause
          <input id="dl-reason" placeholder="e.g. tracking_plan_violation" value={draft.reason} onInput={(e) => setDraft({ ...draft, reason: (e.target as HTMLInputElement).value.trim() })} />
        </label>
        <label for="dl-since">
          From
          <input id="dl-since" type="datetime-local" value={draft.since} onInput={(e) => setDraft({ ...draft, since: (e.target as HTMLInputElement).value })} />
        </label>
        <label for="dl-until">
          To
          <input id="dl-until" type="datetime-local" value={draft.until} onInput={(e) => setDraft({ ...draft, until: (e.target as HTMLInputElement).value })} />
        </label>
        <label for="dl-replayed">
          Replayed
          <select id="dl-replayed" value={draft.replayed} onChange={(e) => setDraft({ ...draft, replayed: (e.target as HTMLSelectElement).value as Filter['replayed'] })}>
            <option value="">either</option>
            <option value="false">not yet</option>
            <option value="true">replayed</option>
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      {canReplay ? (
        <div class="actions" role="group" aria-label="Replay">
          <button type="button" disabled={selected.size === 0} onClick={() => void replay(`Replaying ${selected.size} selected`, { messageIds: [...selected] })}>
            Replay selected ({selected.size})
          </button>
          <button type="button" onClick={() => void replay('Counting what the filter matches', { dryRun: true })}>
            Replay all matching the filter…
          </button>
        </div>
      ) : null}
      {pending ? (
        <div class="confirm" role="alertdialog" aria-label="Confirm replay">
          <p>
            {pending.replayed} dead letter{pending.replayed === 1 ? '' : 's'} would be sent through again; {pending.skipped} would be skipped
            {pending.groups.skipped.length ? ` (${pending.groups.skipped.map((g) => `${g.count} ${g.reason}: ${g.why ?? ''}`).join('; ')})` : ''}.
          </p>
          <button type="button" disabled={pending.replayed === 0} onClick={() => void replay('Replaying everything the filter matches', {})}>
            Replay {pending.replayed}
          </button>{' '}
          <button type="button" class="link" onClick={() => setPending(undefined)}>
            Cancel
          </button>
        </div>
      ) : null}
      {outcome ? (
        <div class={outcome.error ? 'error' : 'outcome'} role="status" data-testid="replay-outcome">
          {outcome.error ? `${outcome.what} failed: ${outcome.error.message}` : outcome.result ? `Replayed ${outcome.result.replayed}, skipped ${outcome.result.skipped}${outcome.result.groups.skipped.length ? ` (${outcome.result.groups.skipped.map((g) => `${g.count} ${g.reason}: ${g.why ?? ''}`).join('; ')})` : ''}. Replayed events go through the Pipeline again and are stored when they pass.` : outcome.what}
        </div>
      ) : null}
      <ErrorNote error={letters.error} what="Could not load the dead letters" />
      {letters.loading && !letters.data ? <Loading what="dead letters" /> : null}
      {letters.data?.payloadNote ? <p class="muted">{letters.data.payloadNote}</p> : null}
      <Card title={`Dead letters${items.length ? ` (${items.length}${letters.data?.next_cursor ? '+' : ''})` : ''}`} wide>
        {items.length === 0 ? (
          <p class="muted">None match.</p>
        ) : (
          <table class="letters">
            <thead>
              <tr>
                {canReplay ? (
                  <th scope="col">
                    <span class="sr-only">Select</span>
                  </th>
                ) : null}
                <th scope="col">Failed</th>
                <th scope="col">Source</th>
                <th scope="col">Cause</th>
                <th scope="col">What was wrong</th>
                <th scope="col">Replayed</th>
                <th scope="col">
                  <span class="sr-only">Inspect</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((l: Letter) => {
                const id = `${l.topic}/${l.partition}/${l.offset}`;
                return [
                  <tr key={id}>
                    {canReplay ? (
                      <td>
                        <input type="checkbox" aria-label={`Select dead letter ${l.messageId || id}`} disabled={!l.messageId || l.replayed} checked={selected.has(l.messageId)} onChange={() => toggle(l.messageId)} />
                      </td>
                    ) : null}
                    <td>
                      <When at={l.failedAt} />
                    </td>
                    <td>{l.source}</td>
                    <td>
                      <code>{l.reason}</code>
                    </td>
                    <td class="message">{l.errors.join('; ')}</td>
                    <td>{l.replayed ? 'yes' : 'no'}</td>
                    <td>
                      <button type="button" class="link" aria-expanded={open === id} onClick={() => setOpen(open === id ? undefined : id)}>
                        Inspect
                      </button>
                      {canReplay && l.messageId && !l.replayed ? (
                        <button type="button" class="link" onClick={() => void replay(`Replaying ${l.messageId}`, { messageIds: [l.messageId] })}>
                          Replay
                        </button>
                      ) : null}
                    </td>
                  </tr>,
                  open === id ? (
                    <tr key={`${id}-open`} class="detail">
                      <td colSpan={canReplay ? 7 : 6}>
                        <p>
                          Stage <code>{l.stage}</code>, {l.topic} partition {l.partition} offset {l.offset}, message id <code>{l.messageId || '(none: cannot be replayed)'}</code>
                        </p>
                        {'payload' in l ? <pre class="json">{JSON.stringify(l.payload, null, 2)}</pre> : <p class="muted">Payload not shown to this role.</p>}
                      </td>
                    </tr>
                  ) : null,
                ];
              })}
            </tbody>
          </table>
        )}
        {letters.data?.next_cursor ? (
          <button type="button" onClick={() => setCursor(letters.data!.next_cursor!)}>
            Older
          </button>
        ) : null}
      </Card>
    </>
  );
}
