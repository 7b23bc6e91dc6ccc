// The dashboard: sign in with an API key, then pages per area. Served by the API under /ui/, so it
// calls the API on its own origin with the same keys and roles; nav shows what the role may read.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso/router';
import './style.css';
import { resume, signOut, type Session } from './session.ts';
import { SessionContext } from './parts/ui.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { Overview } from './pages/overview.tsx';
import { Sources, SourcePage } from './pages/sources.tsx';
import { DeadLetters } from './pages/dead-letters.tsx';
import { Profiles } from './pages/profiles.tsx';
import { Segments, SegmentPage, SegmentEditor } from './pages/segments.tsx';
import { Campaigns } from './pages/campaigns.tsx';
import { Models } from './pages/models.tsx';

const NAV: Array<{ path: string; label: string; permission: string }> = [
  { path: '/ui/', label: 'Overview', permission: 'overview:read' },
  { path: '/ui/sources', label: 'Sources', permission: 'sources:read' },
  { path: '/ui/dead-letters', label: 'Dead letters', permission: 'pipelines:read' },
  { path: '/ui/profiles', label: 'Profiles', permission: 'profiles:read' },
  { path: '/ui/segments', label: 'Segments', permission: 'segments:read' },
  { path: '/ui/campaigns', label: 'Campaigns', permission: 'activations:read' },
  { path: '/ui/models', label: 'Models', permission: 'models:read' },
];

function Nav(props: { session: Session; onSignOut: () => void }) {
  const { path } = useLocation();
  const here = (p: string) => (p === '/ui/' ? path === '/ui/' || path === '/ui' : path.startsWith(p));
  return (
    <header class="top">
      <a class="brand" href="/ui/">
        USPA
      </a>
      <nav aria-label="Pages">
        <ul>
          {NAV.filter((n) => props.session.permissions.has(n.permission)).map((n) => (
            <li key={n.path}>
              <a href={n.path} aria-current={here(n.path) ? 'page' : undefined}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <span class="who">
        {props.session.apiKey} <span class="badge">{props.session.role}</span>{' '}
        <button type="button" class="link" onClick={props.onSignOut}>
          Sign out
        </button>
      </span>
    </header>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    void resume().then((s) => setSession(s ?? null));
  }, []);
  if (session === undefined) return <p class="muted">Loading…</p>;
  if (!session) return <SignIn onSignedIn={setSession} />;
  return (
    <SessionContext.Provider value={session}>
      <LocationProvider scope="/ui">
        <Nav
          session={session}
          onSignOut={() => {
            signOut();
            setSession(null);
          }}
        />
        <main id="main">
          <Router>
            <Route path="/ui/" component={Overview} />
            <Route path="/ui/sources" component={Sources} />
            <Route path="/ui/sources/:name" component={SourcePage} />
            <Route path="/ui/dead-letters" component={DeadLetters} />
            <Route path="/ui/profiles" component={Profiles} />
            <Route path="/ui/segments" component={Segments} />
            <Route path="/ui/segments/new" component={SegmentEditor} />
            <Route path="/ui/segments/:name" component={SegmentPage} />
            <Route path="/ui/campaigns" component={Campaigns} />
            <Route path="/ui/models" component={Models} />
            <Route default component={NotFound} />
          </Router>
        </main>
      </LocationProvider>
    </SessionContext.Provider>
  );
}

function NotFound() {
  return (
    <section class="card">
      <h1>Not found</h1>
      <p>
        No page here. <a href="/ui/">Back to the overview</a>.
      </p>
    </section>
  );
}

render(<App />, document.getElementById('app')!);
