import type { FailureLimiter } from '@vreg/secrets';
import { UpstreamAddressPolicy } from '@vreg/upstream-client';
import type { FastifyPluginAsync } from 'fastify';
import type { AccessTokens } from '../domain/access-tokens.ts';
import { parseCacheEntryId } from '../domain/cache-entry-id.ts';
import type { CatalogAdmin } from '../domain/catalog-admin.ts';
import type { MirrorHostAdmin } from '../domain/mirror-host-admin.ts';
import type { OverviewStats } from '../domain/overview-stats.ts';
import type { PullPolicies } from '../domain/pull-policies.ts';
import type { UpstreamTests } from '../domain/upstream-tests.ts';
import type { WarmJobs } from '../domain/warm-jobs.ts';
import type { GcRunner } from '../gc/gc-runner.ts';
import type { LifecycleServices } from '../lifecycle/lifecycle-services.ts';
import type { JobRepository } from '../ports/job-repository.ts';
import { accessTokenRoutes } from './access-token-routes.ts';
import { adminAuth } from './admin-auth.ts';
import { adminErrorHandler, adminNotFoundHandler } from './admin-error-handler.ts';
import { cleanupPolicyRoutes } from './cleanup-policy-routes.ts';
import { gcRoutes } from './gc-routes.ts';
import { jobRoutes } from './job-routes.ts';
import { mirrorHostRoutes } from './mirror-host-routes.ts';
import { buildOpenApiDocument, type DocumentedRoute } from './openapi-document.ts';
import { pullPolicyRoutes } from './pull-policy-routes.ts';
import { purgeRoutes } from './purge-routes.ts';
import { registryCacheEntryRoutes } from './registry-cache-entry-routes.ts';
import { registryRoutes } from './registry-routes.ts';
import { type AdminRouteConfig, type RegistryLocator, RouteReaches } from './route-reach.ts';
import { sessionRoutes } from './session-routes.ts';
import { statsRoutes } from './stats-routes.ts';
import { upstreamRoutes } from './upstream-routes.ts';
import { upstreamTestRoutes } from './upstream-test-routes.ts';
import { upstreamUrlGuard } from './upstream-url-guard.ts';
import { usageRoutes } from './usage-routes.ts';
import { warmRoutes } from './warm-routes.ts';
import { type ZodTypeProvider, zodSerializerCompiler, zodValidatorCompiler } from './zod-type-provider.ts';

export interface AdminApiOptions {
  admin: CatalogAdmin;
  /** The bootstrap bearer token; access tokens with the `admin` scope work too. */
  adminToken: string;
  accessTokens: AccessTokens;
  /** Test connection to upstreams (through the fetcher). */
  upstreamTests: UpstreamTests;
  /** Which upstream addresses may be stored or tested (SSRF guard); default public addresses only. */
  upstreamAddressPolicy?: UpstreamAddressPolicy;
  /** Jobs of long operations (purge, cleanup, GC, warm-up), read through `/jobs`. */
  jobs: JobRepository;
  /** Purge, cleanup policies, usage and quota changes; without it those routes are not served. */
  lifecycle?: LifecycleServices;
  /** Garbage collection of objects (`POST /gc`); without it the route is not served. */
  gc?: GcRunner;
  /** Warm-up jobs (`POST /registries/:id/warm`); without it the route is not served. */
  warmJobs?: WarmJobs;
  /** The console's overview numbers; without it `/stats/overview` is not served. */
  stats?: OverviewStats;
  /** Failed authentications per client address (429 past its budget); without it nothing is throttled. */
  authFailures?: FailureLimiter;
  /** Mirror routing (`/registries/:id/mirror_hosts`, `/mirror_hosts`); without it those routes are not served. */
  mirrorHosts?: MirrorHostAdmin;
  /** Pull policies and their refusals; without it those routes are not served. */
  pullPolicies?: PullPolicies;
}

/**
 * The catalog's admin REST API as an encapsulated fastify plugin; register
 * it with `{ prefix: '/api/v1' }`. Its validator, serializer, error and
 * not-found handlers stay inside it, so it mounts beside other plugins (the
 * gateway's OCI API in embedded mode) without touching them.
 *
 * Every route requires `Authorization: Bearer <token>`, the admin token
 * from config or an access token with the `admin` scope (a
 * `read_virtual_registry` token may GET, see admin-auth.ts), except
 * `GET /openapi.json`, which describes the routes and holds no data.
 */
export function createAdminApi(options: AdminApiOptions): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.setValidatorCompiler(zodValidatorCompiler);
    app.setSerializerCompiler(zodSerializerCompiler);
    app.setErrorHandler(adminErrorHandler);
    app.setNotFoundHandler(adminNotFoundHandler);

    const routes: DocumentedRoute[] = [];
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const config = (route.config ?? {}) as AdminRouteConfig;
      for (const method of methods) {
        if (method === 'HEAD') continue;
        routes.push({
          method,
          url: route.url,
          ...(config.summary === undefined ? {} : { summary: config.summary }),
          public: config.public === true,
          ...(config.reach === undefined ? {} : { reach: config.reach }),
          schema: (route.schema ?? {}) as DocumentedRoute['schema'],
        });
      }
    });

    await app.register(async (scope) => {
      const secured = scope.withTypeProvider<ZodTypeProvider>();
      secured.addHook(
        'onRequest',
        adminAuth(options.adminToken, options.accessTokens, {
          locator: registryLocator(options),
          ...(options.authFailures === undefined ? {} : { failures: options.authFailures }),
        }),
      );
      secured.addHook('preHandler', upstreamUrlGuard(options.upstreamAddressPolicy ?? new UpstreamAddressPolicy()));
      // Each group is its own plugin, registered after the hooks above so that it inherits them.
      const { admin, lifecycle } = options;
      await secured.register(sessionRoutes);
      if (options.stats !== undefined) await secured.register(statsRoutes, { stats: options.stats, admin });
      await secured.register(registryRoutes, { admin, ...(lifecycle?.quotaChanged ? { quotaChanged: lifecycle.quotaChanged } : {}) });
      await secured.register(upstreamRoutes, { admin });
      await secured.register(upstreamTestRoutes, { tests: options.upstreamTests });
      await secured.register(accessTokenRoutes, { tokens: options.accessTokens });
      await secured.register(jobRoutes, { jobs: options.jobs });
      await secured.register(registryCacheEntryRoutes, { admin });
      if (options.mirrorHosts !== undefined) await secured.register(mirrorHostRoutes, { mirrors: options.mirrorHosts });
      if (lifecycle !== undefined) {
        await secured.register(purgeRoutes, { purge: lifecycle.purge });
        await secured.register(cleanupPolicyRoutes, { cleanup: lifecycle.cleanup });
        await secured.register(usageRoutes, { usage: lifecycle.usage });
      }
      if (options.gc !== undefined) await secured.register(gcRoutes, { gc: options.gc });
      if (options.warmJobs !== undefined) await secured.register(warmRoutes, { warm: options.warmJobs });
      if (options.pullPolicies !== undefined) await secured.register(pullPolicyRoutes, { policies: options.pullPolicies });
    });

    let document: Record<string, unknown> | undefined;
    app.get('/openapi.json', {
      config: { summary: 'This document', public: true, reach: RouteReaches.caller } satisfies AdminRouteConfig,
      handler: async () => (document ??= buildOpenApiDocument(routes)),
    });
  };
}

/** Where upstreams, cache entries, jobs and access tokens belong, for the reach of restricted tokens. */
function registryLocator(options: AdminApiOptions): RegistryLocator {
  const upstreamRegistry = (id: string) =>
    options.admin.getUpstream(id).then(
      (u) => [u.registryId],
      () => undefined,
    );
  return {
    async registriesOf(reach, id) {
      switch (reach) {
        case RouteReaches.upstream:
          return upstreamRegistry(id);
        case RouteReaches.cacheEntry: {
          const key = parseCacheEntryId(id);
          return key === undefined ? undefined : upstreamRegistry(key.upstreamId);
        }
        case RouteReaches.job: {
          const job = await options.jobs.get(id);
          return job?.registryId == null ? undefined : [job.registryId];
        }
        case RouteReaches.accessToken:
          return options.accessTokens.get(id).then(
            (t) => t.registryIds,
            () => undefined,
          );
      }
    },
  };
}
