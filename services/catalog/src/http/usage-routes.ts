import { z } from 'zod';
import type { RegistryUsageReader } from '../lifecycle/registry-usage.ts';
import { errorResponses, IdParams } from './api-schemas.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

export const RegistryUsageJson = z.object({
  registry_id: z.string(),
  stored_bytes: z.number().meta({ description: 'Bytes of live entries; a digest cached several times in one upstream counts once' }),
  entries_count: z.number(),
  quota_bytes: z.number().nullable().meta({ description: 'max_stored_bytes, or null without a quota' }),
  upstreams: z.array(z.object({ upstream_id: z.string(), name: z.string(), stored_bytes: z.number(), entries_count: z.number() })),
});

/** `GET /registries/:id/usage`. */
export const usageRoutes: AdminRoutes<{ usage: RegistryUsageReader }> = async (app, { usage }) => {
  app.get('/registries/:id/usage', {
    config: { reach: RouteReaches.registry, summary: 'Storage used by a virtual registry, in total and per upstream, and its quota' },
    schema: { params: IdParams, response: { 200: RegistryUsageJson, ...errorResponses(401, 403, 404) } },
    handler: async (request) => {
      const u = await usage.read(request.params.id);
      return {
        registry_id: u.registryId,
        stored_bytes: u.storedBytes,
        entries_count: u.entriesCount,
        quota_bytes: u.quotaBytes,
        upstreams: u.upstreams.map((x) => ({
          upstream_id: x.upstreamId,
          name: x.name,
          stored_bytes: x.storedBytes,
          entries_count: x.entriesCount,
        })),
      };
    },
  });
};
