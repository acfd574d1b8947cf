import { type FormEvent, useState } from 'react';
import { type Session, signIn } from '../api.ts';
import { ErrorMessage } from '../components/status.tsx';

/** Sign-in with an access token (admin scope, or read_virtual_registry for read-only) or the bootstrap admin token. */
export function SignInPage({ onSignedIn, reason }: { onSignedIn: (token: string, session: Session) => void; reason?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const trimmed = token.trim();
      const session = await signIn(trimmed);
      onSignedIn(trimmed, session);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in" id="main">
      <h1>vreg console</h1>
      <form onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <h2 id="sign-in-title">Sign in</h2>
        {reason ? (
          <p className="notice" role="status">
            {reason}
          </p>
        ) : null}
        <label htmlFor="token">Access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          required
          autoFocus
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby="token-help"
        />
        <p id="token-help" className="help">
          An access token with the <code>admin</code> scope manages vreg; one with <code>read_virtual_registry</code> only views it. The
          token stays in this tab's memory and is sent only to this server's API.
        </p>
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorMessage error={error} />
      </form>
    </main>
  );
}
