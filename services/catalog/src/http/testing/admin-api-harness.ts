import { randomBytes } from 'node:crypto';
import { MemoryEventBus } from '@vreg/bus';
import { createLogger } from '@vreg/logging';
import { type FailureLimiter, SecretBox } from '@vreg/secrets';
import { UpstreamAddressPolicy } from '@vreg/upstream-client';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { BusUpstreamProber } from '../../adapters/bus/bus-upstream-prober.ts';
import { MemoryCatalogStore } from '../../adapters/memory/memory-catalog-store.ts';
import { AccessTokens } from '../../domain/access-tokens.ts';
import { CatalogAdmin } from '../../domain/catalog-admin.ts';
import { MirrorHostAdmin } from '../../domain/mirror-host-admin.ts';
import { OverviewStats } from '../../domain/overview-stats.ts';
import { PullPolicies } from '../../domain/pull-policies.ts';
import { UpstreamTests } from '../../domain/upstream-tests.ts';
import { JobWorker } from '../../lifecycle/job-worker.ts';
import { createLifecycleServices, type LifecycleServices } from '../../lifecycle/lifecycle-services.ts';
import { QuotaEnforcer } from '../../lifecycle/quota-enforcer.ts';
import { createAdminApi } from '../admin-api.ts';
import { adminFrameworkErrors, adminRootHandlers } from '../admin-framework-errors.ts';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/** The admin API on a memory store, mounted under `/api/v1` as the runners mount it. */
export interface AdminApiHarness {
  readonly server: FastifyInstance;
  readonly store: MemoryCatalogStore;
  readonly box: SecretBox;
  /** The bus upstream tests go out on; nothing answers them unless a test serves `upstream.test`. */
  readonly bus: MemoryEventBus;
  /** A request with the admin token; `body` is sent as JSON. */
  call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<LightMyRequestResponse>;
  /** Purge, cleanup and usage use cases behind the lifecycle routes. */
  readonly lifecycle: LifecycleServices;
  /** The overview's counts behind `/stats/overview`, on the real clock; tests record traffic into it. */
  readonly stats: OverviewStats;
  /** Pull policies behind their routes; `changed` lists the registries whose gateways were told. */
  readonly pullPolicies: PullPolicies;
  readonly policyChanges: string[];
  /** Runs the queued purge and cleanup jobs now (no worker runs in the background); resolves to how many ran. */
  runJobs(): Promise<number>;
  close(): Promise<void>;
}

/**
 * @param options.upstreamAllowedNetworks the SSRF allow-list; default `['127.0.0.1']`, as every test
 *   harness sets it, so tests may point upstreams at local servers
 * @param options.authFailures the throttle of failed authentications; default none
 */
export async function startAdminApiHarness(
  options: { upstreamTestTimeoutMs?: number; upstreamAllowedNetworks?: string[]; authFailures?: FailureLimiter } = {},
): Promise<AdminApiHarness> {
  const store = new MemoryCatalogStore();
  const box = new SecretBox(randomBytes(32));
  const bus = new MemoryEventBus({ logger: createLogger({ level: 'silent', name: 'admin-api-harness' }) });
  const upstreamTests = new UpstreamTests({
    upstreams: store.upstreams,
    sealer: box,
    prober: new BusUpstreamProber(bus),
    ...(options.upstreamTestTimeoutMs === undefined ? {} : { timeoutMs: options.upstreamTestTimeoutMs }),
  });
  const server = Fastify({ logger: false, frameworkErrors: adminFrameworkErrors });
  adminRootHandlers(server);
  const accessTokens = new AccessTokens({ tokens: store.accessTokens, registries: store.registries, usage: { touch: () => {} } });
  const quota = new QuotaEnforcer({ store, logger: createLogger({ level: 'silent', name: 'admin-api-harness' }), sweepIntervalMs: 0 });
  // A quota set through the API is enforced at once, as app.ts does (there debounced).
  const lifecycle = createLifecycleServices(store, undefined, (registryId) => void quota.enforce(registryId));
  const worker = new JobWorker({
    jobs: store.jobs,
    handlers: { purge: lifecycle.purge.handler, cleanup: lifecycle.cleanup.handler },
    logger: createLogger({ level: 'silent', name: 'admin-api-harness' }),
    pollIntervalMs: 0,
  });
  const stats = new OverviewStats();
  const policyChanges: string[] = [];
  const pullPolicies = new PullPolicies({ store, changed: (registryId) => policyChanges.push(registryId) });
  await server.register(
    createAdminApi({
      admin: new CatalogAdmin(store, box),
      adminToken: TEST_ADMIN_TOKEN,
      accessTokens,
      upstreamTests,
      jobs: store.jobs,
      lifecycle,
      stats,
      mirrorHosts: new MirrorHostAdmin(store),
      pullPolicies,
      upstreamAddressPolicy: new UpstreamAddressPolicy(options.upstreamAllowedNetworks ?? ['127.0.0.1']),
      ...(options.authFailures === undefined ? {} : { authFailures: options.authFailures }),
    }),
    { prefix: '/api/v1' },
  );
  await server.ready();
  return {
    server,
    store,
    box,
    bus,
    lifecycle,
    stats,
    pullPolicies,
    policyChanges,
    runJobs: () => worker.runQueued(),
    call: (method, path, body) =>
      server.inject({
        method,
        url: `/api/v1${path}`,
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        ...(body === undefined ? {} : { payload: body as object }),
      }),
    close: async () => {
      await server.close();
      await bus.close();
    },
  };
}
