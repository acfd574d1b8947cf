import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, type CleanupPolicy, type Job } from '../api.ts';
import { JobProgress } from '../components/job-progress.tsx';
import { ConfirmButton, ErrorMessage, useAction, useLoad } from '../components/status.tsx';
import { formatBytes, formatTime } from '../format.ts';
import { useSession } from '../session.ts';

const CADENCES = [1, 7, 14, 30, 90];

/** The registry's cleanup policy (GitLab's shape), its last run's counts, and a run-now button with progress. */
export function CleanupPolicySection({ registryId }: { registryId: string }) {
  const { api, canWrite } = useSession();
  const { data, error, reload } = useLoad(async () => {
    try {
      return await api.get<CleanupPolicy>(`/registries/${registryId}/cleanup_policy`);
    } catch (err) {
      // No policy yet is a 404 with the registry's own message; a missing route is an error to show.
      if (err instanceof ApiError && err.status === 404 && err.message !== 'route not found') return null;
      throw err;
    }
  }, [api, registryId]);
  const [enabled, setEnabled] = useState(true);
  const [keepDays, setKeepDays] = useState('30');
  const [cadence, setCadence] = useState('7');
  const save = useAction();
  const [job, setJob] = useState<Job | undefined>();
  useEffect(() => {
    if (!data) return;
    setEnabled(data.enabled);
    setKeepDays(String(data.keep_n_days_after_download));
    setCadence(String(data.cadence));
  }, [data]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await save.run(() =>
      api.call<CleanupPolicy>('PUT', `/registries/${registryId}/cleanup_policy`, {
        enabled,
        keep_n_days_after_download: Number(keepDays),
        cadence: Number(cadence),
      }),
    );
    if (done) await reload();
  };
  return (
    <section aria-labelledby="cleanup-title">
      <h2 id="cleanup-title">Cleanup policy</h2>
      <p className="help">Removes cache entries not downloaded for a number of days, on a schedule.</p>
      <ErrorMessage error={error} />
      {data ? (
        <dl className="stats" aria-label="Last cleanup run">
          <div>
            <dt>Status</dt>
            <dd>{data.status}</dd>
          </div>
          <div>
            <dt>Last run</dt>
            <dd>{formatTime(data.last_run_at)}</dd>
          </div>
          <div>
            <dt>Entries deleted</dt>
            <dd>{data.last_run_deleted_entries_count}</dd>
          </div>
          <div>
            <dt>Bytes freed</dt>
            <dd>{formatBytes(data.last_run_deleted_size)}</dd>
          </div>
          <div>
            <dt>Next run</dt>
            <dd>{formatTime(data.next_run_at)}</dd>
          </div>
        </dl>
      ) : data === null ? (
        <p>This registry has no cleanup policy.</p>
      ) : null}
      {data?.failure_message ? (
        <p className="error" role="alert">
          Last run failed: {data.failure_message}
        </p>
      ) : null}
      {canWrite ? (
        <form onSubmit={(e) => void submit(e)} className="card inline" aria-label="Cleanup policy settings">
          <label className="check">
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
          </label>
          <label>
            Keep entries downloaded in the last (days)
            <input type="number" min={1} max={365} value={keepDays} onChange={(e) => setKeepDays(e.target.value)} required />
          </label>
          <label>
            Run every
            <select value={cadence} onChange={(e) => setCadence(e.target.value)}>
              {CADENCES.map((c) => (
                <option key={c} value={c}>
                  {c} {c === 1 ? 'day' : 'days'}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={save.busy}>
            Save policy
          </button>
          {data ? (
            <>
              <button
                type="button"
                disabled={save.busy}
                onClick={() =>
                  void save.run(async () => setJob(await api.call<Job>('POST', `/registries/${registryId}/cleanup_policy/run`)))
                }
              >
                Run cleanup now
              </button>
              <ConfirmButton
                label="Delete policy"
                confirmLabel="Delete the cleanup policy"
                onConfirm={() =>
                  void save.run(async () => {
                    await api.call('DELETE', `/registries/${registryId}/cleanup_policy`);
                    await reload();
                  })
                }
              />
            </>
          ) : null}
          <ErrorMessage error={save.error} />
        </form>
      ) : null}
      {job ? <JobProgress api={api} job={job} onDone={() => void reload()} /> : null}
    </section>
  );
}
