import { MIRROR_HOSTS_MAX } from '@vreg/contracts';
import { z } from 'zod';
import type { MirrorHost } from '../domain/mirror-host.ts';
import type { MirrorHostAdmin } from '../domain/mirror-host-admin.ts';
import { adminPrincipalOf, visibleRegistryIds } from './admin-auth.ts';
import { errorResponses, IdParams } from './api-schemas.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

const host = z.string().min(1).max(260);

const MirrorHostsBody = z.strictObject({
  hosts: z
    .array(host)
    .max(MIRROR_HOSTS_MAX)
    .meta({
      description:
        'Upstream registry hosts this registry mirrors (docker.io, ghcr.io, registry.k8s.io, host:port); the whole set, [] for none. ' +
        'index.docker.io and registry-1.docker.io are docker.io. A host belongs to one registry (409 otherwise).',
    }),
});

export const RegistryMirrorHostsJson = z.object({
  registry_id: z.string(),
  hosts: z.array(z.string()).meta({ description: 'Normalised host names, sorted' }),
});

export const MirrorHostJson = z.object({ host: z.string(), registry_id: z.string() });

function toHostsJson(registryId: string, hosts: readonly MirrorHost[]): z.input<typeof RegistryMirrorHostsJson> {
  return { registry_id: registryId, hosts: hosts.map((h) => h.host) };
}

/**
 * `/registries/:id/mirror_hosts` (GET, PUT) and `/mirror_hosts` (GET): mirror
 * routing, where pulls at the root path (`/v2/<image>/...`) go. containerd's
 * `?ns=<host>` picks the registry mirroring that host; no `ns` (Docker's
 * `registry-mirrors`) picks the one mirroring docker.io.
 */
export const mirrorHostRoutes: AdminRoutes<{ mirrors: MirrorHostAdmin }> = async (app, { mirrors }) => {
  app.get('/registries/:id/mirror_hosts', {
    config: {
      reach: RouteReaches.registry,
      summary: 'The upstream hosts a virtual registry mirrors (pulls at the root path naming them go to it)',
    },
    schema: { params: IdParams, response: { 200: RegistryMirrorHostsJson, ...errorResponses(401, 403, 404) } },
    handler: async (request) => toHostsJson(request.params.id, await mirrors.hostsOf(request.params.id)),
  });

  // Which registry mirrors a host decides where every node's root-path pulls go: no restricted token may claim one.
  app.put('/registries/:id/mirror_hosts', {
    config: {
      reach: RouteReaches.global,
      summary: 'Set the upstream hosts a virtual registry mirrors (the whole set; 409 when another registry mirrors one)',
    },
    schema: {
      params: IdParams,
      body: MirrorHostsBody,
      response: { 200: RegistryMirrorHostsJson, ...errorResponses(400, 401, 403, 404, 409) },
    },
    handler: async (request) => toHostsJson(request.params.id, await mirrors.setHosts(request.params.id, request.body.hosts)),
  });

  app.get('/mirror_hosts', {
    config: {
      reach: RouteReaches.filtered,
      summary: 'Every mirrored upstream host and the virtual registry mirroring it, sorted by host',
    },
    schema: { response: { 200: z.array(MirrorHostJson), ...errorResponses(401, 403) } },
    handler: async (request) => {
      // A restricted token sees its registries' hosts only, read registry by registry.
      const visible = visibleRegistryIds(adminPrincipalOf(request));
      return (await mirrors.list(visible === undefined ? {} : { registryIds: visible })).map((m) => ({
        host: m.host,
        registry_id: m.registryId,
      }));
    },
  });
};
