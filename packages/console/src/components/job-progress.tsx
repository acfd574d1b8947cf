import { useEffect, useState } from 'react';
import type { Api, Job } from '../api.ts';
import { errorMessage } from '../api.ts';
import { formatBytes } from '../format.ts';

const POLL_MS = 500;

/** Follows a long operation (purge, cleanup, warm-up) until it ends, with its progress and end state. */
export function JobProgress({ api, job: initial, onDone }: { api: Api; job: Job; onDone?: (job: Job) => void }) {
  const [job, setJob] = useState(initial);
  const [pollError, setPollError] = useState<string | undefined>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const next = await api.get<Job>(`/jobs/${encodeURIComponent(initial.id)}`);
        if (stopped) return;
        setJob(next);
        setPollError(undefined);
        if (next.state === 'succeeded' || next.state === 'failed') {
          onDone?.(next);
          return;
        }
      } catch (err) {
        if (stopped) return;
        setPollError(errorMessage(err));
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    if (initial.state === 'succeeded' || initial.state === 'failed') onDone?.(initial);
    else timer = setTimeout(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [initial.id]);

  const { objects_done: done, objects_total: total, bytes_done: bytes, bytes_total: bytesTotal } = job.progress;
  const finished = job.state === 'succeeded' || job.state === 'failed';
  return (
    <section className={`job job-${job.state}`} aria-label={`${job.kind} job ${job.id}`} aria-live="polite">
      <p>
        <strong>
          {job.kind} job {job.id}: {job.state}
        </strong>
      </p>
      <label>
        Progress
        <progress max={total ?? undefined} value={total === null && !finished ? undefined : finished && total === null ? 1 : done}>
          {done}
        </progress>
      </label>
      <p>
        {done}
        {total === null ? '' : ` of ${total}`} objects, {formatBytes(bytes)}
        {bytesTotal === null ? '' : ` of ${formatBytes(bytesTotal)}`}
      </p>
      {job.result !== null && finished ? <pre className="result">{JSON.stringify(job.result, null, 2)}</pre> : null}
      {job.errors.length > 0 ? (
        <ul className="error" role="alert">
          {job.errors.map((e, i) => (
            <li key={i}>{e}</li>
          ))}
        </ul>
      ) : null}
      {pollError ? (
        <p className="error" role="alert">
          {pollError}
        </p>
      ) : null}
    </section>
  );
}
