import { useState } from 'react';
import type { Overview } from '../api.ts';
import { ErrorMessage, useLoad } from '../components/status.tsx';
import { formatBytes, formatPercent, formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.ts';
import { TrafficCharts } from './overview-charts.tsx';

/** Hit ratio, bytes from the cache and from upstreams (as numbers and over time), top images and upstream errors over the last hour or day. */
export function OverviewPage() {
  const { session } = useSession();
  // The numbers cover every registry: a token restricted to some may not see them (the API answers 403).
  if (session.registry_ids !== undefined) {
    return (
      <section aria-labelledby="overview-title">
        <h1 id="overview-title">Overview</h1>
        <p className="notice" role="status">
          This token is restricted to registries {session.registry_ids.join(', ')}; the overview covers every registry. Open{' '}
          <Link to="/registries">Registries</Link> instead.
        </p>
      </section>
    );
  }
  return <Traffic />;
}

function Traffic() {
  const { api } = useSession();
  const [window, setWindow] = useState<'1h' | '24h'>('1h');
  const { data, error, loading, reload } = useLoad(() => api.get<Overview>(`/stats/overview?window=${window}`), [api, window]);
  return (
    <section aria-labelledby="overview-title">
      <div className="title-row">
        <h1 id="overview-title">Overview</h1>
        <label>
          Window{' '}
          <select value={window} onChange={(e) => setWindow(e.target.value as '1h' | '24h')}>
            <option value="1h">Last hour</option>
            <option value="24h">Last day</option>
          </select>
        </label>
        <button type="button" onClick={() => void reload()} disabled={loading}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} />
      {data ? (
        <>
          <dl className="stats" aria-label="Traffic">
            <div>
              <dt>Hit ratio</dt>
              <dd data-testid="hit-ratio">{formatPercent(data.hit_ratio)}</dd>
            </div>
            <div>
              <dt>Hits</dt>
              <dd data-testid="hits">{data.hits}</dd>
            </div>
            <div>
              <dt>Misses</dt>
              <dd data-testid="misses">{data.misses}</dd>
            </div>
            <div>
              <dt>Served from cache</dt>
              <dd>{formatBytes(data.bytes_served_from_cache)}</dd>
            </div>
            <div>
              <dt>Fetched upstream</dt>
              <dd>{formatBytes(data.bytes_fetched_upstream)}</dd>
            </div>
          </dl>
          <TrafficCharts overview={data} />
          <div className="columns">
            <section aria-labelledby="top-images">
              <h2 id="top-images">Top images</h2>
              {data.top_images.length === 0 ? (
                <p>No pulls in this window.</p>
              ) : (
                <table aria-labelledby="top-images">
                  <thead>
                    <tr>
                      <th scope="col">Image</th>
                      <th scope="col">Downloads</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.top_images.map((t) => (
                      <tr key={t.image}>
                        <td>{t.image}</td>
                        <td>{t.downloads}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
            <section aria-labelledby="upstream-errors">
              <h2 id="upstream-errors">Upstream errors</h2>
              {data.upstream_errors.length === 0 ? (
                <p>No upstream errors in this window.</p>
              ) : (
                <table aria-labelledby="upstream-errors">
                  <thead>
                    <tr>
                      <th scope="col">Upstream</th>
                      <th scope="col">Errors</th>
                      <th scope="col">Last error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.upstream_errors.map((e) => (
                      <tr key={e.upstream}>
                        <td>
                          {e.upstream}
                          {e.upstream_id ? ` (upstream ${e.upstream_id})` : ''}
                        </td>
                        <td>{e.count}</td>
                        <td>
                          {e.last_message} <span className="muted">{formatTime(e.last_at)}</span>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </div>
        </>
      ) : loading ? (
        <p role="status">Loading…</p>
      ) : null}
    </section>
  );
}
