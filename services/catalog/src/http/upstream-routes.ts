import { z } from 'zod';
import type { CatalogAdmin } from '../domain/catalog-admin.ts';
import { refuseCapacityChange } from './admin-auth.ts';
import {
  CacheEntryJson,
  errorResponses,
  IdParams,
  NoContent,
  PageQuery,
  UpstreamCreateBody,
  UpstreamJson,
  UpstreamPatchBody,
} from './api-schemas.ts';
import { pageRequestOf, setPaginationHeaders } from './pagination.ts';
import { toCacheEntryJson, toUpstreamJson } from './presenters.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

/** `/registries/:id/upstreams`, `/upstreams/:id` and `/upstreams/:id/cache_entries`. */
export const upstreamRoutes: AdminRoutes<{ admin: CatalogAdmin }> = async (app, { admin }) => {
  app.post('/registries/:id/upstreams', {
    config: { reach: RouteReaches.registry, summary: 'Add an upstream to a virtual registry (appended unless position is given)' },
    schema: { params: IdParams, body: UpstreamCreateBody, response: { 201: UpstreamJson, ...errorResponses(400, 401, 404) } },
    handler: async (request, reply) => {
      const { name, url, username, password, cache_validity_hours, library_prefix, max_blob_size_bytes, position } = request.body;
      if (max_blob_size_bytes !== undefined) refuseCapacityChange(request, 'max_blob_size_bytes');
      const upstream = await admin.addUpstream(request.params.id, {
        name,
        url,
        cacheValidityHours: cache_validity_hours,
        ...(library_prefix === undefined ? {} : { libraryPrefix: library_prefix }),
        ...(max_blob_size_bytes === undefined ? {} : { maxBlobSizeBytes: max_blob_size_bytes }),
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        ...(position === undefined ? {} : { position }),
      });
      return reply.status(201).send(toUpstreamJson(upstream));
    },
  });

  app.get('/registries/:id/upstreams', {
    config: { reach: RouteReaches.registry, summary: 'List the upstreams of a virtual registry in order (not paginated)' },
    schema: { params: IdParams, response: { 200: z.array(UpstreamJson), ...errorResponses(401, 404) } },
    handler: async (request) => (await admin.listUpstreams(request.params.id)).map(toUpstreamJson),
  });

  app.get('/upstreams/:id', {
    config: { reach: RouteReaches.upstream, summary: 'Get an upstream' },
    schema: { params: IdParams, response: { 200: UpstreamJson, ...errorResponses(401, 404) } },
    handler: async (request) => toUpstreamJson(await admin.getUpstream(request.params.id)),
  });

  app.patch('/upstreams/:id', {
    config: {
      reach: RouteReaches.upstream,
      summary: 'Change an upstream; a new position reorders the list (null removes username or password)',
    },
    schema: { params: IdParams, body: UpstreamPatchBody, response: { 200: UpstreamJson, ...errorResponses(400, 401, 404) } },
    handler: async (request) => {
      const { name, url, username, password, cache_validity_hours, library_prefix, max_blob_size_bytes, position } = request.body;
      if (max_blob_size_bytes !== undefined) refuseCapacityChange(request, 'max_blob_size_bytes');
      const upstream = await admin.updateUpstream(request.params.id, {
        ...(name === undefined ? {} : { name }),
        ...(url === undefined ? {} : { url }),
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        ...(cache_validity_hours === undefined ? {} : { cacheValidityHours: cache_validity_hours }),
        ...(library_prefix === undefined ? {} : { libraryPrefix: library_prefix }),
        ...(max_blob_size_bytes === undefined ? {} : { maxBlobSizeBytes: max_blob_size_bytes }),
        ...(position === undefined ? {} : { position }),
      });
      return toUpstreamJson(upstream);
    },
  });

  app.delete('/upstreams/:id', {
    config: { reach: RouteReaches.upstream, summary: 'Delete an upstream with its cache entries' },
    schema: { params: IdParams, response: { 204: NoContent, ...errorResponses(401, 404) } },
    handler: async (request, reply) => {
      await admin.deleteUpstream(request.params.id);
      return reply.status(204).send(undefined);
    },
  });

  app.get('/upstreams/:id/cache_entries', {
    config: {
      reach: RouteReaches.upstream,
      summary: 'List the cache entries of an upstream by relative path (pagination headers as for registries)',
    },
    schema: { params: IdParams, querystring: PageQuery, response: { 200: z.array(CacheEntryJson), ...errorResponses(400, 401, 404) } },
    handler: async (request, reply) => {
      const page = pageRequestOf(request.query);
      const result = await admin.listCacheEntries(request.params.id, page);
      setPaginationHeaders(reply, page, result.total);
      return result.items.map(toCacheEntryJson);
    },
  });
};
