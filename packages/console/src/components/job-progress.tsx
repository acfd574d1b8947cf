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
        {/* Unknown total: an indeterminate bar while it runs; a full one once it ended. */}
        {finished ? <progress max={1} value={1} /> : total === null || total === 0 ? <progress /> : <progress max={total} value={done} />}
      </label>
      <p>
        {done}
        {total === null ? '' : ` of ${total}`} objects, {formatBytes(bytes)}
        {bytesTotal === null ? '' : ` of ${formatBytes(bytesTotal)}`}
      </p>
      {job.result !== null && finished ? <JobResult result={job.result} /> : null}
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

/** A job's end result as name/value pairs: counts as numbers, sizes and bytes in units, lists by length. */
function JobResult({ result }: { result: Record<string, unknown> }) {
  const show = (key: string, value: unknown): string => {
    if (typeof value === 'number' && /size|bytes/.test(key)) return formatBytes(value);
    if (Array.isArray(value)) return value.length <= 3 ? value.join(', ') : `${value.length} items`;
    if (value !== null && typeof value === 'object') return JSON.stringify(value);
    return String(value);
  };
  return (
    <dl className="result">
      {Object.entries(result).map(([key, value]) => (
        <div key={key}>
          <dt>{key.replaceAll('_', ' ')}</dt>
          <dd>{show(key, value)}</dd>
        </div>
      ))}
    </dl>
  );
}
