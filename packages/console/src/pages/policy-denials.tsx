import { useState } from 'react';
import type { PolicyDenial } from '../api.ts';
import { Pager } from '../components/pager.tsx';
import { ErrorMessage, useLoad } from '../components/status.tsx';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.ts';

/** The refused pulls of one registry (`registryId`) or of all, newest first: what, why, who, how often. */
export function PolicyDenialsTable({ registryId }: { registryId?: string }) {
  const { api } = useSession();
  const [page, setPage] = useState(1);
  const path = registryId === undefined ? '/policy_denials' : `/registries/${registryId}/policy_denials`;
  const { data: listed, error, reload } = useLoad(() => api.list<PolicyDenial>(`${path}?page=${page}&per_page=50`), [api, path, page]);
  const rows = listed?.items;
  return (
    <>
      <ErrorMessage error={error} />
      <button type="button" onClick={() => void reload()}>
        Refresh
      </button>
      {rows && rows.length === 0 ? <p>No refused pulls recorded.</p> : null}
      {rows && rows.length > 0 ? (
        <table aria-label="Refused pulls">
          <thead>
            <tr>
              <th scope="col">Time</th>
              {registryId === undefined ? <th scope="col">Registry</th> : null}
              <th scope="col">Image</th>
              <th scope="col">Reference</th>
              <th scope="col">Outcome</th>
              <th scope="col">Reason</th>
              <th scope="col">Client</th>
              <th scope="col">Count</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id}>
                <td>{formatTime(d.at)}</td>
                {registryId === undefined ? (
                  <td>
                    <Link to={`/registries/${d.registry_id}/policy`}>{d.registry_id}</Link>
                  </td>
                ) : null}
                <td>{d.image}</td>
                <td>
                  <code title={d.digest ?? undefined}>{d.reference.length > 24 ? `${d.reference.slice(0, 23)}…` : d.reference}</code>
                  {d.kind === 'manifest' ? null : <span className="muted"> ({d.kind})</span>}
                </td>
                <td>{d.mode === 'audit' ? 'would refuse (audit)' : 'refused'}</td>
                <td title={d.message}>
                  {d.rule ? `rule ${d.rule.index}${d.rule.name ? ` “${d.rule.name}”` : ''}` : d.reason}
                  <br />
                  <span className="muted">{d.message}</span>
                </td>
                <td>{d.token_name ?? d.client}</td>
                <td>{d.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager label="Refused pulls" listed={listed} onPage={setPage} />
    </>
  );
}

/** Every registry's refused pulls (`/denials`). */
export function PolicyDenialsPage() {
  return (
    <section aria-labelledby="denials-title">
      <h1 id="denials-title">Refused pulls</h1>
      <p className="help">
        Pulls and warm-ups a registry's pull policy refused, and in audit mode those it would have refused, newest first. Identical refusals
        within a second are one row with their count.
      </p>
      <PolicyDenialsTable />
    </section>
  );
}
