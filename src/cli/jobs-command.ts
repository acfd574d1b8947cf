import { type AdminApiClient, queryOf } from './admin-api-client.ts';
import { idArg, intArg, parseCommand } from './cli-args.ts';
import { type CliIo, UsageError } from './cli-io.ts';
import { formatTable } from './format-table.ts';
import { followJob, reportJob } from './job-follow.ts';
import type { JobJson } from './job-json.ts';
import { describeProgress } from './job-progress.ts';
import { describeJobResult } from './job-reports.ts';
import { formatRecord } from './print-record.ts';

const KINDS = ['purge', 'cleanup', 'gc', 'warm'] as const;

export const JOBS_USAGE = `Usage:
  vreg jobs list [--kind ${KINDS.join('|')}] [--registry <id>] [--limit <n, default 20>] [--json]
  vreg jobs show <id> [--json]
  vreg jobs wait <id> [--json]

Purge, cleanup, gc and warm run as jobs; list shows the newest first. wait follows one to its end (a
progress bar on a terminal) and exits 1 if it failed.`;

export async function jobsCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list': {
      const { values } = parseCommand(
        'jobs list',
        rest,
        { kind: { type: 'string' }, registry: { type: 'string' }, limit: { type: 'string' } },
        { min: 0, max: 0, what: 'options only' },
      );
      if (values.kind !== undefined && !(KINDS as readonly string[]).includes(values.kind))
        throw new UsageError(`--kind is one of ${KINDS.join(', ')}`);
      const registry = values.registry === undefined ? undefined : idArg(values.registry, '--registry');
      // The newest page only: job history grows without bound.
      const limit = values.limit === undefined ? 20 : intArg(values.limit, 'limit', { min: 1, max: 100 });
      const { body: jobs } = await api.request<JobJson[]>(
        'GET',
        `/jobs${queryOf({ kind: values.kind, registry_id: registry, page: 1, per_page: limit })}`,
      );
      if (values.json) return io.out(JSON.stringify(jobs, null, 2));
      io.out(
        formatTable(
          ['ID', 'KIND', 'STATE', 'REGISTRY', 'PROGRESS', 'ERRORS', 'CREATED'],
          jobs.map((j) => [j.id, j.kind, j.state, j.registry_id ?? '-', describeProgress(j), String(j.errors.length), j.created_at]),
        ),
      );
      return;
    }
    case 'show': {
      const { values, positionals } = parseCommand('jobs show', rest, {}, { min: 1, max: 1, what: 'a job id' });
      const id = idArg(positionals[0], 'the job id');
      const { body: job } = await api.request<JobJson>('GET', `/jobs/${id}`);
      if (values.json) return io.out(JSON.stringify(job, null, 2));
      io.out(
        formatRecord([
          ['job', `${job.id} (${job.kind})`],
          ['state', job.state],
          ['registry', job.registry_id ?? '-'],
          ['params', JSON.stringify(job.params)],
          ['progress', describeProgress(job)],
          ['created', job.created_at],
          ['started', job.started_at ?? '-'],
          ['finished', job.finished_at ?? '-'],
        ]),
      );
      const result = describeJobResult(job);
      if (result !== '') io.out(`result:\n${result.replace(/^/gm, '  ')}`);
      if (job.errors.length > 0) io.out(`errors:\n${job.errors.map((e) => `  ${e}`).join('\n')}`);
      return;
    }
    case 'wait': {
      const { values, positionals } = parseCommand('jobs wait', rest, {}, { min: 1, max: 1, what: 'a job id' });
      const id = idArg(positionals[0], 'the job id');
      const { body: job } = await api.request<JobJson>('GET', `/jobs/${id}`);
      const finished = await followJob(api, io, job, { label: `${job.kind} job ${job.id}`, quiet: values.json === true });
      reportJob(finished, io, { json: values.json === true });
      return;
    }
    default:
      throw new UsageError(sub === undefined ? JOBS_USAGE : `unknown jobs command ${JSON.stringify(sub)}\n\n${JOBS_USAGE}`);
  }
}
