// Small pieces every page uses: a resource's Ready state, an API error, times, a titled card.
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Session } from '../session.ts';

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}

/** Whether the signed-in role has a permission: admin controls are not shown without it (and the API refuses them anyway). */
export function useCan(permission: string): boolean {
  return useSession().permissions.has(permission);
}

export interface Ready {
  status: string;
  reason: string;
  message: string;
}

export function ReadyBadge(props: { ready: Ready | null | undefined }) {
  const r = props.ready;
  if (!r) return <span class="badge unknown">pending</span>;
  const kind = r.status === 'True' ? 'ok' : r.status === 'False' ? 'bad' : 'unknown';
  const word = r.status === 'True' ? 'Ready' : r.reason || (r.status === 'False' ? 'Not ready' : 'Unknown');
  return (
    <span class={`badge ${kind}`} title={r.message}>
      {word}
    </span>
  );
}

export function ErrorNote(props: { error?: Error | null; what?: string }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {props.what ? `${props.what}: ` : ''}
      {props.error.message}
    </p>
  );
}

export function Card(props: { title: string; children: ComponentChildren; wide?: boolean; actions?: ComponentChildren }) {
  return (
    <section class={props.wide ? 'card wide' : 'card'} aria-label={props.title}>
      <header>
        <h2>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

export function When(props: { at: string | null | undefined }) {
  if (!props.at) return <span class="muted">never</span>;
  const d = new Date(props.at);
  return (
    <time dateTime={props.at} title={d.toISOString()}>
      {ago(d)}
    </time>
  );
}

export function ago(d: Date, now = Date.now()): string {
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 0) return d.toISOString().replace('T', ' ').slice(0, 19);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return d.toISOString().slice(0, 10);
}

export function Loading(props: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {props.what}…
    </p>
  );
}

/** The window selector shared by pages with charts. */
export const WINDOWS = [
  { minutes: 60, label: 'last hour' },
  { minutes: 360, label: 'last 6 h' },
  { minutes: 1440, label: 'last day' },
  { minutes: 10080, label: 'last week' },
];

export function WindowPicker(props: { minutes: number; onChange: (m: number) => void; id: string }) {
  return (
    <label class="inline" for={props.id}>
      Window{' '}
      <select id={props.id} value={props.minutes} onChange={(e) => props.onChange(Number((e.target as HTMLSelectElement).value))}>
        {WINDOWS.map((w) => (
          <option key={w.minutes} value={w.minutes}>
            {w.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A table's column headings. */
export function Head(props: { cols: string[] }) {
  return (
    <thead>
      <tr>
        {props.cols.map((c) => (
          <th key={c} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
