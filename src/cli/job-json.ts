/** A long operation of the admin API (`/api/v1/jobs/:id`): purge, cleanup, gc, warm. */
export interface JobJson {
  id: string;
  kind: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  registry_id: string | null;
  params: Record<string, unknown>;
  progress: { objects_done: number; objects_total: number | null; bytes_done: number; bytes_total: number | null };
  result: Record<string, unknown> | null;
  errors: string[];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export function isFinished(job: JobJson): boolean {
  return job.state === 'succeeded' || job.state === 'failed';
}
