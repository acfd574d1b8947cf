import { z } from 'zod';
import { CacheEntrySorts } from '../domain/cache-entry.ts';
import type { CatalogAdmin } from '../domain/catalog-admin.ts';
import { CacheEntryJson, errorResponses, IdParams, PageQuery } from './api-schemas.ts';
import { pageRequestOf, setPaginationHeaders } from './pagination.ts';
import { toCacheEntryJson } from './presenters.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

const RegistryCacheEntriesQuery = PageQuery.extend({
  search: z.string().min(1).max(255).optional().meta({ description: 'Substring of the relative path (the image name), case-sensitive' }),
  sort: z.enum(CacheEntrySorts).default('relative_path').meta({ description: 'Field to sort by; a leading - sorts descending' }),
});

/** `GET /registries/:id/cache_entries`. */
export const registryCacheEntryRoutes: AdminRoutes<{ admin: CatalogAdmin }> = async (app, { admin }) => {
  app.get('/registries/:id/cache_entries', {
    config: {
      reach: RouteReaches.registry,
      summary: 'List the cache entries of a virtual registry across its upstreams: search by image, sort, paginate',
    },
    schema: {
      params: IdParams,
      querystring: RegistryCacheEntriesQuery,
      response: { 200: z.array(CacheEntryJson), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const page = pageRequestOf(request.query);
      const { search, sort } = request.query;
      const result = await admin.listRegistryCacheEntries(request.params.id, { sort, ...(search === undefined ? {} : { search }) }, page);
      setPaginationHeaders(reply, page, result.total);
      return result.items.map(toCacheEntryJson);
    },
  });
};
