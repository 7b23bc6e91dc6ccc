// Sign in with the key of an ApiKey (the one the API uses; no second login system). The key stays
// in this tab (sessionStorage) and goes to the API as a Bearer token.
import { useState } from 'preact/hooks';
import { signIn, type Session } from '../session.ts';

export function SignIn(props: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await signIn(key));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>USPA</h1>
      <form onSubmit={(e) => void submit(e)} aria-describedby="key-help">
        <label for="key">API key</label>
        <input id="key" name="key" type="password" autoComplete="off" required value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} aria-invalid={error ? 'true' : undefined} aria-errormessage={error ? 'key-error' : undefined} />
        <p id="key-help" class="muted">
          The key of an ApiKey of this namespace; what you see follows its role. <code>npm run local</code> prints an admin key.
        </p>
        {error ? (
          <p id="key-error" class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
