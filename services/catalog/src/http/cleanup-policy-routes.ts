import { z } from 'zod';
import {
  CLEANUP_CADENCES,
  type CleanupPolicy,
  CleanupPolicyStatuses,
  type CleanupRun,
  KEEP_N_DAYS_MAX,
  KEEP_N_DAYS_MIN,
} from '../domain/cleanup-policy.ts';
import type { CleanupPolicies } from '../lifecycle/cleanup-policies.ts';
import { errorResponses, IdParams, NoContent, PageQuery } from './api-schemas.ts';
import { JobJson, toJobJson } from './job-routes.ts';
import { pageRequestOf, setPaginationHeaders } from './pagination.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

const timestamp = z.string().meta({ description: 'ISO-8601 UTC' });

const CleanupPolicyBody = z.strictObject({
  enabled: z.boolean(),
  keep_n_days_after_download: z
    .int()
    .min(KEEP_N_DAYS_MIN)
    .max(KEEP_N_DAYS_MAX)
    .meta({ description: 'Entries not downloaded (or, never downloaded, not cached) for this many days are destroyed' }),
  cadence: z
    .int()
    .refine((n) => (CLEANUP_CADENCES as readonly number[]).includes(n), `must be one of ${CLEANUP_CADENCES.join(', ')}`)
    .meta({ description: `Days between runs: ${CLEANUP_CADENCES.join(', ')}` }),
});

export const CleanupPolicyJson = z.object({
  registry_id: z.string(),
  enabled: z.boolean(),
  keep_n_days_after_download: z.number(),
  cadence: z.number(),
  next_run_at: timestamp,
  last_run_at: timestamp.nullable(),
  last_run_deleted_entries_count: z.number(),
  last_run_deleted_size: z.number().meta({ description: 'Bytes' }),
  status: z.enum(CleanupPolicyStatuses),
  failure_message: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const CleanupRunJson = z.object({
  id: z.string(),
  registry_id: z.string(),
  job_id: z.string(),
  started_at: timestamp,
  finished_at: timestamp,
  keep_n_days_after_download: z.number(),
  deleted_entries_count: z.number(),
  deleted_size: z.number().meta({ description: 'Bytes' }),
  status: z.enum(['succeeded', 'failed']),
});

function toPolicyJson(p: CleanupPolicy): z.input<typeof CleanupPolicyJson> {
  return {
    registry_id: p.registryId,
    enabled: p.enabled,
    keep_n_days_after_download: p.keepNDaysAfterDownload,
    cadence: p.cadence,
    next_run_at: p.nextRunAt.toISOString(),
    last_run_at: p.lastRunAt?.toISOString() ?? null,
    last_run_deleted_entries_count: p.lastRunDeletedEntriesCount,
    last_run_deleted_size: p.lastRunDeletedSize,
    status: p.status,
    failure_message: p.failureMessage,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

function toRunJson(r: CleanupRun): z.input<typeof CleanupRunJson> {
  return {
    id: r.id,
    registry_id: r.registryId,
    job_id: r.jobId,
    started_at: r.startedAt.toISOString(),
    finished_at: r.finishedAt.toISOString(),
    keep_n_days_after_download: r.keepNDaysAfterDownload,
    deleted_entries_count: r.deletedEntriesCount,
    deleted_size: r.deletedSize,
    status: r.status,
  };
}

/** `/registries/:id/cleanup_policy` (GET, PUT, DELETE, POST .../run) and `/registries/:id/cleanup_runs`. */
export const cleanupPolicyRoutes: AdminRoutes<{ cleanup: CleanupPolicies }> = async (app, { cleanup }) => {
  app.get('/registries/:id/cleanup_policy', {
    config: { reach: RouteReaches.registry, summary: 'Get the cleanup policy of a virtual registry (404 when it has none)' },
    schema: { params: IdParams, response: { 200: CleanupPolicyJson, ...errorResponses(401, 403, 404) } },
    handler: async (request) => toPolicyJson(await cleanup.get(request.params.id)),
  });

  app.put('/registries/:id/cleanup_policy', {
    config: {
      reach: RouteReaches.registry,
      summary:
        'Create or replace the cleanup policy of a virtual registry (next run a cadence from now when new, re-enabled or the cadence changes)',
    },
    schema: { params: IdParams, body: CleanupPolicyBody, response: { 200: CleanupPolicyJson, ...errorResponses(400, 401, 403, 404) } },
    handler: async (request) => {
      const { enabled, keep_n_days_after_download, cadence } = request.body;
      return toPolicyJson(await cleanup.put(request.params.id, { enabled, keepNDaysAfterDownload: keep_n_days_after_download, cadence }));
    },
  });

  app.delete('/registries/:id/cleanup_policy', {
    config: { reach: RouteReaches.registry, summary: 'Delete the cleanup policy of a virtual registry (its runs stay listed)' },
    schema: { params: IdParams, response: { 204: NoContent, ...errorResponses(401, 403, 404) } },
    handler: async (request, reply) => {
      await cleanup.delete(request.params.id);
      return reply.status(204).send(undefined);
    },
  });

  app.post('/registries/:id/cleanup_policy/run', {
    config: { reach: RouteReaches.registry, summary: 'Run the cleanup policy now: 202 with the cleanup job' },
    schema: { params: IdParams, response: { 202: JobJson, ...errorResponses(401, 403, 404) } },
    handler: async (request, reply) => reply.status(202).send(toJobJson(await cleanup.runNow(request.params.id))),
  });

  app.get('/registries/:id/cleanup_runs', {
    config: {
      reach: RouteReaches.registry,
      summary: 'List the cleanup runs of a virtual registry, newest first (pagination headers as for registries)',
    },
    schema: { params: IdParams, querystring: PageQuery, response: { 200: z.array(CleanupRunJson), ...errorResponses(400, 401, 403, 404) } },
    handler: async (request, reply) => {
      const page = pageRequestOf(request.query);
      const result = await cleanup.listRuns(request.params.id, page);
      setPaginationHeaders(reply, page, result.total);
      return result.items.map(toRunJson);
    },
  });
};
