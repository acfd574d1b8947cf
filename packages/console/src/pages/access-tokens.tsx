import { type FormEvent, useState } from 'react';
import type { AccessToken, Registry } from '../api.ts';
import { Pager } from '../components/pager.tsx';
import { ConfirmButton, CopyButton, ErrorMessage, useAction, useLoad } from '../components/status.tsx';
import { formatTime } from '../format.ts';
import { useSession } from '../session.ts';

/** The end of the chosen day, or the session's own expiry when that comes first (a token may not outlive the one creating it). */
export function expiryOf(day: string, ceiling: string | undefined): string {
  const endOfDay = new Date(`${day}T23:59:59Z`);
  return ceiling !== undefined && new Date(ceiling).getTime() < endOfDay.getTime() ? ceiling : endOfDay.toISOString();
}

/** Access tokens: create (the secret is shown once), list, revoke. A restricted session sees and creates only tokens within its registries. */
export function AccessTokensPage() {
  const { api, session } = useSession();
  const restrictedTo = session.registry_ids;
  const ceiling = session.expires_at;
  const { data: mine } = useLoad(
    () => (restrictedTo === undefined ? Promise.resolve(undefined) : api.list<Registry>('/registries?per_page=100')),
    [api, restrictedTo],
  );
  const [chosen, setChosen] = useState<string[]>([]);
  const [page, setPage] = useState(1);
  const { data: listed, error, reload } = useLoad(() => api.list<AccessToken>(`/access_tokens?page=${page}&per_page=50`), [api, page]);
  const data = listed?.items;
  const create = useAction();
  const revoke = useAction();
  const [name, setName] = useState('');
  const [admin, setAdmin] = useState(false);
  const [read, setRead] = useState(true);
  const [registries, setRegistries] = useState('');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<(AccessToken & { token: string }) | undefined>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setCreated(undefined);
    const scopes = [...(read ? ['read_virtual_registry'] : []), ...(admin ? ['admin'] : [])];
    const ids =
      restrictedTo === undefined
        ? registries
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : chosen;
    const made = await create.run(() =>
      api.call<AccessToken & { token: string }>('POST', '/access_tokens', {
        name,
        scopes,
        ...(ids.length ? { registry_ids: ids } : {}),
        ...(expires ? { expires_at: expiryOf(expires, ceiling) } : {}),
      }),
    );
    if (made) {
      setCreated(made);
      setName('');
      await reload();
    }
  };
  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">Access tokens</h1>
      <ErrorMessage error={error ?? revoke.error} />
      {data ? (
        <table aria-label="Access tokens">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Token</th>
              <th scope="col">Scopes</th>
              <th scope="col">Registries</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>
                  <code>{t.token_prefix}…</code>
                </td>
                <td>{t.scopes.join(', ')}</td>
                <td>{t.registry_ids?.join(', ') ?? 'all'}</td>
                <td>{formatTime(t.expires_at)}</td>
                <td>{formatTime(t.last_used_at)}</td>
                <td>{t.revoked ? 'revoked' : t.active ? 'active' : 'expired'}</td>
                <td>
                  {t.revoked ? null : (
                    <ConfirmButton
                      label={`Revoke`}
                      confirmLabel={`Revoke token ${t.name}`}
                      disabled={revoke.busy}
                      onConfirm={() =>
                        void revoke.run(async () => {
                          await api.call('DELETE', `/access_tokens/${t.id}`);
                          await reload();
                        })
                      }
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager label="Access tokens" listed={listed} onPage={setPage} />
      <form onSubmit={(e) => void submit(e)} className="card" aria-labelledby="create-token">
        <h2 id="create-token">Create an access token</h2>
        <label>
          Token name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={255} />
        </label>
        <fieldset>
          <legend>Scopes</legend>
          <label className="check">
            <input type="checkbox" checked={read} onChange={(e) => setRead(e.target.checked)} /> read_virtual_registry (pull; view the
            console)
          </label>
          <label className="check">
            <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} /> admin (this console and the admin API)
          </label>
        </fieldset>
        {restrictedTo === undefined ? (
          <label>
            Restrict to registry ids (comma separated, empty for all)
            <input value={registries} onChange={(e) => setRegistries(e.target.value)} />
          </label>
        ) : (
          <fieldset>
            <legend>Registries (at least one)</legend>
            <p className="muted">
              This token reaches registries {restrictedTo.join(', ')}: the tokens it creates are restricted to some of them
              {ceiling ? ` and expire no later than ${formatTime(ceiling)}` : ''}.
            </p>
            {restrictedTo.map((id) => (
              <label className="check" key={id}>
                <input
                  type="checkbox"
                  checked={chosen.includes(id)}
                  onChange={(e) => setChosen(e.target.checked ? [...chosen, id] : chosen.filter((c) => c !== id))}
                />{' '}
                {mine?.items.find((r) => r.id === id)?.name ?? `registry ${id}`} ({id})
              </label>
            ))}
          </fieldset>
        )}
        <label>
          {ceiling ? 'Expires on' : 'Expires on (optional)'}
          <input
            type="date"
            value={expires}
            onChange={(e) => setExpires(e.target.value)}
            required={ceiling !== undefined}
            {...(ceiling ? { max: ceiling.slice(0, 10) } : {})}
          />
        </label>
        <button type="submit" disabled={create.busy || (!read && !admin) || (restrictedTo !== undefined && chosen.length === 0)}>
          Create token
        </button>
        <ErrorMessage error={create.error} />
      </form>
      {created ? (
        <div className="card created" role="status" aria-labelledby="new-token-title">
          <h2 id="new-token-title">New token “{created.name}”</h2>
          <p>Copy it now: it is shown only this once.</p>
          <code data-testid="new-token" aria-label="New token value">
            {created.token}
          </code>{' '}
          <CopyButton text={created.token} label="Copy new token" />
          <button type="button" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </div>
      ) : null}
    </section>
  );
}
