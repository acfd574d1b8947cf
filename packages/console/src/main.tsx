import { StrictMode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Api, type Session, signIn } from './api.ts';
import { ErrorBoundary } from './components/error-boundary.tsx';
import { AccessTokensPage } from './pages/access-tokens.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { PolicyDenialsPage } from './pages/policy-denials.tsx';
import { RegistriesPage } from './pages/registries.tsx';
import { RegistryPage } from './pages/registry.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { Link, navigate, usePath } from './router.tsx';
import { SessionContext, type SignedIn, tokenStore } from './session.ts';
import './styles.css';

function Routes() {
  const path = usePath();
  const registry = /^\/registries\/([^/]+)(?:\/(upstreams|entries|cleanup|policy|mirror))?\/?$/.exec(path);
  if (registry)
    return (
      // Keyed by registry: going to another registry starts its forms afresh, never with this one's unsaved edits.
      <RegistryPage
        key={registry[1]}
        id={decodeURIComponent(registry[1] as string)}
        tab={(registry[2] as 'upstreams' | 'entries' | 'cleanup' | 'policy' | 'mirror' | undefined) ?? 'upstreams'}
      />
    );
  if (path === '/denials' || path === '/denials/') return <PolicyDenialsPage />;
  if (path === '/registries' || path === '/registries/') return <RegistriesPage />;
  if (path === '/tokens' || path === '/tokens/') return <AccessTokensPage />;
  if (path === '/' || path === '') return <OverviewPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <Link to="/">Go to the overview</Link>.
      </p>
    </section>
  );
}

function Shell({ signedIn }: { signedIn: SignedIn }) {
  const path = usePath();
  // A client-side navigation moves focus to the new page, as a page load would, so screen readers announce it.
  const mainRef = useRef<HTMLElement>(null);
  const shownPath = useRef(path);
  useEffect(() => {
    if (path !== shownPath.current) mainRef.current?.focus();
    shownPath.current = path;
  }, [path]);
  const current = (prefix: string) => ((prefix === '/' ? path === '/' : path.startsWith(prefix)) ? ('page' as const) : undefined);
  return (
    <SessionContext.Provider value={signedIn}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">vreg</span>
        <nav aria-label="Main">
          <Link to="/" aria-current={current('/')}>
            Overview
          </Link>
          <Link to="/registries" aria-current={current('/registries')}>
            Registries
          </Link>
          <Link to="/denials" aria-current={current('/denials')}>
            Refused pulls
          </Link>
          {signedIn.canWrite ? (
            <Link to="/tokens" aria-current={current('/tokens')}>
              Access tokens
            </Link>
          ) : null}
        </nav>
        <span className="who">
          {signedIn.session.token_name ?? 'admin token'}
          {signedIn.canWrite ? '' : ' (read-only)'}
          {signedIn.session.registry_ids ? ` · registries ${signedIn.session.registry_ids.join(', ')}` : ''}
        </span>
        <button type="button" onClick={() => signedIn.signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1} ref={mainRef}>
        {/* A new boundary per page: navigating away from a failed page recovers. */}
        <ErrorBoundary key={path}>
          <Routes />
        </ErrorBoundary>
      </main>
    </SessionContext.Provider>
  );
}

function App() {
  const [auth, setAuth] = useState<{ token: string; session: Session } | undefined>();
  const [restoring, setRestoring] = useState(() => tokenStore.read() !== undefined);
  const [reason, setReason] = useState<string | undefined>();

  const signOut = useCallback((message?: string) => {
    tokenStore.write(undefined);
    setAuth(undefined);
    setReason(message);
  }, []);

  // A reload in the same tab keeps the session, checked again against the API.
  useEffect(() => {
    const saved = tokenStore.read();
    if (saved === undefined) return;
    signIn(saved)
      .then((session) => setAuth({ token: saved, session }))
      .catch(() => tokenStore.write(undefined))
      .finally(() => setRestoring(false));
  }, []);

  const signedIn = useMemo<SignedIn | undefined>(() => {
    if (auth === undefined) return undefined;
    const api = new Api(auth.token, (message) => signOut(`Signed out: ${message}`));
    return { api, session: auth.session, canWrite: auth.session.access === 'admin', signOut };
  }, [auth, signOut]);

  if (restoring) return <p role="status">Loading…</p>;
  if (signedIn === undefined) {
    return (
      <SignInPage
        reason={reason}
        onSignedIn={(token, session) => {
          tokenStore.write(token);
          setReason(undefined);
          setAuth({ token, session });
          if (window.location.pathname === '/console' || window.location.pathname === '/console/') navigate('/');
        }}
      />
    );
  }
  return <Shell signedIn={signedIn} />;
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
