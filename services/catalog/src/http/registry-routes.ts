import { z } from 'zod';
import type { CatalogAdmin } from '../domain/catalog-admin.ts';
import { adminPrincipalOf, refuseCapacityChange, visibleRegistryIds } from './admin-auth.ts';
import { errorResponses, IdParams, NoContent, PageQuery, RegistryCreateBody, RegistryJson, RegistryPatchBody } from './api-schemas.ts';
import { pageRequestOf, setPaginationHeaders } from './pagination.ts';
import { toRegistryJson } from './presenters.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

/** `/registries` and `/registries/:id`. */
export const registryRoutes: AdminRoutes<{ admin: CatalogAdmin; quotaChanged?: (registryId: string) => void }> = async (
  app,
  { admin, quotaChanged },
) => {
  app.post('/registries', {
    config: { reach: RouteReaches.global, summary: 'Create a virtual registry' },
    schema: { body: RegistryCreateBody, response: { 201: RegistryJson, ...errorResponses(400, 401, 409) } },
    handler: async (request, reply) => {
      const registry = await admin.createRegistry({
        name: request.body.name,
        ...(request.body.description === undefined ? {} : { description: request.body.description }),
        visibility: request.body.visibility,
        ...(request.body.max_stored_bytes == null ? {} : { maxStoredBytes: request.body.max_stored_bytes }),
      });
      if (registry.maxStoredBytes !== undefined) quotaChanged?.(registry.id);
      return reply.status(201).send(toRegistryJson(registry));
    },
  });

  app.get('/registries', {
    config: {
      reach: RouteReaches.filtered,
      summary: 'List virtual registries by id (X-Total, X-Total-Pages, X-Page, X-Per-Page, X-Next-Page, X-Prev-Page headers)',
    },
    schema: { querystring: PageQuery, response: { 200: z.array(RegistryJson), ...errorResponses(400, 401) } },
    handler: async (request, reply) => {
      const page = pageRequestOf(request.query);
      // A restricted token's registries are chosen in the query, so X-Total and the pages count only those.
      const visible = visibleRegistryIds(adminPrincipalOf(request));
      const result = await admin.listRegistries(page, visible === undefined ? {} : { ids: visible });
      setPaginationHeaders(reply, page, result.total);
      return result.items.map(toRegistryJson);
    },
  });

  app.get('/registries/:id', {
    config: { reach: RouteReaches.registry, summary: 'Get a virtual registry' },
    schema: { params: IdParams, response: { 200: RegistryJson, ...errorResponses(401, 404) } },
    handler: async (request) => toRegistryJson(await admin.getRegistry(request.params.id)),
  });

  app.patch('/registries/:id', {
    config: {
      reach: RouteReaches.registry,
      summary: 'Change a virtual registry (null removes the description; visibility private or public)',
    },
    schema: { params: IdParams, body: RegistryPatchBody, response: { 200: RegistryJson, ...errorResponses(400, 401, 404, 409) } },
    handler: async (request) => {
      const { name, description, visibility, max_stored_bytes } = request.body;
      if (max_stored_bytes !== undefined) refuseCapacityChange(request, 'max_stored_bytes');
      const registry = await admin.updateRegistry(request.params.id, {
        ...(name === undefined ? {} : { name }),
        ...(description === undefined ? {} : { description }),
        ...(visibility === undefined ? {} : { visibility }),
        ...(max_stored_bytes === undefined ? {} : { maxStoredBytes: max_stored_bytes }),
      });
      if (max_stored_bytes != null) quotaChanged?.(registry.id);
      return toRegistryJson(registry);
    },
  });

  app.delete('/registries/:id', {
    config: { reach: RouteReaches.registry, summary: 'Delete a virtual registry with its upstreams and their cache entries' },
    schema: { params: IdParams, response: { 204: NoContent, ...errorResponses(401, 404) } },
    handler: async (request, reply) => {
      await admin.deleteRegistry(request.params.id);
      return reply.status(204).send(undefined);
    },
  });
};
