import { type FormEvent, useState } from 'react';
import { type Api, ApiError, type CacheEntry, type Job, type ListPage, type Upstream } from '../api.ts';
import { JobProgress } from '../components/job-progress.tsx';
import { Pager } from '../components/pager.tsx';
import { ConfirmButton, ErrorMessage, useAction, useLoad } from '../components/status.tsx';
import { formatBytes, formatTime } from '../format.ts';
import { useSession } from '../session.ts';

const PER_PAGE = 50;

type Sort = '-size' | 'size' | '-downloaded_at' | 'downloaded_at' | 'relative_path';
const SORTS: Array<{ value: Sort; label: string }> = [
  { value: '-downloaded_at', label: 'Last download, newest first' },
  { value: 'downloaded_at', label: 'Last download, oldest first' },
  { value: '-size', label: 'Size, largest first' },
  { value: 'size', label: 'Size, smallest first' },
  { value: 'relative_path', label: 'Path' },
];

/**
 * A registry's cache entries through `GET /registries/:id/cache_entries`
 * (search and sort on the server); where that route is missing, each
 * upstream's list, searched and sorted here.
 */
async function loadEntries(api: Api, registryId: string, search: string, sort: Sort, page: number): Promise<ListPage<CacheEntry>> {
  const query = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE), sort, ...(search ? { search } : {}) });
  try {
    return await api.list<CacheEntry>(`/registries/${registryId}/cache_entries?${query}`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404 && err.message === 'route not found')) throw err;
  }
  const upstreams = await api.get<Upstream[]>(`/registries/${registryId}/upstreams`);
  const all = (await Promise.all(upstreams.map((u) => api.get<CacheEntry[]>(`/upstreams/${u.id}/cache_entries?per_page=100`)))).flat();
  const found = all.filter((e) => e.relative_path.includes(search));
  const key = sort.replace(/^-/, '') as 'size' | 'downloaded_at' | 'relative_path';
  const dir = sort.startsWith('-') ? -1 : 1;
  found.sort((a, b) => {
    const x = a[key] ?? '';
    const y = b[key] ?? '';
    return (x < y ? -1 : x > y ? 1 : 0) * dir;
  });
  const totalPages = Math.max(1, Math.ceil(found.length / PER_PAGE));
  return { items: found.slice((page - 1) * PER_PAGE, page * PER_PAGE), total: found.length, page, totalPages };
}

export function CacheEntriesSection({ registryId }: { registryId: string }) {
  const { api, canWrite } = useSession();
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [sort, setSort] = useState<Sort>('-downloaded_at');
  const [page, setPage] = useState(1);
  const {
    data: listed,
    error,
    loading,
    reload,
  } = useLoad(() => loadEntries(api, registryId, applied, sort, page), [api, registryId, applied, sort, page]);
  const data = listed?.items;
  const { data: upstreams } = useLoad(() => api.get<Upstream[]>(`/registries/${registryId}/upstreams`), [api, registryId]);
  const upstreamName = (id: string) => upstreams?.find((u) => u.id === id)?.name ?? id;
  const act = useAction();
  const [jobs, setJobs] = useState<Job[]>([]);
  const started = (job: Job | undefined) => {
    if (job) setJobs((j) => [job, ...j].slice(0, 5));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setApplied(search.trim());
    setPage(1);
  };
  return (
    <section aria-labelledby="entries-title">
      <h2 id="entries-title">Cache entries</h2>
      <form onSubmit={submit} className="inline" role="search" aria-label="Search cache entries">
        <label>
          Image
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="library/alpine" />
        </label>
        <button type="submit">Search</button>
        <label>
          Sort by
          <select
            value={sort}
            onChange={(e) => {
              setSort(e.target.value as Sort);
              setPage(1);
            }}
          >
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void reload()} disabled={loading}>
          Refresh
        </button>
        {canWrite ? (
          <ConfirmButton
            // With a search applied the purge is of that image only (?image= is an exact image name): the labels say which.
            label={applied ? `Purge image ${applied}` : 'Purge registry cache'}
            confirmLabel={applied ? `Purge every cache entry of image ${applied}` : 'Purge every cache entry of this registry'}
            disabled={act.busy}
            onConfirm={() =>
              void act.run(async () =>
                started(
                  await api.call<Job>('DELETE', `/registries/${registryId}/cache${applied ? `?image=${encodeURIComponent(applied)}` : ''}`),
                ),
              )
            }
          />
        ) : null}
      </form>
      <ErrorMessage error={error ?? act.error} />
      {jobs.map((job) => (
        <JobProgress key={job.id} api={api} job={job} onDone={() => void reload()} />
      ))}
      {data ? (
        data.length === 0 ? (
          <p>No cache entries{applied ? ` matching “${applied}”` : ''}.</p>
        ) : (
          <table aria-label="Cache entries">
            <thead>
              <tr>
                <th scope="col">Path</th>
                <th scope="col">Upstream</th>
                <th scope="col">Size</th>
                <th scope="col">Downloads</th>
                <th scope="col">Last download</th>
                <th scope="col">Status</th>
                {canWrite ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {data.map((e) => (
                <tr key={`${e.upstream_id}:${e.relative_path}`}>
                  <td className="path">{e.relative_path}</td>
                  <td>{upstreamName(e.upstream_id)}</td>
                  <td>{formatBytes(e.size)}</td>
                  <td>{e.downloads_count}</td>
                  <td>{formatTime(e.downloaded_at)}</td>
                  <td>{e.status}</td>
                  {canWrite ? (
                    <td>
                      {e.id === undefined ? (
                        <span className="muted">—</span>
                      ) : (
                        <ConfirmButton
                          label="Delete"
                          confirmLabel={`Delete entry ${e.relative_path}`}
                          disabled={act.busy}
                          onConfirm={() =>
                            void act.run(async () =>
                              started(await api.call<Job>('DELETE', `/cache_entries/${encodeURIComponent(e.id as string)}`)),
                            )
                          }
                        />
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : loading ? (
        <p role="status">Loading…</p>
      ) : null}
      <Pager label="Cache entries" listed={listed} onPage={setPage} />
      {canWrite ? <WarmForm registryId={registryId} onStarted={started} /> : null}
    </section>
  );
}

function WarmForm({ registryId, onStarted }: { registryId: string; onStarted: (job: Job) => void }) {
  const { api } = useSession();
  const [image, setImage] = useState('');
  const [tag, setTag] = useState('latest');
  const [platforms, setPlatforms] = useState('all');
  const warm = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const list =
      platforms.trim() === 'all'
        ? 'all'
        : platforms
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean);
    const job = await warm.run(() =>
      api.call<Job>('POST', `/registries/${registryId}/warm`, { image: image.trim(), tag: tag.trim(), platforms: list }),
    );
    if (job) onStarted(job);
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="card inline" aria-labelledby="warm-title">
      <h3 id="warm-title">Warm up an image</h3>
      <label>
        Image to warm
        <input value={image} onChange={(e) => setImage(e.target.value)} placeholder="library/alpine" required />
      </label>
      <label>
        Tag
        <input value={tag} onChange={(e) => setTag(e.target.value)} required />
      </label>
      <label>
        Platforms
        <input value={platforms} onChange={(e) => setPlatforms(e.target.value)} aria-describedby="platforms-help" />
      </label>
      <span id="platforms-help" className="help">
        all, or a list like linux/amd64, linux/arm64/v8
      </span>
      <button type="submit" disabled={warm.busy}>
        Warm up
      </button>
      <ErrorMessage error={warm.error} />
    </form>
  );
}
