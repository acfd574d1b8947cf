import { NotFoundError } from '@vreg/contracts';
import { z } from 'zod';
import { type Job, JobKinds, JobStates } from '../domain/job.ts';
import type { JobRepository } from '../ports/job-repository.ts';
import { adminPrincipalOf, visibleRegistryIds } from './admin-auth.ts';
import { errorResponses, IdParams, PageQuery } from './api-schemas.ts';
import { pageRequestOf, setPaginationHeaders } from './pagination.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

const timestamp = z.string().meta({ description: 'ISO-8601 UTC' });

/** A job as the API shows it (lifecycle contract: snake_case, ISO times). Routes that start a job answer 202 with it. */
export const JobJson = z.object({
  id: z.string(),
  kind: z.enum(JobKinds),
  state: z.enum(JobStates),
  registry_id: z.string().nullable(),
  params: z.record(z.string(), z.unknown()).meta({ description: 'What was asked (kind-specific)' }),
  progress: z.object({
    objects_done: z.number(),
    objects_total: z.number().nullable(),
    bytes_done: z.number(),
    bytes_total: z.number().nullable(),
  }),
  result: z.record(z.string(), z.unknown()).nullable().meta({ description: 'Kind-specific end result; null until finished' }),
  errors: z.array(z.string()).meta({ description: 'Human-readable messages, at most 100' }),
  created_at: timestamp,
  started_at: timestamp.nullable(),
  finished_at: timestamp.nullable(),
});

export function toJobJson(job: Job): z.input<typeof JobJson> {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    registry_id: job.registryId,
    params: { ...job.params },
    progress: {
      objects_done: job.progress.objectsDone,
      objects_total: job.progress.objectsTotal,
      bytes_done: job.progress.bytesDone,
      bytes_total: job.progress.bytesTotal,
    },
    result: job.result === null ? null : { ...job.result },
    errors: [...job.errors],
    created_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
  };
}

const JobListQuery = PageQuery.extend({
  kind: z.enum(JobKinds).optional(),
  registry_id: z.string().min(1).max(64).optional(),
});

/** `GET /jobs/:id` and `GET /jobs`. */
export const jobRoutes: AdminRoutes<{ jobs: JobRepository }> = async (app, { jobs }) => {
  app.get('/jobs/:id', {
    config: { reach: RouteReaches.job, summary: 'Get a job (purge, cleanup, gc, warm): state, progress, result, errors' },
    schema: { params: IdParams, response: { 200: JobJson, ...errorResponses(401, 404) } },
    handler: async (request) => {
      const job = await jobs.get(request.params.id);
      if (job === undefined) throw new NotFoundError('job not found', { jobId: request.params.id });
      return toJobJson(job);
    },
  });

  app.get('/jobs', {
    config: {
      reach: RouteReaches.filtered,
      summary: 'List jobs, newest first, optionally of one kind or registry (pagination headers as for registries)',
    },
    schema: { querystring: JobListQuery, response: { 200: z.array(JobJson), ...errorResponses(400, 401) } },
    handler: async (request, reply) => {
      const page = pageRequestOf(request.query);
      const { kind, registry_id } = request.query;
      const visible = visibleRegistryIds(adminPrincipalOf(request));
      const result = await jobs.list(
        {
          ...(kind === undefined ? {} : { kind }),
          ...(registry_id === undefined ? {} : { registryId: registry_id }),
          // A restricted token sees its registries' jobs only, counted in the query; never GC's store-wide ones.
          ...(visible === undefined ? {} : { registryIds: visible }),
        },
        page,
      );
      setPaginationHeaders(reply, page, result.total);
      return result.items.map(toJobJson);
    },
  });
};
