import { isRepositoryName, isTag } from '@vreg/oci';
import { z } from 'zod';
import { MAX_CACHE_ENTRY_ID_LENGTH } from '../domain/cache-entry-id.ts';
import type { PurgeJobs } from '../lifecycle/purge-jobs.ts';
import { errorResponses, IdParams } from './api-schemas.ts';
import { JobJson, toJobJson } from './job-routes.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

const PurgeQuery = z
  .strictObject({
    image: z
      .string()
      .refine(isRepositoryName, 'must be a repository name, e.g. library/alpine')
      .optional()
      .meta({ description: 'Purge only this image (its manifests and blobs)' }),
    tag: z.string().refine(isTag, 'must be a tag').optional().meta({ description: 'With image: purge only this tag' }),
  })
  .refine((q) => q.tag === undefined || q.image !== undefined, { message: 'tag needs image', path: ['tag'] });

const EntryIdParams = z.object({
  id: z.string().min(1).max(MAX_CACHE_ENTRY_ID_LENGTH).meta({ description: 'Cache entry id (the `id` field of an entry)' }),
});

/** `DELETE /registries/:id/cache`, `/upstreams/:id/cache`, `/cache_entries/:id`: 202 with the purge job. */
export const purgeRoutes: AdminRoutes<{ purge: PurgeJobs }> = async (app, { purge }) => {
  app.delete('/registries/:id/cache', {
    config: {
      reach: RouteReaches.registry,
      summary: 'Purge the cache of a virtual registry, or of one image (?image=) or tag (?image=&tag=): 202 with the purge job',
    },
    schema: { params: IdParams, querystring: PurgeQuery, response: { 202: JobJson, ...errorResponses(400, 401, 403, 404) } },
    handler: async (request, reply) => {
      const { image, tag } = request.query;
      const job = await purge.purgeRegistry(request.params.id, {
        ...(image === undefined ? {} : { image }),
        ...(tag === undefined ? {} : { tag }),
      });
      return reply.status(202).send(toJobJson(job));
    },
  });

  app.delete('/upstreams/:id/cache', {
    config: { reach: RouteReaches.upstream, summary: 'Purge the cache entries of one upstream: 202 with the purge job' },
    schema: { params: IdParams, response: { 202: JobJson, ...errorResponses(401, 403, 404) } },
    handler: async (request, reply) => reply.status(202).send(toJobJson(await purge.purgeUpstream(request.params.id))),
  });

  app.delete('/cache_entries/:id', {
    config: { reach: RouteReaches.cacheEntry, summary: 'Purge one cache entry: 202 with the purge job' },
    schema: { params: EntryIdParams, response: { 202: JobJson, ...errorResponses(401, 403, 404) } },
    handler: async (request, reply) => reply.status(202).send(toJobJson(await purge.purgeEntry(request.params.id))),
  });
};
